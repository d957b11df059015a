//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The server's private parts shared by its sources: the routes and their
// request counters, the state a server and its connections share, and the
// connection as the server and responders see it (server.cpp: the server's
// lifecycle and routing; connection.cpp: a connection; request_check.cpp:
// the checks a request header passes).

#ifndef SPINDLE_HTTP_SRC_SERVER_STATE_HPP
#define SPINDLE_HTTP_SRC_SERVER_STATE_HPP

#include <spindle/http/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spindle::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

// The methods an OPTIONS * request is told about, and the order `Allow`
// lists them in; also the methods request counts name (others: "other").
inline constexpr verb allow_order[] = {
    verb::get, verb::head, verb::post, verb::put, verb::patch, verb::delete_, verb::options};
inline constexpr unsigned method_other = std::size(allow_order);

// The request duration histogram's bounds: 10 us to 10 s in 1-2.5-5 steps
// (metrics::default_buckets), in ns for integer comparisons.
inline constexpr std::array<std::uint64_t, 19> duration_bounds_ns = {
    10'000, 25'000, 50'000, 100'000, 250'000, 500'000,
    1'000'000, 2'500'000, 5'000'000, 10'000'000, 25'000'000, 50'000'000,
    100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
inline constexpr std::size_t duration_bucket_count = duration_bounds_ns.size() + 1;

/* Requests answered, by method and status code, for one route: a few
   slots claimed on first use (no lock; a key is never released), each
   with a duration histogram. Past the slots, requests count in the last
   one, whose method and code are "other". */
struct request_slot
{
    std::atomic<std::uint32_t> key{0}; // (method index + 1) << 16 | code; 0: free
    std::atomic<std::uint64_t> sum_ns{0};
    std::array<std::atomic<std::uint64_t>, duration_bucket_count> buckets{}; // not cumulative; the last: +Inf
};

inline constexpr std::size_t request_slots = 32;
inline constexpr std::uint32_t overflow_key = (std::uint32_t(method_other) + 1) << 16;

struct request_counters
{
    std::array<request_slot, request_slots> slots;

    void observe(unsigned method, unsigned code, std::chrono::nanoseconds d) noexcept
    {
        std::uint32_t const key = (std::uint32_t(method) + 1) << 16 | (code & 0xffff);
        request_slot* slot = &slots.back();
        for(std::size_t i = 0; i + 1 < slots.size(); ++i)
        {
            auto& s = slots[i];
            auto k = s.key.load(std::memory_order_acquire);
            if(k == 0 && s.key.compare_exchange_strong(k, key, std::memory_order_acq_rel))
                k = key;
            if(k == key)
            {
                slot = &s;
                break;
            }
        }
        if(slot == &slots.back())
        {
            std::uint32_t k = 0;
            slot->key.compare_exchange_strong(k, overflow_key, std::memory_order_relaxed);
        }
        auto const ns = static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count()));
        std::size_t b = 0;
        while(b < duration_bounds_ns.size() && ns > duration_bounds_ns[b])
            ++b;
        slot->buckets[b].fetch_add(1, std::memory_order_relaxed);
        slot->sum_ns.fetch_add(ns, std::memory_order_relaxed);
    }

    void read(std::string_view path, std::vector<route_stats>& out) const
    {
        for(auto const& s : slots)
        {
            auto const key = s.key.load(std::memory_order_acquire);
            if(key == 0)
                continue;
            route_stats r;
            r.path = path;
            unsigned const m = (key >> 16) - 1;
            r.method = m < std::size(allow_order) ? std::string(bhttp::to_string(allow_order[m])) : "other";
            r.code = key == overflow_key && &s == &slots.back() ? 0 : key & 0xffff;
            r.duration_buckets.reserve(duration_bucket_count);
            std::uint64_t cumulative = 0;
            for(auto const& b : s.buckets)
            {
                cumulative += b.load(std::memory_order_relaxed);
                r.duration_buckets.push_back(cumulative);
            }
            r.count = cumulative;
            r.duration_sum = static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) * 1e-9;
            out.push_back(std::move(r));
        }
    }
};

