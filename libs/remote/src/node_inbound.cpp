//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle::remote::node: delivering received messages and replies.

#include "node_impl.hpp"

namespace spindle::remote::detail {

void node_impl::answer_error(natsMsg* m, boost::system::error_code ec) noexcept
{
    char const* reply = natsMsg_GetReply(m);
    if(!reply || !*reply || !conn_)
        return;
    msg_ptr r;
    auto text = ec.message();
    if(natsMsg_Create(&r.m, reply, nullptr, text.data(), static_cast<int>(text.size())) != NATS_OK)
        return;
    natsMsgHeader_Set(r.m, h_status, "error");
    natsMsgHeader_Set(r.m, h_error, error_header(ec).c_str());
    natsConnection_PublishMsg(conn_, r.m);
}

void node_impl::decode_error(std::string_view type, std::string const& why, natsMsg* m,
    boost::system::error_code ec) noexcept
{
    decode_errors_.fetch_add(1, std::memory_order_relaxed);
    try
    {
        std::string text = "message " + std::string(type) + " on " + natsMsg_GetSubject(m) + ": " + why;
        SPINDLE_LOG(warning, "remote") << "node " << opts_.name << ": " << text;
        publish_event(std::move(text));
    }
    catch(...)
    {
    }
    answer_error(m, ec);
}

namespace {

/// Sends an inbound ask's reply back to the asking node.
class nats_reply_sink final : public reply_sink
{
    std::weak_ptr<node_impl> node_;
    std::string subject_;
    /// The ask came in a binary frame, so the asker is a Spindle node that
    /// reads a framed reply (doc/remote.md, "Replies").
    bool framed_;

public:
    nats_reply_sink(std::weak_ptr<node_impl> n, std::string s, bool framed)
        : node_(std::move(n)), subject_(std::move(s)), framed_(framed)
    {
    }

    void reply(std::string_view type, unsigned version, codec c, std::string const& payload) noexcept override
    {
        auto n = node_.lock();
        if(!n || !n->conn_ || n->closed_.load())
            return;
        if(framed_ && c == codec::binary && type.size() < 256)
        {
            // a success in a frame: no natsMsg, no header table, nothing for
            // cnats' garbage collector thread, a PUB instead of an HPUB
            try
            {
                thread_local std::string frame;
                write_frame(frame, type, version, payload);
                if(static_cast<std::int64_t>(frame.size()) <= n->max_payload_)
                {
                    natsConnection_Publish(n->conn_, subject_.c_str(), frame.data(), static_cast<int>(frame.size()));
                    return;
                }
            }
            catch(...)
            {
            }
            fail(make_error_code(error::payload_too_large));
            return;
        }
        msg_ptr r;
        if(natsMsg_Create(&r.m, subject_.c_str(), nullptr, payload.data(), static_cast<int>(payload.size())) != NATS_OK)
            return;
        natsMsgHeader_Set(r.m, h_status, "ok");
        try
        {
            natsMsgHeader_Set(r.m, h_type, std::string(type).c_str());
            if(version != 1)
                natsMsgHeader_Set(r.m, h_version, std::to_string(version).c_str());
        }
        catch(...)
        {
        }
        if(c == codec::binary)
            natsMsgHeader_Set(r.m, h_codec, "binary");
        natsConnection_PublishMsg(n->conn_, r.m);
    }

