//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/remote/node.hpp>

#include <spindle/remote/detail/frame.hpp>

#include <spindle/actor.hpp>
#include <spindle/detail/actor_cell.hpp>
#include <spindle/detail/cell_proxy.hpp>
#include <spindle/detail/chaos_hooks.hpp>
#include <spindle/detail/trace_hooks.hpp>
#include <spindle/event_stream.hpp>
#include <spindle/log.hpp>
#include <spindle/metrics.hpp>

#include <boost/assert.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/json.hpp>

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

namespace spindle::remote {
namespace detail {

using spindle::detail::actor_cell;
using spindle::detail::envelope;

namespace {

// Wire headers (doc/remote.md).
constexpr char const* h_type = "Spindle-Type";
constexpr char const* h_version = "Spindle-Version";
constexpr char const* h_codec = "Spindle-Codec";
constexpr char const* h_status = "Spindle-Status";
constexpr char const* h_error = "Spindle-Error";
constexpr char const* h_control = "Spindle-Control";
// W3C Trace Context, as HTTP spells them (NATS header names are case-sensitive)
constexpr char const* h_traceparent = "traceparent";
constexpr char const* h_tracestate = "tracestate";

boost::system::error_code nats_error(natsStatus s)
{
    switch(s)
    {
    case NATS_OK: return {};
    case NATS_MAX_PAYLOAD: return make_error_code(error::payload_too_large);
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_NOT_YET_CONNECTED: return make_error_code(error::not_connected);
    default: return make_error_code(error::nats_failed);
    }
}

bool valid_name(std::string_view n) noexcept
{
    if(n.empty() || n.size() > 200)
        return false;
    for(char c : n)
        if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.'))
            return false;
    return n.front() != '.' && n.back() != '.' && n.find("..") == std::string_view::npos;
}

char const* header(natsMsg* m, char const* key) noexcept
{
    char const* v = nullptr;
    if(natsMsgHeader_Get(m, key, &v) != NATS_OK)
        return nullptr;
    return v;
}

std::string_view data_of(natsMsg* m) noexcept
{
    return {natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))};
}

/** The binary frame (doc/remote.md): what a Spindle node sends for a
    message of the binary codec instead of headers, so that neither side
    builds a header table for it. JSON payloads never start with a NUL.

    `\0SPN` | name length (1 byte) | name | version (4 bytes, little endian) | payload

    A message sent with a trace context (spindle::trace installed and the
    sender in a span) carries it between the version and the payload:

    `\0SPT` | name length | name | version | traceparent (55 bytes) |
    tracestate length (2 bytes, little endian) | tracestate | payload
*/
constexpr char frame_magic[4] = {'\0', 'S', 'P', 'N'};
constexpr char frame_magic_traced[4] = {'\0', 'S', 'P', 'T'};
constexpr std::size_t max_tracestate = 0xffff;

/// The trace context a message travels with (views into the message).
struct wire_trace
{
    std::string_view traceparent;
    std::string_view tracestate;
};

void write_frame(std::string& out, std::string_view name, unsigned version, std::string_view payload,
    char const* traceparent = nullptr, std::string_view tracestate = {})
{
    // a longer name cannot be framed (the sender checks: such messages travel with headers)
    BOOST_ASSERT(name.size() < 256);
    out.clear();
    out.append(traceparent ? frame_magic_traced : frame_magic, 4);
    out.push_back(static_cast<char>(name.size()));
    out.append(name);
    for(int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((version >> (8 * i)) & 0xff));
    if(traceparent)
    {
        out.append(traceparent, spindle::detail::traceparent_size);
        out.push_back(static_cast<char>(tracestate.size() & 0xff));
        out.push_back(static_cast<char>((tracestate.size() >> 8) & 0xff));
        out.append(tracestate);
    }
    out.append(payload);
}

bool read_frame(std::string_view d, std::string_view& name, unsigned& version, std::string_view& payload,
    wire_trace& trace) noexcept
{
    if(d.size() < 9 || d[0] != '\0' || std::memcmp(d.data(), frame_magic, 3) != 0)
        return false;
    bool const traced = d[3] == frame_magic_traced[3];
    if(!traced && d[3] != frame_magic[3])
        return false;
    std::size_t const n = static_cast<unsigned char>(d[4]);
    if(d.size() < 5 + n + 4)
        return false;
    name = d.substr(5, n);
    version = 0;
    for(int i = 0; i < 4; ++i)
        version |= static_cast<unsigned>(static_cast<unsigned char>(d[5 + n + i])) << (8 * i);
    std::size_t at = 5 + n + 4;
    if(traced)
    {
        constexpr std::size_t tp = spindle::detail::traceparent_size;
        if(d.size() < at + tp + 2)
            return false;
        trace.traceparent = d.substr(at, tp);
        std::size_t const ts = static_cast<unsigned char>(d[at + tp]) |
            (static_cast<std::size_t>(static_cast<unsigned char>(d[at + tp + 1])) << 8);
        at += tp + 2;
        if(d.size() < at + ts)
            return false;
        trace.tracestate = d.substr(at, ts);
        at += ts;
    }
    payload = d.substr(at);
    return true;
}

/// The received context current on this thread while a message is posted,
/// so that the envelope captures it (spindle::trace's hooks; nothing when
/// tracing is off or the message carries none).
class trace_entered
{
    spindle::detail::trace_hooks const* h_ = nullptr;
    void* token_ = nullptr;

public:
    explicit trace_entered(wire_trace const& t) noexcept
    {
        if(t.traceparent.empty())
            return;
        h_ = spindle::detail::trace_hooks_table.load(std::memory_order_acquire);
        if(h_ && h_->enter)
            token_ = h_->enter(t.traceparent, t.tracestate);
    }
    ~trace_entered()
    {
        if(token_)
            h_->leave(token_);
    }
    trace_entered(trace_entered const&) = delete;
    trace_entered& operator=(trace_entered const&) = delete;
};

/// Owns a natsMsg.
struct msg_ptr
{
    natsMsg* m = nullptr;
    ~msg_ptr()
    {
        if(m)
            natsMsg_Destroy(m);
    }
};

/** Received messages handed back to cnats a batch at a time. natsMsg_Destroy
    gives a message to cnats' garbage-collector thread and wakes that thread
    whenever it waits, which in a request/reply exchange is every message: a
    futex wake per message, and a thread that competes for a CPU with the
    worker the message has just woken. A subscription's callbacks all run on
    its own thread, so each thread keeps its own batch; it holds at most
    `max_held` messages and `max_held_bytes` of payload (a larger message
    goes at once, with the rest), and the thread's exit releases the rest.
*/
class release_batch
{
    static constexpr std::size_t max_held = 32;
    static constexpr std::size_t max_held_bytes = 64 * 1024;
    natsMsg* held_[max_held];
    std::size_t n_ = 0;
    std::size_t bytes_ = 0;

public:
    release_batch() = default;
    release_batch(release_batch const&) = delete;
    release_batch& operator=(release_batch const&) = delete;
    ~release_batch() { flush(); }

