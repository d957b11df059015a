//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// spindle::remote::node: connecting to NATS and closing (cnats callbacks, options).

#include "node_impl.hpp"

namespace spindle::remote::detail {

void on_sub_complete(void* closure)
{
    static_cast<node_impl*>(closure)->subs_alive_.fetch_sub(1, std::memory_order_acq_rel);
}

namespace {

void on_disconnected(natsConnection*, void* closure)
{
    static_cast<node_impl*>(closure)->fail_pending(make_error_code(error::connection_lost));
}

void on_reconnected(natsConnection*, void* closure)
{
    auto* n = static_cast<node_impl*>(closure);
    n->reconnects_.fetch_add(1, std::memory_order_relaxed);
    n->send_heartbeat(false);
}

void on_closed(natsConnection*, void* closure)
{
    auto* n = static_cast<node_impl*>(closure);
    std::lock_guard lk(n->conn_closed_mtx_);
    n->conn_closed_ = true;
    n->conn_closed_cv_.notify_all();
}

struct options_ptr
{
    natsOptions* o = nullptr;
    ~options_ptr()
    {
        if(o)
            natsOptions_Destroy(o);
    }
};

} // namespace

void node_impl::connect(boost::system::error_code& ec)
{
    auto refuse = [&](char const* what) {
        problem_ = what;
        ec = spindle::error::invalid_argument;
    };
    if(opts_.servers.empty())
        return refuse("node_options::servers is empty");
    if(opts_.heartbeat_interval.count() <= 0)
        return refuse("node_options::heartbeat_interval must be positive");
    if(opts_.heartbeat_misses == 0)
        return refuse("node_options::heartbeat_misses must be at least 1");
    if(!valid_name(prefix_))
        return refuse("node_options::subject_prefix must be a valid subject token");
    if(opts_.name.empty())
        return refuse("node_options::name is empty");
    options_ptr o;
    natsStatus s = natsOptions_Create(&o.o);
    std::vector<char const*> urls;
    for(auto const& u : opts_.servers)
        urls.push_back(u.c_str());
    if(s == NATS_OK)
        s = natsOptions_SetServers(o.o, urls.data(), static_cast<int>(urls.size()));
    if(s == NATS_OK)
        s = natsOptions_SetName(o.o, ("spindle:" + opts_.name).c_str());
    if(s == NATS_OK && !opts_.user.empty())
        s = natsOptions_SetUserInfo(o.o, opts_.user.c_str(), opts_.password.c_str());
    if(s == NATS_OK && !opts_.token.empty())
        s = natsOptions_SetToken(o.o, opts_.token.c_str());
    if(s == NATS_OK && !opts_.credentials_file.empty())
        s = natsOptions_SetUserCredentialsFromFiles(o.o, opts_.credentials_file.c_str(), nullptr);
    if(s == NATS_OK && opts_.tls.enabled)
        s = natsOptions_SetSecure(o.o, true);
    if(s == NATS_OK && !opts_.tls.ca_file.empty())
        s = natsOptions_LoadCATrustedCertificates(o.o, opts_.tls.ca_file.c_str());
    if(s == NATS_OK && !opts_.tls.cert_file.empty())
        s = natsOptions_LoadCertificatesChain(o.o, opts_.tls.cert_file.c_str(), opts_.tls.key_file.c_str());
    if(s == NATS_OK && opts_.tls.skip_verification)
        s = natsOptions_SkipServerVerification(o.o, true);
    if(s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o.o, opts_.max_reconnects);
    if(s == NATS_OK)
        s = natsOptions_SetReconnectWait(o.o, opts_.reconnect_wait.count());
    if(s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(o.o, opts_.reconnect_buffer_bytes);
    if(s == NATS_OK)
        s = natsOptions_SetTimeout(o.o, opts_.connect_timeout.count());
    // Without it cnats' flusher waits ~1 ms before sending (MEASURED.md).
    if(s == NATS_OK)
        s = natsOptions_SetSendAsap(o.o, true);
    if(s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(o.o, &on_disconnected, this);
    if(s == NATS_OK)
        s = natsOptions_SetReconnectedCB(o.o, &on_reconnected, this);
    if(s == NATS_OK)
        s = natsOptions_SetClosedCB(o.o, &on_closed, this);
    if(s != NATS_OK)
    {
        problem_ = std::string("cnats refused the options: ") + nats_GetLastError(nullptr);
        ec = spindle::error::invalid_argument;
        return;
    }
    s = natsConnection_Connect(&conn_, o.o);
    if(s != NATS_OK)
    {
        problem_ = std::string("cannot connect: ") + natsStatus_GetText(s);
        SPINDLE_LOG(warning, "remote") << "node " << opts_.name << ": " << problem_;
        conn_ = nullptr;
        ec = make_error_code(error::not_connected);
        return;
    }
    max_payload_ = natsConnection_GetMaxPayload(conn_);

    auto subscribe = [&](std::string const& subject, natsMsgHandler cb, void* closure) {
        natsSubscription* sub = nullptr;
        natsStatus st = natsConnection_Subscribe(&sub, conn_, subject.c_str(), cb, closure);
        if(st == NATS_OK)
            st = natsSubscription_SetPendingLimits(sub, opts_.pending_messages_limit, opts_.pending_bytes_limit);
        if(st == NATS_OK)
        {
            subs_alive_.fetch_add(1);
            st = natsSubscription_SetOnCompleteCB(sub, &on_sub_complete, this);
            if(st != NATS_OK)
                subs_alive_.fetch_sub(1);
        }
        if(sub)
            subs_.push_back(sub);
        return st;
    };

    s = subscribe(
        prefix_ + ".node." + id_str_ + ".actor.*",
        [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
            auto* n = static_cast<node_impl*>(c);
            received own{m};
            std::string_view subj(natsMsg_GetSubject(m));
            auto dot = subj.rfind('.');
            boost::system::error_code ec;
            auto id = actor_id::from_string(subj.substr(dot + 1), ec);
            target t;
            if(!ec)
            {
                std::lock_guard lk(n->mutex_);
                if(auto it = n->exports_.find(id); it != n->exports_.end())
                    t = it->second;
            }
            n->deliver(m, t, subj);
        },
        this);
    if(s == NATS_OK)
        s = subscribe(
            prefix_ + ".node." + id_str_ + ".reply.*",
            [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
                received own{m};
                static_cast<node_impl*>(c)->on_reply(m);
            },
            this);
    if(s == NATS_OK)
        s = subscribe(
            ctl_subject(id_str_),
            [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
                msg_ptr own{m};
                static_cast<node_impl*>(c)->on_control(m);
            },
            this);
    if(s == NATS_OK)
        s = subscribe(
            prefix_ + ".hb.*",
            [](natsConnection*, natsSubscription*, natsMsg* m, void* c) {
                msg_ptr own{m};
                static_cast<node_impl*>(c)->on_heartbeat(m);
            },
            this);
    if(s == NATS_OK)
        s = natsConnection_Flush(conn_);
    if(s != NATS_OK)
    {
        ec = nats_error(s);
        close();
        return;
    }
    watcher_ = sys_.spawn<watcher_actor>(weak_from_this());
    add_metrics();
    send_heartbeat(false);
    hb_thread_ = std::thread([this] { heartbeat_loop(); });
}

void node_impl::close() noexcept
{
    if(closed_.exchange(true))
        return;
    for(auto id : collectors_)
        sys_.metrics().remove_collector(id);
    collectors_.clear();
    {
        std::lock_guard lk(hb_mutex_);
        hb_stop_ = true;
    }
    hb_cv_.notify_all();
    if(hb_thread_.joinable())
        hb_thread_.join();
    if(conn_)
    {
        send_heartbeat(true);
        natsConnection_FlushTimeout(conn_, 1000);
        for(auto* s : subs_)
            natsSubscription_Unsubscribe(s);
        {
            std::lock_guard lk(mutex_);
            for(auto& [name, p] : published_)
                if(p->sub)
                    natsSubscription_Unsubscribe(p->sub);
        }
        natsConnection_Close(conn_);
        {
            // the connection's last callback has run before this object can go
            std::unique_lock lk(conn_closed_mtx_);
            conn_closed_cv_.wait_for(lk, std::chrono::seconds(10), [this] { return conn_closed_; });
        }
        // every subscription's callback has returned before the maps go
        while(subs_alive_.load(std::memory_order_acquire) > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        for(auto* s : subs_)
            natsSubscription_Destroy(s);
        subs_.clear();
        std::lock_guard lk(mutex_);
        for(auto& [name, p] : published_)
            if(p->sub)
                natsSubscription_Destroy(p->sub);
        for(auto& p : retired_)
            if(p->sub)
                natsSubscription_Destroy(p->sub);
    }
    fail_pending(make_error_code(error::not_connected));
    std::vector<boost::intrusive_ptr<actor_cell>> ends;
    std::unordered_map<actor_id, target> exports;
    std::map<std::string, std::unique_ptr<published>> pubs;
    {
        std::lock_guard lk(mutex_);
        pubs.swap(published_);
        exports.swap(exports_);
        for(auto& [id, cells] : watched_)
            ends.insert(ends.end(), cells.begin(), cells.end());
        watched_.clear();
        watched_by_node_.clear();
    }
    for(auto& c : ends)
        c->end_proxy(exit_reason::failure, "noconnection: node " + opts_.name + " closed");
    if(watcher_)
        watcher_.stop();
    if(conn_)
    {
        natsConnection_Destroy(conn_);
        conn_ = nullptr;
    }
}

} // namespace spindle::remote::detail
