//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle::remote::node: monitors across nodes and control messages (stop, watch, down).

#include "node_impl.hpp"

namespace spindle::remote::detail {

void node_impl::watch(actor_cell& c, std::string const& node, actor_id const& actor, std::string const& name)
{
    if(node.empty())
    {
        // a name: ask whoever serves it to watch its actor for us
        auto rid = next_reply_.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard lk(mutex_);
            pending_.emplace(rid, pending_ask{nullptr, nullptr, boost::intrusive_ptr<actor_cell>(&c)});
        }
        msg_ptr m;
        auto reply = reply_subject(rid);
        if(natsMsg_Create(&m.m, name_subject(name).c_str(), reply.c_str(), nullptr, 0) == NATS_OK)
        {
            natsMsgHeader_Set(m.m, h_control, "monitor");
            natsMsgHeader_Set(m.m, "Spindle-From", id_str_.c_str());
            if(conn_ && natsConnection_PublishMsg(conn_, m.m) == NATS_OK)
                return;
        }
        std::lock_guard lk(mutex_);
        pending_.erase(rid);
        c.end_proxy(exit_reason::failure, "noconnection: cannot reach NATS");
        return;
    }
    boost::system::error_code ec;
    auto nid = node_id::from_string(node, ec);
    if(ec)
    {
        c.end_proxy(exit_reason::failure, "noproc: malformed node id");
        return;
    }
    {
        std::lock_guard lk(mutex_);
        watched_[actor].emplace_back(&c);
        watched_by_node_[nid].insert(actor);
        watch_since_.try_emplace(nid, std::chrono::steady_clock::now());
    }
    boost::json::object o;
    o["op"] = "monitor";
    o["actor"] = actor.to_string();
    o["from"] = id_str_;
    send_control(ctl_subject(node), o);
}

void node_impl::remote_down(actor_id const& actor, exit_reason why, std::string const& what) noexcept
{
    std::vector<boost::intrusive_ptr<actor_cell>> cells;
    {
        std::lock_guard lk(mutex_);
        auto it = watched_.find(actor);
        if(it == watched_.end())
            return;
        cells.swap(it->second);
        watched_.erase(it);
    }
    for(auto& c : cells)
        c->end_proxy(why, what);
}

void node_impl::node_lost(node_id const& n, exit_reason why, std::string const& what) noexcept
{
    std::vector<boost::intrusive_ptr<actor_cell>> cells;
    {
        std::lock_guard lk(mutex_);
        peers_.erase(n);
        watch_since_.erase(n);
        auto it = watched_by_node_.find(n);
        if(it == watched_by_node_.end())
            return;
        for(auto const& a : it->second)
        {
            auto w = watched_.find(a);
            if(w == watched_.end())
                continue;
            cells.insert(cells.end(), w->second.begin(), w->second.end());
            watched_.erase(w);
        }
        watched_by_node_.erase(it);
    }
    for(auto& c : cells)
        c->end_proxy(why, what);
}

void node_impl::local_down(down const& d, std::vector<node_id> const& to) noexcept
{
    {
        std::lock_guard lk(mutex_);
        exports_.erase(d.actor);
    }
    for(auto const& n : to)
    {
        try
        {
            boost::json::object o;
            o["op"] = "down";
            o["actor"] = d.actor.to_string();
            o["reason"] = to_string(d.reason);
            o["what"] = d.what;
            send_control(ctl_subject(n.to_string()), o);
        }
        catch(...)
        {
        }
    }
}

void node_impl::export_actor(actor_cell* cell, in_table const& in)
{
    bool fresh = false;
    {
        std::lock_guard lk(mutex_);
        fresh = exports_.try_emplace(cell->id_, target{boost::intrusive_ptr<actor_cell>(cell), &in}).second;
    }
    if(fresh && watcher_)
        watcher_.try_tell(watch_cmd{boost::intrusive_ptr<actor_cell>(cell), node_id{}});
}

void node_impl::on_control(natsMsg* m) noexcept
{
    try
    {
        auto jv = boost::json::parse(data_of(m));
        auto const& o = jv.as_object();
        std::string_view op = o.at("op").as_string();
        auto actor = actor_id::from_string(std::string(o.at("actor").as_string()));
        if(op == "down")
        {
            std::string_view r = o.at("reason").as_string();
            exit_reason why = r == "normal" ? exit_reason::normal
                : r == "shutdown"           ? exit_reason::shutdown
                                            : exit_reason::failure;
            remote_down(actor, why, std::string(o.at("what").as_string()));
            return;
        }
        target t;
        {
            std::lock_guard lk(mutex_);
            if(auto it = exports_.find(actor); it != exports_.end())
                t = it->second;
            else
                for(auto& [name, p] : published_)
                    if(p->to.cell->id_ == actor)
                        t = p->to;
        }
        if(op == "monitor")
        {
            auto from = node_id::from_string(std::string(o.at("from").as_string()));
            if(!t.cell)
            {
                boost::json::object d;
                d["op"] = "down";
                d["actor"] = actor.to_string();
                d["reason"] = "failure";
                d["what"] = "noproc: no such actor on node " + opts_.name;
                send_control(ctl_subject(from.to_string()), d);
                return;
            }
            watcher_.try_tell(watch_cmd{t.cell, from});
        }
        else if(op == "stop" && t.cell)
        {
            basic_actor_ref(t.cell).stop();
        }
    }
    catch(std::exception const& ex)
    {
        decode_errors_.fetch_add(1, std::memory_order_relaxed);
        SPINDLE_LOG(warning, "remote") << "node " << opts_.name << ": malformed control message: " << ex.what();
    }
}

} // namespace spindle::remote::detail
