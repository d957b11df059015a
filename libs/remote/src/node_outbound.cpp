//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle::remote::node: sending messages, asks and control messages.

#include "node_impl.hpp"

namespace spindle::remote::detail {

send_status node_impl::send(actor_cell& self, envelope* e, out_table const& table, std::string const& subject) noexcept
{
    auto const* vt = e->vtable_;
    void* reply = vt->reply ? vt->reply(e) : nullptr;
    out_entry const* entry = table.find(*vt->type);
    auto refuse = [&](boost::system::error_code ec) {
        sends_refused_.fetch_add(1, std::memory_order_relaxed);
        if(reply)
        {
            entry->fail(reply, ec);
            vt->destroy(e);
        }
        else
        {
            self.dead_letter(e, spindle::error::transport_failed);
        }
        return send_status::refused;
    };
    if(!entry)
    {
        // the tables cover every declared message: unreachable
        self.dead_letter(e, spindle::error::transport_failed);
        return send_status::refused;
    }
    if(closed_.load(std::memory_order_acquire) || !conn_)
        return refuse(make_error_code(error::not_connected));

    thread_local std::string buf;
    try
    {
        codec_scope scope(this);
        entry->encode(vt->payload(e), buf);
    }
    catch(std::exception const& ex)
    {
        SPINDLE_LOG(warning, "remote") << "cannot encode " << entry->name << ": " << ex.what();
        return refuse(make_error_code(error::encode_failed));
    }
    if(static_cast<std::int64_t>(buf.size()) > max_payload_)
        return refuse(make_error_code(error::payload_too_large));

    std::uint64_t rid = 0;
    thread_local std::string reply_to;
    if(reply)
    {
        rid = next_reply_.fetch_add(1, std::memory_order_relaxed);
        append_reply_subject(reply_to, rid);
    }
    // the sender's trace context, only when tracing captured one
    char traceparent[spindle::detail::traceparent_size + 1];
    thread_local std::string tracestate;
    bool traced = false;
    if(e->trace_) [[unlikely]]
        if(auto const* h = spindle::detail::trace_hooks_table.load(std::memory_order_acquire); h && h->inject)
            traced = h->inject(e->trace_, traceparent, tracestate) && tracestate.size() <= max_tracestate;
    // JSON travels with headers (any NATS client reads it); the binary codec
    // in a frame of its own, published without building a natsMsg
    msg_ptr m;
    natsStatus s = NATS_OK;
    thread_local std::string frame;
    bool const framed = entry->encoding == codec::binary && entry->name.size() < 256;
    if(framed)
    {
        write_frame(frame, entry->name, entry->version, buf, traced ? traceparent : nullptr, tracestate);
        if(static_cast<std::int64_t>(frame.size()) > max_payload_)
            return refuse(make_error_code(error::payload_too_large));
    }
    else
    {
        s = natsMsg_Create(&m.m, subject.c_str(), reply ? reply_to.c_str() : nullptr, buf.data(),
            static_cast<int>(buf.size()));
        char version[16];
        if(s == NATS_OK)
            s = natsMsgHeader_Set(m.m, h_type, std::string(entry->name).c_str());
        if(s == NATS_OK && entry->version != 1)
        {
            std::snprintf(version, sizeof version, "%u", entry->version);
            s = natsMsgHeader_Set(m.m, h_version, version);
        }
        if(s == NATS_OK && entry->encoding == codec::binary)
            s = natsMsgHeader_Set(m.m, h_codec, "binary");
        if(s == NATS_OK && traced)
        {
            s = natsMsgHeader_Set(m.m, h_traceparent, traceparent);
            if(s == NATS_OK && !tracestate.empty())
                s = natsMsgHeader_Set(m.m, h_tracestate, tracestate.c_str());
        }
        if(s != NATS_OK)
            return refuse(nats_error(s));
    }
    if(reply)
    {
        std::lock_guard lk(mutex_);
        try
        {
            pending_.emplace(rid, pending_ask{reply, entry, {}});
        }
        catch(...)
        {
            return refuse(make_error_code(error::nats_failed));
        }
        entry->retain(reply);
    }
    // fault injection (spindle::chaos): lost on the wire, or delivered twice
    int copies = 1;
    if(auto const* ch = spindle::detail::chaos_hooks_table.load(std::memory_order_acquire)) [[unlikely]]
        copies = ch->remote_send(subject.c_str());
    for(int i = 0; i < copies && s == NATS_OK; ++i)
    {
        if(!framed)
            s = natsConnection_PublishMsg(conn_, m.m);
        else if(reply)
            s = natsConnection_PublishRequest(conn_, subject.c_str(), reply_to.c_str(), frame.data(), static_cast<int>(frame.size()));
        else
            s = natsConnection_Publish(conn_, subject.c_str(), frame.data(), static_cast<int>(frame.size()));
    }
    if(s != NATS_OK)
    {
        if(reply)
        {
            std::lock_guard lk(mutex_);
            if(pending_.erase(rid))
                entry->release(reply);
        }
        return refuse(nats_error(s));
    }
    vt->destroy(e); // an ask's reply lives on in pending_
    return send_status::ok;
}

void node_impl::send_control(std::string const& subject, boost::json::object const& body) noexcept
{
    if(closed_.load() && !body.contains("leaving"))
        return;
    if(!conn_)
        return;
    try
    {
        auto s = boost::json::serialize(body);
        natsConnection_Publish(conn_, subject.c_str(), s.data(), static_cast<int>(s.size()));
    }
    catch(...)
    {
    }
}

} // namespace spindle::remote::detail