inline unsigned method_index(verb v) noexcept
{
    for(unsigned i = 0; i < std::size(allow_order); ++i)
        if(allow_order[i] == v)
            return i;
    return method_other;
}

struct route_entry
{
    std::vector<std::pair<verb, async_handler_type>> handlers;
    std::string allow; // computed at start
    std::unique_ptr<request_counters> counters = std::make_unique<request_counters>();

    async_handler_type const* find(verb v) const noexcept
    {
        for(auto const& [m, h] : handlers)
            if(m == v)
                return &h;
        return nullptr;
    }
};


// Looks paths up without building a std::string per request.
struct path_hash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
};

class connection;

struct shared_state
{
    server_options opts;
    std::unordered_map<std::string, route_entry, path_hash, std::equal_to<>> routes; // fixed once started
    std::string allow_all;                                 // for OPTIONS *
    request_counters other_requests;                       // requests no route matched
    std::atomic<bool> routes_fixed{false};                 // started: `routes` no longer changes

    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> accepted{0}, refused{0}, evicted{0}, requests{0}, rejected{0}, timeouts{0};
    std::atomic<std::size_t> open{0};

    std::mutex m;
    std::condition_variable cv;
    std::unordered_map<connection*, std::weak_ptr<connection>> live; // guarded by m
    std::size_t unclosed = 0; // connections whose socket is still open; guarded by m

    // Last member: destroyed first, while the rest is still there. Only
    // servers that own their context have one.
    std::unique_ptr<asio::io_context> own_ioc;
};

/* A connection, as responders and the server see it. Two kinds derive
   from it: one on a strand (a context run by several threads, or the
   application's), one on the bare executor of a context that only one
   thread runs, where a strand would only add a lock per handler.

   Ownership: every pending operation and every unsent responder holds the
   connection. A server that owns its context owns it through the shared
   state, which the connection holds too: once that context has stopped
   for good, nothing may be queued on it any more (a queued handler would
   hold the connection, which holds the context, which holds the handler),
   so `detach` closes the gate first and later deliveries are dropped. */
class connection : public std::enable_shared_from_this<connection>
{
public:
    virtual ~connection() = default;

    /// Any thread: the response of the request being handled.
    virtual void deliver(response res) = 0;

    /// Any thread: the server stops (force: its deadline passed).
    virtual void server_stopping(bool force) = 0;

    /// The server's own context runs no more handlers: drop what comes.
    virtual void detach() noexcept = 0;

    /// After `detach`, with no thread running the context: frees the buffers.
    virtual void release() noexcept = 0;

    /// Any thread, after `claim_for_eviction` succeeded: closes the
    /// connection if it still waits for a request, else after its response.
    virtual void evict() = 0;

    /** When the connection started waiting for the request it has not
        completely received (steady clock, ns): 0 while it handles or
        answers one, or once closed; `evicting` once chosen for eviction. */
    std::atomic<std::int64_t> waiting_since{0};

    static constexpr std::int64_t evicting = -1;

    /// Marks the connection as chosen, if it still waits since `since`.
    bool claim_for_eviction(std::int64_t since) noexcept
    {
        return waiting_since.compare_exchange_strong(since, evicting, std::memory_order_acq_rel);
    }
};

/// Serves a connection the server accepted on its own single-threaded
/// context (no strand) or on a strand: `counted` if it counts toward
/// `open`, `refuse` to answer 503 and close (over the connection cap).
void serve_connection(std::shared_ptr<shared_state> st, asio::basic_stream_socket<tcp, asio::io_context::executor_type> s,
                      bool counted, bool refuse);
void serve_connection(std::shared_ptr<shared_state> st,
                      asio::basic_stream_socket<tcp, asio::strand<asio::io_context::executor_type>> s, bool counted,
                      bool refuse);

} // namespace spindle::http::detail

#endif