    void add(natsMsg* m) noexcept
    {
        held_[n_++] = m;
        bytes_ += static_cast<std::size_t>(natsMsg_GetDataLength(m));
        if(n_ == max_held || bytes_ >= max_held_bytes)
            flush();
    }

    void flush() noexcept
    {
        for(std::size_t i = 0; i < n_; ++i)
            natsMsg_Destroy(held_[i]);
        n_ = 0;
        bytes_ = 0;
    }
};

/// Owns a received natsMsg until the callback returns, then gives it to this
/// thread's release_batch.
struct received
{
    natsMsg* m;
    ~received()
    {
        thread_local release_batch batch;
        batch.add(m);
    }
};

std::string error_header(boost::system::error_code ec)
{
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

boost::system::error_code parse_error_header(char const* v)
{
    if(!v)
        return make_error_code(error::bad_reply);
    std::string_view s(v);
    auto colon = s.rfind(':');
    if(colon == std::string_view::npos)
        return make_error_code(error::bad_reply);
    int value = 0;
    auto num = s.substr(colon + 1);
    if(std::from_chars(num.data(), num.data() + num.size(), value).ec != std::errc())
        return make_error_code(error::bad_reply);
    auto cat = s.substr(0, colon);
    if(cat == spindle::error_category().name())
        return {value, spindle::error_category()};
    if(cat == remote::error_category().name())
        return {value, remote::error_category()};
    return make_error_code(error::bad_reply);
}

/// A published name or an exported actor: where inbound messages go.
struct target
{
    boost::intrusive_ptr<actor_cell> cell;
    in_table const* table = nullptr;
};

struct published
{
    node_impl* owner = nullptr;
    std::string name;
    target to;
    natsSubscription* sub = nullptr;
};

struct pending_ask
{
    void* reply = nullptr;
    out_entry const* entry = nullptr;
    /// For a monitor request of a name proxy: the proxy cell (no reply).
    boost::intrusive_ptr<actor_cell> monitor_of;
};

struct peer
{
    std::string name;
    std::vector<std::string> actors;
    std::chrono::steady_clock::time_point last_seen;
    std::chrono::milliseconds interval{1000};
};

/// The thread-local node doing the current encode or decode (refs in messages).
thread_local node_impl* tl_codec_node = nullptr;

struct codec_scope
{
    node_impl* prev;
    explicit codec_scope(node_impl* n) noexcept : prev(tl_codec_node) { tl_codec_node = n; }
    ~codec_scope() { tl_codec_node = prev; }
};

/// Commands for the node's watcher actor.
struct watch_cmd
{
    using spindle_untraced = void; // the node's bookkeeping, no step of a request
    boost::intrusive_ptr<actor_cell> cell;
    node_id from; ///< the node to tell of its end; nil: only forget the export
};

} // namespace

class proxy;
class watcher_actor;

class node_impl : public std::enable_shared_from_this<node_impl>
{
public:
    spindle::system& sys_;
    node_options opts_;
    node_id id_ = node_id::generate();
    std::string id_str_ = id_.to_string();
    std::string prefix_;
    /// The subject of this node's replies, up to the ask's number.
    std::string reply_prefix_ = prefix_ + ".node." + id_str_ + ".reply.";
    natsConnection* conn_ = nullptr;
    std::int64_t max_payload_ = 1024 * 1024;