    void fail(boost::system::error_code ec) noexcept override
    {
        auto n = node_.lock();
        if(!n || !n->conn_ || n->closed_.load())
            return;
        msg_ptr r;
        auto text = ec.message();
        if(natsMsg_Create(&r.m, subject_.c_str(), nullptr, text.data(), static_cast<int>(text.size())) != NATS_OK)
            return;
        natsMsgHeader_Set(r.m, h_status, "error");
        natsMsgHeader_Set(r.m, h_error, error_header(ec).c_str());
        natsConnection_PublishMsg(n->conn_, r.m);
    }
};

} // namespace

void node_impl::deliver(natsMsg* m, target const& t, std::string_view what) noexcept
{
    char const* reply = natsMsg_GetReply(m);
    bool const is_ask = reply && *reply;
    std::string_view data = data_of(m);
    std::string_view type;
    unsigned version = 1;
    codec enc = codec::json;
    wire_trace trace;
    bool const framed = read_frame(data, type, version, data, trace);
    if(framed)
    {
        // a binary frame from a Spindle node: no headers to parse
        enc = codec::binary;
    }
    else if(char const* ctl = header(m, h_control))
    {
        // a name proxy asks who serves the name, to monitor that actor
        if(std::strcmp(ctl, "monitor") == 0 && is_ask && t.cell)
        {
            char const* from = header(m, "Spindle-From");
            boost::system::error_code ec;
            auto from_id = node_id::from_string(from ? from : "", ec);
            if(!ec)
            {
                watcher_.try_tell(watch_cmd{t.cell, from_id});
                boost::json::object o;
                o["node"] = id_str_;
                o["actor"] = t.cell->id_.to_string();
                send_control(reply, o);
            }
        }
        return;
    }
    if(!t.cell)
    {
        undeliverable_.fetch_add(1, std::memory_order_relaxed);
        answer_error(m, spindle::error::unknown_actor);
        return;
    }
    if(enc == codec::json)
    {
        // the documented form any NATS client can send: headers
        char const* h = header(m, h_type);
        if(!h)
        {
            decode_error("(no type)", "no Spindle-Type header", m, make_error_code(error::unknown_type));
            return;
        }
        type = h;
        if(char const* v = header(m, h_version))
        {
            std::string_view sv(v);
            if(std::from_chars(sv.data(), sv.data() + sv.size(), version).ec != std::errc())
                version = 0;
        }
        char const* c = header(m, h_codec);
        if(c && std::strcmp(c, "binary") == 0)
            enc = codec::binary;
        if(spindle::detail::trace_hooks_table.load(std::memory_order_relaxed)) [[unlikely]]
            if(char const* tp = header(m, h_traceparent))
            {
                trace.traceparent = tp;
                if(char const* ts = header(m, h_tracestate))
                    trace.tracestate = ts;
            }
    }
    in_entry const* entry = t.table->find(type);
    if(!entry)
    {
        decode_error(type, "unknown type for actor " + std::string(what), m, make_error_code(error::unknown_type));
        return;
    }
    if(version != entry->version)
    {
        decode_error(type,
            "version " + std::to_string(version) + " received, this node has version " + std::to_string(entry->version),
            m, make_error_code(error::version_mismatch));
        return;
    }
    if(enc != entry->encoding)
    {
        decode_error(type,
            std::string("codec ") + (enc == codec::binary ? "binary" : "json") + " does not match the receiver's", m,
            make_error_code(error::decode_failed));
        return;
    }
    try
    {
        codec_scope scope(this);
        trace_entered traced(trace);
        if(is_ask)
        {
            entry->ask(t.cell.get(), data, opts_.serve_ask_timeout,
                std::make_shared<nats_reply_sink>(weak_from_this(), reply, framed));
        }
        else if(entry->tell(t.cell.get(), data) != send_status::ok)
        {
            undeliverable_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    catch(std::exception const& ex)
    {
        decode_error(type, ex.what(), m, make_error_code(error::decode_failed));
    }
    catch(...)
    {
        decode_error(type, "non-standard exception", m, make_error_code(error::decode_failed));
    }
}

void node_impl::on_reply(natsMsg* m) noexcept
{
    std::string_view subj(natsMsg_GetSubject(m));
    std::uint64_t rid = 0;
    auto num = subj.substr(subj.rfind('.') + 1);
    if(std::from_chars(num.data(), num.data() + num.size(), rid).ec != std::errc())
        return;
    pending_ask p;
    {
        std::lock_guard lk(mutex_);
        auto it = pending_.find(rid);
        if(it == pending_.end())
            return; // ended by a lost connection, or a duplicate
        p = std::move(it->second);
        pending_.erase(it);
    }
    if(p.monitor_of)
    {
        // the answer to "who serves this name?" for a monitor
        if(natsMsg_IsNoResponders(m))
        {
            p.monitor_of->end_proxy(exit_reason::failure, "noproc: nobody publishes " + *p.monitor_of->name());
            return;
        }
        try
        {
            auto jv = boost::json::parse(data_of(m));
            auto const& o = jv.as_object();
            std::string node(o.at("node").as_string());
            auto actor = actor_id::from_string(std::string(o.at("actor").as_string()));
            watch(*p.monitor_of, node, actor, {});
        }
        catch(...)
        {
            p.monitor_of->end_proxy(exit_reason::failure, "noproc: unreadable monitor answer");
        }
        return;
    }
    if(natsMsg_IsNoResponders(m))
    {
        p.entry->fail(p.reply, spindle::error::unknown_actor);
    }
    else
    {
        // a reply with headers always has a status; one without is a framed
        // success (the answer to a framed ask: doc/remote.md, "Replies")
        char const* status = header(m, h_status);
        std::string_view type, payload;
        unsigned version = 0;
        wire_trace trace;
        if(status && std::strcmp(status, "ok") == 0)
        {
            codec_scope scope(this);
            p.entry->complete(p.reply, data_of(m));
        }
        else if(!status && read_frame(data_of(m), type, version, payload, trace))
        {
            codec_scope scope(this);
            p.entry->complete(p.reply, payload);
        }
        else
        {
            p.entry->fail(p.reply, parse_error_header(header(m, h_error)));
        }
    }
    p.entry->release(p.reply);
}

void node_impl::fail_pending(boost::system::error_code ec) noexcept
{
    std::unordered_map<std::uint64_t, pending_ask> lost;
    {
        std::lock_guard lk(mutex_);
        lost.swap(pending_);
    }
    for(auto& [id, p] : lost)
    {
        if(p.monitor_of)
        {
            p.monitor_of->end_proxy(exit_reason::failure, "noconnection: " + ec.message());
            continue;
        }
        if(!p.entry->done(p.reply))
            asks_lost_.fetch_add(1, std::memory_order_relaxed);
        p.entry->fail(p.reply, ec);
        p.entry->release(p.reply);
    }
}

} // namespace spindle::remote::detail
