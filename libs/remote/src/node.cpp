//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include "node_impl.hpp"

namespace spindle::remote {
namespace detail {

// --- refs in messages ---

boost::json::value encode_ref(actor_cell* cell, in_table const& in)
{
    node_impl* n = tl_codec_node;
    if(!n)
        throw std::logic_error("an actor_ref is encoded only inside a message sent through a spindle::remote::node");
    boost::json::object o;
    if(!cell)
        return o; // an empty reference
    if(cell->proxy_)
    {
        auto* p = static_cast<proxy*>(cell->proxy_);
        if(p->far_node_.empty())
            o["name"] = p->name_;
        else
        {
            o["node"] = p->far_node_;
            o["actor"] = p->far_actor_.to_string();
        }
        return o;
    }
    n->export_actor(cell, in);
    o["node"] = n->id_str_;
    o["actor"] = cell->id_.to_string();
    return o;
}

boost::intrusive_ptr<actor_cell> decode_ref(boost::json::value const& jv, std::type_info const& type, out_table const& out)
{
    node_impl* n = tl_codec_node;
    if(!n)
        throw std::logic_error("an actor_ref is decoded only inside a message received by a spindle::remote::node");
    auto const& o = jv.as_object();
    if(o.empty())
        return {};
    if(auto const* name = o.if_contains("name"))
    {
        auto p = std::make_unique<proxy>(n->weak_from_this(), &out, n->name_subject(std::string(name->as_string())));
        p->name_ = name->as_string();
        auto c = actor_cell::make_proxy(n->sys_.state(), p.get(), actor_id::generate(), type, p->name_);
        p.release();
        return c;
    }
    std::string node(o.at("node").as_string());
    auto actor = actor_id::from_string(std::string(o.at("actor").as_string()));
    if(node == n->id_str_)
    {
        std::lock_guard lk(n->mutex_);
        if(auto it = n->exports_.find(actor); it != n->exports_.end())
            return it->second.cell;
    }
    auto p = std::make_unique<proxy>(n->weak_from_this(), &out, n->actor_subject(node, actor));
    p->far_node_ = node;
    p->far_actor_ = actor;
    auto c = actor_cell::make_proxy(n->sys_.state(), p.get(), actor, type, {});
    p.release();
    return c;
}

} // namespace detail

// --- node ---

node::node(spindle::system& sys, node_options opts)
{
    boost::system::error_code ec;
    impl_ = std::make_shared<detail::node_impl>(sys, std::move(opts));
    impl_->connect(ec);
    if(ec)
    {
        std::string what = "spindle::remote::node: cannot join NATS as '" + impl_->opts_.name + "' (servers:";
        for(auto const& s : impl_->opts_.servers)
            what += " " + s;
        what += "): " + impl_->problem_;
        impl_->close();
        spindle::detail::throw_error(ec, what.c_str());
    }
}

node::node(spindle::system& sys, node_options opts, boost::system::error_code& ec)
{
    ec = {};
    impl_ = std::make_shared<detail::node_impl>(sys, std::move(opts));
    impl_->connect(ec);
    if(ec)
        impl_->close();
}

node::~node()
{
    close();
}

void node::close() noexcept
{
    impl_->close();
}

node_id node::id() const noexcept
{
    return impl_->id_;
}

std::string const& node::name() const noexcept
{
    return impl_->opts_.name;
}

void node::publish_(std::string const& name, basic_actor_ref const& ref, detail::in_table const& in,
    boost::system::error_code& ec)
{
    ec = {};
    auto& n = *impl_;
    if(!detail::valid_name(name) || !ref)
    {
        ec = spindle::error::invalid_argument;
        return;
    }
    if(n.closed_.load() || !n.conn_)
    {
        ec = error::not_connected;
        return;
    }
    auto p = std::make_unique<detail::published>();
    p->owner = &n;
    p->name = name;
    p->to = detail::target{boost::intrusive_ptr<spindle::detail::actor_cell>(ref.cell()), &in};
    {
        std::lock_guard lk(n.mutex_);
        if(n.published_.count(name))
        {
            ec = spindle::error::name_taken;
            return;
        }
    }
    auto subject = n.name_subject(name);
    // a queue group: the same name published on several nodes is a pool
    natsStatus s = natsConnection_QueueSubscribe(
        &p->sub, n.conn_, subject.c_str(), subject.c_str(),
        [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
            detail::received own{m};
            auto* pub = static_cast<detail::published*>(c);
            pub->owner->deliver(m, pub->to, pub->name);
        },
        p.get());
    if(s == NATS_OK)
        s = natsSubscription_SetPendingLimits(p->sub, n.opts_.pending_messages_limit, n.opts_.pending_bytes_limit);
    if(s == NATS_OK)
    {
        n.subs_alive_.fetch_add(1);
        s = natsSubscription_SetOnCompleteCB(p->sub, &detail::on_sub_complete, &n);
        if(s != NATS_OK)
            n.subs_alive_.fetch_sub(1);
    }
    if(s == NATS_OK)
        s = natsConnection_Flush(n.conn_);
    if(s != NATS_OK)
    {
        if(p->sub)
        {
            natsSubscription_Unsubscribe(p->sub);
            natsSubscription_Destroy(p->sub);
        }
        ec = detail::nats_error(s);
        return;
    }
    n.export_actor(ref.cell(), in); // monitored like any exported actor
    {
        std::lock_guard lk(n.mutex_);
        n.published_.emplace(name, std::move(p));
    }
    n.send_heartbeat(false); // peers learn the name now, not a second later
}

void node::unpublish(std::string const& name) noexcept
{
    auto& n = *impl_;
    std::unique_ptr<detail::published> p;
    {
        std::lock_guard lk(n.mutex_);
        auto it = n.published_.find(name);
        if(it == n.published_.end())
            return;
        p = std::move(it->second);
        n.published_.erase(it);
    }
    if(p->sub)
    {
        natsSubscription_Unsubscribe(p->sub);
        // the callback may still run once: it reads *p, so wait for its end
        if(n.conn_)
            natsConnection_FlushTimeout(n.conn_, 1000);
    }
    n.send_heartbeat(false);
    // keep the subscription object (and p) until the node closes
    std::lock_guard lk(n.mutex_);
    n.retired_.push_back(std::move(p));
}

boost::intrusive_ptr<spindle::detail::actor_cell> node::lookup_(
    std::string const& name, std::type_info const& type, detail::out_table const& out) const
{
    auto p = std::make_unique<detail::proxy>(impl_, &out, impl_->name_subject(name));
    p->name_ = name;
    auto c = spindle::detail::actor_cell::make_proxy(impl_->sys_.state(), p.get(), actor_id::generate(), type, name);
    p.release();
    return c;
}

std::vector<peer_info> node::peers() const
{
    std::vector<peer_info> out;
    auto const now = std::chrono::steady_clock::now();
    std::lock_guard lk(impl_->mutex_);
    for(auto const& [id, p] : impl_->peers_)
        out.push_back(peer_info{
            id, p.name, p.actors, std::chrono::duration_cast<std::chrono::milliseconds>(now - p.last_seen)});
    return out;
}

bool node::await_published(std::string const& name, std::chrono::nanoseconds timeout) const
{
    auto const end = std::chrono::steady_clock::now() + timeout;
    for(;;)
    {
        {
            std::lock_guard lk(impl_->mutex_);
            if(impl_->published_.count(name))
                return true;
            for(auto const& [id, p] : impl_->peers_)
                if(std::find(p.actors.begin(), p.actors.end(), name) != p.actors.end())
                    return true;
        }
        if(std::chrono::steady_clock::now() >= end || impl_->closed_.load())
            return false;
        boost::this_fiber::sleep_for(std::chrono::milliseconds(5));
    }
}

node_stats node::stats() const
{
    return impl_->stats();
}

boost::json::value node::describe() const
{
    auto s = stats();
    boost::json::object o;
    o["id"] = impl_->id_str_;
    o["name"] = impl_->opts_.name;
    boost::json::array servers;
    for(auto const& u : impl_->opts_.servers)
        servers.emplace_back(u);
    o["servers"] = std::move(servers);
    o["connection"] = s.connection;
    o["connected"] = s.connected;
    boost::json::object c;
    c["reconnects"] = s.reconnects;
    c["messages_in"] = s.messages_in;
    c["messages_out"] = s.messages_out;
    c["bytes_in"] = s.bytes_in;
    c["bytes_out"] = s.bytes_out;
    c["slow_consumer_drops"] = s.slow_consumer_drops;
    c["sends_refused"] = s.sends_refused;
    c["decode_errors"] = s.decode_errors;
    c["undeliverable"] = s.undeliverable;
    c["asks_in_flight"] = s.asks_in_flight;
    c["asks_lost"] = s.asks_lost;
    o["counters"] = std::move(c);
    boost::json::array published;
    {
        std::lock_guard lk(impl_->mutex_);
        for(auto& [name, p] : impl_->published_)
            published.emplace_back(name);
    }
    o["published"] = std::move(published);
    boost::json::array peers;
    for(auto const& p : this->peers())
    {
        boost::json::object po;
        po["id"] = p.id.to_string();
        po["name"] = p.name;
        boost::json::array a;
        for(auto const& n : p.actors)
            a.emplace_back(n);
        po["actors"] = std::move(a);
        po["since_last_heartbeat_ms"] = p.since_last_heartbeat.count();
        peers.emplace_back(std::move(po));
    }
    o["peers"] = std::move(peers);
    return o;
}

namespace detail {

// The frame functions exposed for the wire fuzzer (detail/frame.hpp): the
// node's own, without the trace context.

void append_frame(std::string& out, std::string_view name, unsigned version, std::string_view payload)
{
    write_frame(out, name, version, payload);
}

bool parse_frame(std::string_view d, std::string_view& name, unsigned& version, std::string_view& payload) noexcept
{
    wire_trace ignored;
    return read_frame(d, name, version, payload, ignored);
}

} // namespace detail

} // namespace spindle::remote