    mutable std::mutex mutex_; // guards the maps below; never held across a wait
    std::map<std::string, std::unique_ptr<published>> published_;
    std::unordered_map<actor_id, target> exports_;
    std::unordered_map<std::uint64_t, pending_ask> pending_;
    std::map<node_id, peer> peers_;
    /// Proxy cells being monitored, by far actor (held until their down:
    /// a monitor must fire even when no reference is left); the far node of each.
    std::unordered_map<actor_id, std::vector<boost::intrusive_ptr<actor_cell>>> watched_;
    std::map<node_id, std::set<actor_id>> watched_by_node_;
    std::map<node_id, std::chrono::steady_clock::time_point> watch_since_;
    std::vector<natsSubscription*> subs_;
    /// Unpublished names: kept until close, their callbacks may still run.
    std::vector<std::unique_ptr<published>> retired_;

    std::atomic<std::uint64_t> next_reply_{1};
    std::atomic<std::uint64_t> reconnects_{0}, sends_refused_{0}, decode_errors_{0}, undeliverable_{0},
        asks_lost_{0};
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> monitored_{0};
    /// Why connect() failed, for the exception's text.
    std::string problem_;
    /// Set by cnats' closed callback, the last it makes for a connection:
    /// close() waits for it before the object can go, because cnats runs
    /// the disconnected and closed callbacks on its own thread after
    /// natsConnection_Close has returned.
    std::mutex conn_closed_mtx_;
    std::condition_variable conn_closed_cv_;
    bool conn_closed_ = false;
    std::atomic<int> subs_alive_{0};

    std::mutex hb_mutex_;
    std::condition_variable hb_cv_;
    bool hb_stop_ = false;
    std::thread hb_thread_;

    actor_ref<watcher_actor> watcher_;

    node_impl(spindle::system& sys, node_options o) : sys_(sys), opts_(std::move(o)), prefix_(opts_.subject_prefix) {}

    ~node_impl() { close(); }

    std::string actor_subject(std::string const& node, actor_id const& a) const
    {
        return prefix_ + ".node." + node + ".actor." + a.to_string();
    }
    std::string name_subject(std::string const& name) const { return prefix_ + ".name." + name; }
    std::string ctl_subject(std::string const& node) const { return prefix_ + ".node." + node + ".ctl"; }
    std::string reply_subject(std::uint64_t n) const
    {
        std::string s;
        append_reply_subject(s, n);
        return s;
    }
    void append_reply_subject(std::string& out, std::uint64_t n) const
    {
        char num[20];
        auto const end = std::to_chars(num, num + sizeof num, n).ptr;
        out.assign(reply_prefix_).append(num, end);
    }

    void connect(boost::system::error_code& ec);
    void close() noexcept;

    // --- outbound ---
    send_status send(actor_cell& self, envelope* e, out_table const& table, std::string const& subject) noexcept;
    void send_control(std::string const& subject, boost::json::object const& body) noexcept;

    // --- inbound ---
    void deliver(natsMsg* m, target const& t, std::string_view what) noexcept;
    void on_reply(natsMsg* m) noexcept;
    void on_control(natsMsg* m) noexcept;
    void on_heartbeat(natsMsg* m) noexcept;
    void answer_error(natsMsg* m, boost::system::error_code ec) noexcept;
    void decode_error(std::string_view type, std::string const& why, natsMsg* m, boost::system::error_code ec) noexcept;

