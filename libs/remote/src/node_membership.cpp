//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle::remote::node: heartbeats, peers, statistics and metrics.

#include "node_impl.hpp"

namespace spindle::remote::detail {

void node_impl::send_heartbeat(bool leaving) noexcept
{
    if(!conn_)
        return;
    try
    {
        boost::json::object o;
        o["node"] = id_str_;
        o["name"] = opts_.name;
        o["interval_ms"] = opts_.heartbeat_interval.count();
        o["state"] = leaving ? "leaving" : "up";
        boost::json::array names;
        {
            std::lock_guard lk(mutex_);
            for(auto& [n, p] : published_)
                names.emplace_back(n);
        }
        o["actors"] = std::move(names);
        auto s = boost::json::serialize(o);
        natsConnection_Publish(conn_, (prefix_ + ".hb." + id_str_).c_str(), s.data(), static_cast<int>(s.size()));
    }
    catch(...)
    {
    }
}

void node_impl::on_heartbeat(natsMsg* m) noexcept
{
    try
    {
        auto jv = boost::json::parse(data_of(m));
        auto const& o = jv.as_object();
        auto id = node_id::from_string(std::string(o.at("node").as_string()));
        if(id == id_)
            return;
        std::string name(o.at("name").as_string());
        if(o.at("state").as_string() == "leaving")
        {
            node_lost(id, exit_reason::shutdown, "node " + name + " left");
            return;
        }
        peer p;
        p.name = std::move(name);
        p.last_seen = std::chrono::steady_clock::now();
        p.interval = std::chrono::milliseconds(o.at("interval_ms").to_number<std::int64_t>());
        for(auto const& a : o.at("actors").as_array())
            p.actors.emplace_back(a.as_string());
        std::lock_guard lk(mutex_);
        peers_[id] = std::move(p);
        watch_since_.erase(id);
    }
    catch(std::exception const& ex)
    {
        decode_errors_.fetch_add(1, std::memory_order_relaxed);
        SPINDLE_LOG(debug, "remote") << "node " << opts_.name << ": malformed heartbeat: " << ex.what();
    }
}

void node_impl::heartbeat_loop() noexcept
{
    std::unique_lock lk(hb_mutex_);
    while(!hb_stop_)
    {
        hb_cv_.wait_for(lk, opts_.heartbeat_interval);
        if(hb_stop_)
            break;
        lk.unlock();
        send_heartbeat(false);
        auto const now = std::chrono::steady_clock::now();
        std::vector<std::pair<node_id, std::string>> lost;
        {
            std::lock_guard g(mutex_);
            for(auto& [id, p] : peers_)
                if(now - p.last_seen > p.interval * opts_.heartbeat_misses + opts_.heartbeat_interval / 2)
                    lost.emplace_back(id, p.name);
            // a node watched but never heard from is lost after the same bound
            for(auto& [id, since] : watch_since_)
                if(!peers_.count(id) && now - since > opts_.heartbeat_interval * opts_.heartbeat_misses)
                    lost.emplace_back(id, id.to_string());
            // asks whose caller has given up (timeout) free their entries
            for(auto it = pending_.begin(); it != pending_.end();)
            {
                if(it->second.entry && it->second.entry->done(it->second.reply))
                {
                    it->second.entry->release(it->second.reply);
                    it = pending_.erase(it);
                }
                else
                {
                    ++it;
                }
            }
        }
        for(auto& [id, name] : lost)
        {
            SPINDLE_LOG(warning, "remote") << "node " << opts_.name << ": peer " << name << " lost (no heartbeat)";
            publish_event("peer " + name + " lost");
            node_lost(id, exit_reason::failure, "node lost: " + name + " missed " +
                std::to_string(opts_.heartbeat_misses) + " heartbeats");
        }
        lk.lock();
    }
}

node_stats node_impl::stats() const
{
    auto const& n = *this;
    node_stats s;
    natsConnStatus st = n.conn_ ? natsConnection_Status(n.conn_) : NATS_CONN_STATUS_CLOSED;
    switch(st)
    {
    case NATS_CONN_STATUS_CONNECTED: s.connection = "connected"; break;
    case NATS_CONN_STATUS_RECONNECTING: s.connection = "reconnecting"; break;
    case NATS_CONN_STATUS_CONNECTING: s.connection = "connecting"; break;
    case NATS_CONN_STATUS_DISCONNECTED: s.connection = "disconnected"; break;
    case NATS_CONN_STATUS_DRAINING_SUBS:
    case NATS_CONN_STATUS_DRAINING_PUBS: s.connection = "draining"; break;
    default: s.connection = "closed"; break;
    }
    s.connected = st == NATS_CONN_STATUS_CONNECTED;
    s.reconnects = n.reconnects_.load();
    if(n.conn_ && !n.closed_.load())
    {
        natsStatistics* stats = nullptr;
        if(natsStatistics_Create(&stats) == NATS_OK)
        {
            std::uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0, reconnected = 0;
            if(natsConnection_GetStats(n.conn_, stats) == NATS_OK &&
                natsStatistics_GetCounts(stats, &in_msgs, &in_bytes, &out_msgs, &out_bytes, &reconnected) == NATS_OK)
            {
                s.messages_in = in_msgs;
                s.bytes_in = in_bytes;
                s.messages_out = out_msgs;
                s.bytes_out = out_bytes;
            }
            natsStatistics_Destroy(stats);
        }
    }
    s.sends_refused = n.sends_refused_.load();
    s.decode_errors = n.decode_errors_.load();
    s.undeliverable = n.undeliverable_.load();
    s.asks_lost = n.asks_lost_.load();
    std::lock_guard lk(n.mutex_);
    if(!n.closed_.load())
    {
        auto dropped = [](natsSubscription* sub) {
            int64_t d = 0;
            return sub && natsSubscription_GetDropped(sub, &d) == NATS_OK ? static_cast<std::uint64_t>(d) : 0;
        };
        for(auto* sub : n.subs_)
            s.slow_consumer_drops += dropped(sub);
        for(auto& [name, p] : n.published_)
            s.slow_consumer_drops += dropped(p->sub);
    }
    for(auto& [id, p] : n.pending_)
        if(p.entry && !p.entry->done(p.reply))
            ++s.asks_in_flight;
    s.peers = n.peers_.size();
    for(auto& [id, cells] : n.watched_)
        s.monitors += cells.size();
    s.monitored = n.monitored_.load();
    return s;
}

void node_impl::add_metrics()
{
    auto& reg = sys_.metrics();
    std::weak_ptr<node_impl> weak = weak_from_this();
    using field = double (*)(node_stats const&);
    auto add = [&](char const* name, char const* help, metrics::metric_type type, field f) {
        collectors_.push_back(reg.add_collector(name, help, type, [weak, f](std::vector<metrics::sample>& out) {
            if(auto n = weak.lock())
                out.emplace_back(metrics::labels_type{{"node", n->opts_.name}}, f(n->stats()));
        }));
    };
    using mt = metrics::metric_type;
    add("spindle_remote_connected", "1 while the node's NATS connection is up", mt::gauge,
        [](node_stats const& s) { return s.connected ? 1.0 : 0.0; });
    add("spindle_remote_reconnects_total", "NATS reconnections", mt::counter,
        [](node_stats const& s) { return double(s.reconnects); });
    add("spindle_remote_messages_in_total", "NATS messages received by the node", mt::counter,
        [](node_stats const& s) { return double(s.messages_in); });
    add("spindle_remote_messages_out_total", "NATS messages sent by the node", mt::counter,
        [](node_stats const& s) { return double(s.messages_out); });
    add("spindle_remote_bytes_in_total", "NATS payload bytes received by the node", mt::counter,
        [](node_stats const& s) { return double(s.bytes_in); });
    add("spindle_remote_bytes_out_total", "NATS payload bytes sent by the node", mt::counter,
        [](node_stats const& s) { return double(s.bytes_out); });
    add("spindle_remote_slow_consumer_drops_total", "messages cnats dropped because a subscription fell behind",
        mt::counter, [](node_stats const& s) { return double(s.slow_consumer_drops); });
    add("spindle_remote_sends_refused_total", "sends refused (not connected, payload too large, buffer full)",
        mt::counter, [](node_stats const& s) { return double(s.sends_refused); });
    add("spindle_remote_decode_errors_total", "inbound messages that could not be read", mt::counter,
        [](node_stats const& s) { return double(s.decode_errors); });
    add("spindle_remote_undeliverable_total", "inbound messages for unknown actors or refused by a full mailbox",
        mt::counter, [](node_stats const& s) { return double(s.undeliverable); });
    add("spindle_remote_asks_in_flight", "asks sent and not yet answered", mt::gauge,
        [](node_stats const& s) { return double(s.asks_in_flight); });
    add("spindle_remote_asks_lost_total", "asks ended because the NATS connection was lost", mt::counter,
        [](node_stats const& s) { return double(s.asks_lost); });
    add("spindle_remote_peers", "live peer nodes", mt::gauge, [](node_stats const& s) { return double(s.peers); });
}

} // namespace spindle::remote::detail
