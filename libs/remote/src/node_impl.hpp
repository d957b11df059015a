//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The private parts of spindle::remote::node shared by its sources: the
// wire's headers and frame, the node's state (node_impl) with its watcher
// actor and the proxy behind every remote reference. node_impl's members
// are defined by concern: node_connection.cpp (connect, close),
// node_outbound.cpp (send), node_inbound.cpp (deliver, replies),
// node_monitors.cpp (monitors across nodes, control messages),
// node_membership.cpp (heartbeats, peers, stats, metrics); node.cpp holds
// refs in messages and the public `node`.

#ifndef SPINDLE_REMOTE_SRC_NODE_IMPL_HPP
#define SPINDLE_REMOTE_SRC_NODE_IMPL_HPP

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

// Wire headers (doc/remote.md).
inline constexpr char const* h_type = "Spindle-Type";
inline constexpr char const* h_version = "Spindle-Version";
inline constexpr char const* h_codec = "Spindle-Codec";
inline constexpr char const* h_status = "Spindle-Status";
inline constexpr char const* h_error = "Spindle-Error";
inline constexpr char const* h_control = "Spindle-Control";
// W3C Trace Context, as HTTP spells them (NATS header names are case-sensitive)
inline constexpr char const* h_traceparent = "traceparent";
inline constexpr char const* h_tracestate = "tracestate";

inline boost::system::error_code nats_error(natsStatus s)
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

inline bool valid_name(std::string_view n) noexcept
{
    if(n.empty() || n.size() > 200)
        return false;
    for(char c : n)
        if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.'))
            return false;
    return n.front() != '.' && n.back() != '.' && n.find("..") == std::string_view::npos;
}

inline char const* header(natsMsg* m, char const* key) noexcept
{
    char const* v = nullptr;
    if(natsMsgHeader_Get(m, key, &v) != NATS_OK)
        return nullptr;
    return v;
}

inline std::string_view data_of(natsMsg* m) noexcept
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
inline constexpr char frame_magic[4] = {'\0', 'S', 'P', 'N'};
inline constexpr char frame_magic_traced[4] = {'\0', 'S', 'P', 'T'};
inline constexpr std::size_t max_tracestate = 0xffff;

/// The trace context a message travels with (views into the message).
struct wire_trace
{
    std::string_view traceparent;
    std::string_view tracestate;
};

inline void write_frame(std::string& out, std::string_view name, unsigned version, std::string_view payload,
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

inline bool read_frame(std::string_view d, std::string_view& name, unsigned& version, std::string_view& payload,
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

inline std::string error_header(boost::system::error_code ec)
{
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

inline boost::system::error_code parse_error_header(char const* v)
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
inline thread_local node_impl* tl_codec_node = nullptr;

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

/// cnats' completion callback of a node's subscription (node_connection.cpp):
/// `closure` is the node, whose live subscriptions it counts down.
void on_sub_complete(void* closure);

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

} // namespace detail
} // namespace spindle::remote

#endif