    // --- monitors ---
    void watch(actor_cell& proxy_cell, std::string const& node, actor_id const& actor, std::string const& name);
    void remote_down(actor_id const& actor, exit_reason why, std::string const& what) noexcept;
    void node_lost(node_id const& n, exit_reason why, std::string const& what) noexcept;
    void local_down(down const& d, std::vector<node_id> const& to) noexcept;
    void export_actor(actor_cell* cell, in_table const& in);

    void heartbeat_loop() noexcept;
    node_stats stats() const;
    void add_metrics();
    std::vector<metrics::collector_id> collectors_;
    void send_heartbeat(bool leaving) noexcept;
    void fail_pending(boost::system::error_code ec) noexcept;

    void publish_event(std::string detail) noexcept
    {
        try
        {
            auto& es = sys_.events();
            if(!es.wants(event_type::custom))
                return;
            event e;
            e.type = event_type::custom;
            e.source_name = "remote/" + opts_.name;
            e.detail = std::move(detail);
            es.publish(std::move(e));
        }
        catch(...)
        {
        }
    }
};

/// The node's own actor: watches exported actors and reports their end.
class watcher_actor : public actor<watcher_actor, watch_cmd>
{
    std::weak_ptr<node_impl> node_;
    std::unordered_map<actor_id, std::vector<node_id>> interested_;
    std::set<actor_id> watching_;

public:
    explicit watcher_actor(std::weak_ptr<node_impl> n) : node_(std::move(n)) {}

    void on(watch_cmd const& c)
    {
        auto const id = c.cell->id_;
        if(watching_.insert(id).second)
            monitor(basic_actor_ref(c.cell));
        if(!c.from.is_nil())
        {
            auto& v = interested_[id];
            if(std::find(v.begin(), v.end(), c.from) == v.end())
            {
                v.push_back(c.from);
                if(auto n = node_.lock())
                    n->monitored_.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }

    void on_down(down const& d) override
    {
        std::vector<node_id> to;
        if(auto it = interested_.find(d.actor); it != interested_.end())
        {
            to = std::move(it->second);
            interested_.erase(it);
        }
        watching_.erase(d.actor);
        if(auto n = node_.lock())
        {
            n->monitored_.fetch_sub(to.size(), std::memory_order_relaxed);
            n->local_down(d, to);
        }
    }
};

/// The proxy behind every remote `actor_ref`: one per proxy cell.
class proxy final : public spindle::detail::cell_proxy
{
public:
    std::weak_ptr<node_impl> node_;
    out_table const* table_;
    std::string subject_;
    /// The far actor's node and id (a reference), or empty (a name).
    std::string far_node_;
    actor_id far_actor_;
    std::string name_;
    std::atomic<bool> watching_{false};

    proxy(std::weak_ptr<node_impl> n, out_table const* t, std::string subject)
        : node_(std::move(n)), table_(t), subject_(std::move(subject))
    {
    }

    send_status post(actor_cell& self, envelope* e, bool) noexcept override
    {
        auto n = node_.lock();
        if(!n)
        {
            if(void* r = e->vtable_->reply ? e->vtable_->reply(e) : nullptr)
            {
                if(auto const* entry = table_->find(*e->vtable_->type))
                    entry->fail(r, make_error_code(error::not_connected));
                e->vtable_->destroy(e);
                return send_status::refused;
            }
            self.dead_letter(e, spindle::error::transport_failed);
            return send_status::refused;
        }
        return n->send(self, e, *table_, subject_);
    }

    void stop(actor_cell&) noexcept override
    {
        auto n = node_.lock();
        if(!n || far_node_.empty())
            return; // a name reaches a pool: stopping "it" names no one actor
        boost::json::object o;
        o["op"] = "stop";
        o["actor"] = far_actor_.to_string();
        n->send_control(n->ctl_subject(far_node_), o);
    }

    void watched(actor_cell& self) noexcept override
    {
        if(watching_.exchange(true))
            return;
        auto n = node_.lock();
        if(!n)
        {
            self.end_proxy(exit_reason::failure, "noconnection: the node is closed");
            return;
        }
        try
        {
            n->watch(self, far_node_, far_actor_, name_);
        }
        catch(...)
        {
            self.end_proxy(exit_reason::failure, "noconnection: could not watch the actor");
        }
    }

    /// Nothing to undo: a monitored proxy cell is held by its node until
    /// its down, so it is never released while watched.
    void release(actor_cell&) noexcept override { delete this; }
};

// --- connection ---

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

void on_sub_complete(void* closure)
{
    static_cast<node_impl*>(closure)->subs_alive_.fetch_sub(1, std::memory_order_acq_rel);
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

// --- outbound ---

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

// --- inbound ---

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

// --- monitors ---

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

// --- membership ---

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
