//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/server.hpp>

#include <spindle/detail/trace_hooks.hpp>
#include <spindle/error.hpp>
#include <spindle/log.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace spindle::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

/// Adds `nice` to the calling thread's niceness (Linux threads have their
/// own); refused values are logged: the server runs either way.
void lower_priority(int nice) noexcept
{
    if(nice == 0)
        return;
    errno = 0;
    int const now = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    if(errno == 0 && ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), now + nice) == 0)
        return;
    try
    {
        SPINDLE_LOG(warning, "http") << "cannot lower the I/O thread's priority by " << nice << ": "
                                     << std::strerror(errno);
    }
    catch(...)
    {
    }
}


// The methods an OPTIONS * request is told about, and the order `Allow`
// lists them in; also the methods request counts name (others: "other").
constexpr verb allow_order[] = {
    verb::get, verb::head, verb::post, verb::put, verb::patch, verb::delete_, verb::options};
constexpr unsigned method_other = std::size(allow_order);

// The request duration histogram's bounds: 10 us to 10 s in 1-2.5-5 steps
// (metrics::default_buckets), in ns for integer comparisons.
constexpr std::array<std::uint64_t, 19> duration_bounds_ns = {
    10'000, 25'000, 50'000, 100'000, 250'000, 500'000,
    1'000'000, 2'500'000, 5'000'000, 10'000'000, 25'000'000, 50'000'000,
    100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
constexpr std::size_t duration_bucket_count = duration_bounds_ns.size() + 1;

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

constexpr std::size_t request_slots = 32;
constexpr std::uint32_t overflow_key = (std::uint32_t(method_other) + 1) << 16;

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

unsigned method_index(verb v) noexcept
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

// "Tue, 15 Nov 1994 08:12:31 GMT", formatted once per second per thread.
std::string_view http_date()
{
    thread_local std::time_t cached = 0;
    thread_local char buf[40] = {};
    thread_local std::size_t len = 0;
    std::time_t const now = std::time(nullptr);
    if(now != cached)
    {
        std::tm tm{};
        gmtime_r(&now, &tm);
        len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached = now;
    }
    return {buf, len};
}

bool is_tchar(char c) noexcept
{
    if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch(c)
    {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

std::string_view trim_ows(std::string_view s) noexcept
{
    while(!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while(!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

struct verdict
{
    status code = status::ok; // ok: acceptable
    char const* why = "";
};

bool starts_with_icase(std::string_view s, std::string_view prefix) noexcept
{
    return s.size() >= prefix.size() && beast::iequals(s.substr(0, prefix.size()), prefix);
}

/* RFC 9112 3.2: a request target is in origin-form (`/path`), in
   absolute-form (`http://host/path`), in asterisk-form (`*`, for OPTIONS
   only) or in authority-form (`host:port`, for CONNECT only, which a
   server that is not a proxy does not serve). */
verdict check_target_form(verb method, std::string_view target) noexcept
{
    if(target.front() == '/')
        return {};
    if(target == "*")
    {
        if(method == verb::options)
            return {};
        return {status::bad_request, "asterisk-form request target is only for OPTIONS"};
    }
    if(starts_with_icase(target, "http://") || starts_with_icase(target, "https://"))
        return {};
    return {status::bad_request, "request target is not a path or an absolute URI"};
}

/* The framing checks Beast 1.81's parser leaves to us (it accepts, for
   instance, `Transfer-Encoding: gzip` without chunked, a chunked coding
   that is not the last one, or a Transfer-Encoding before a
   Content-Length): anything that a proxy in front of us could frame
   differently is refused, and the connection closed (RFC 9112 6.1, 6.3). */
verdict check_request(bhttp::request_header<> const& h, std::size_t target_limit)
{
    if(h.target().size() > target_limit)
        return {status::uri_too_long, "request target too long"};
    if(h.target().empty())
        return {status::bad_request, "empty request target"};
    if(auto const form = check_target_form(h.method(), h.target()); form.code != status::ok)
        return form;
    int hosts = 0;
    int lengths = 0;
    std::vector<std::string_view> codings;
    bool has_te = false;
    for(auto const& f : h)
    {
        switch(f.name())
        {
        case bhttp::field::host:
            ++hosts;
            break;
        case bhttp::field::content_length:
        {
            ++lengths;
            auto const v = f.value();
            if(v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return {status::bad_request, "malformed Content-Length"};
            break;
        }
        case bhttp::field::transfer_encoding:
        {
            has_te = true;
            std::string_view v = f.value();
            while(!v.empty())
            {
                auto const comma = v.find(',');
                auto const item = trim_ows(v.substr(0, comma));
                v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
                if(item.empty())
                    continue; // empty list elements are allowed (RFC 9110 5.6.1)
                if(!std::all_of(item.begin(), item.end(), is_tchar))
                    return {status::bad_request, "malformed Transfer-Encoding"};
                codings.push_back(item);
            }
            break;
        }
        default:
            break;
        }
    }
    if(hosts > 1)
        return {status::bad_request, "repeated Host"};
    if(hosts == 0 && h.version() == 11)
        return {status::bad_request, "missing Host"};
    if(lengths > 1)
        return {status::bad_request, "repeated Content-Length"};
    if(has_te)
    {
        if(lengths != 0)
            return {status::bad_request, "both Transfer-Encoding and Content-Length"};
        if(h.version() != 11)
            return {status::bad_request, "Transfer-Encoding in an HTTP/1.0 request"};
        if(codings.empty())
            return {status::bad_request, "empty Transfer-Encoding"};
        if(!beast::iequals(codings.back(), "chunked"))
            return {status::bad_request, "Transfer-Encoding does not end with chunked"};
        for(std::size_t i = 0; i + 1 < codings.size(); ++i)
            if(beast::iequals(codings[i], "chunked"))
                return {status::bad_request, "chunked applied more than once"};
        if(codings.size() > 1)
            return {status::not_implemented, "unsupported transfer coding"};
    }
    return {};
}

// The path of an origin-form or absolute-form target, without the query.
std::string_view path_of(std::string_view target) noexcept
{
    for(std::string_view scheme : {std::string_view("http://"), std::string_view("https://")})
    {
        if(target.size() >= scheme.size() && beast::iequals(target.substr(0, scheme.size()), scheme))
        {
            auto const slash = target.find('/', scheme.size());
            target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
            break;
        }
    }
    return target.substr(0, target.find_first_of("?#"));
}

} // namespace

//----------------------------------------------------------------------------

// Looks paths up without building a std::string per request.
struct path_hash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
};

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
    std::unordered_map<detail::connection*, std::weak_ptr<detail::connection>> live; // guarded by m
    std::size_t unclosed = 0; // connections whose socket is still open; guarded by m

    // Last member: destroyed first, while the rest is still there. Only
    // servers that own their context have one.
    std::unique_ptr<asio::io_context> own_ioc;
};

namespace detail {

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

namespace {

template<class Executor>
class basic_connection final : public connection
{
public:
    using socket_type = asio::basic_stream_socket<tcp, Executor>;
    using timer_type = asio::basic_waitable_timer<clock_type, asio::wait_traits<clock_type>, Executor>;

    basic_connection(std::shared_ptr<shared_state> st, socket_type sock, bool counted, bool refuse)
        : st_(std::move(st))
        , sock_(std::move(sock))
        , timer_(sock_.get_executor())
        , buf_(st_->opts.header_limit + st_->opts.body_limit + 2 * read_chunk)
        , first_deadline_(clock_type::now() + st_->opts.first_request_timeout)
        , counted_(counted)
        , refuse_(refuse)
    {
    }

    ~basic_connection() override
    {
        end_span(0);
        std::lock_guard lk(st_->m);
        st_->live.erase(this);
        if(registered_ && phase_ != phase::closed)
            --st_->unclosed; // destroyed with its context, never closed by us
        if(counted_)
            st_->open.fetch_sub(1, std::memory_order_relaxed);
        st_->cv.notify_all();
    }

    basic_connection(basic_connection const&) = delete;
    basic_connection& operator=(basic_connection const&) = delete;

    void start()
    {
        {
            std::lock_guard lk(st_->m);
            st_->live.emplace(this, weak_from_this());
            ++st_->unclosed;
            registered_ = true;
        }
        boost::system::error_code ignored;
        sock_.set_option(tcp::no_delay(true), ignored);
        asio::dispatch(sock_.get_executor(), [self = self()] {
            if(self->refuse_)
                self->refuse();
            else
                self->read_next();
        });
    }

    void server_stopping(bool force) override
    {
        asio::dispatch(sock_.get_executor(), [self = self(), force] {
            if(force)
                return self->close_now();
            switch(self->phase_)
            {
            case phase::idle:
            case phase::reading:
                self->close_now();
                break;
            case phase::handling:
            case phase::writing:
                self->close_after_ = true;
                break;
            case phase::lingering:
            case phase::closed:
                break;
            }
        });
    }

    void deliver(response res) override
    {
        // A synchronous handler answers on the connection's own thread:
        // no hop through the queue.
        if(sock_.get_executor().running_in_this_thread())
            return on_response(std::move(res));
        std::lock_guard lk(gate_);
        if(detached_)
            return;
        asio::post(sock_.get_executor(), [self = self(), res = std::move(res)]() mutable {
            self->on_response(std::move(res));
        });
    }

    void evict() override
    {
        asio::dispatch(sock_.get_executor(), [self = self()] {
            switch(self->phase_)
            {
            case phase::idle:
            case phase::reading:
                self->st_->evicted.fetch_add(1, std::memory_order_relaxed);
                self->close_now();
                break;
            case phase::handling:
            case phase::writing:
                // completed its request just as it was chosen: answered, then closed
                self->st_->evicted.fetch_add(1, std::memory_order_relaxed);
                self->close_after_ = true;
                break;
            case phase::lingering:
            case phase::closed:
                break;
            }
        });
    }

    void detach() noexcept override
    {
        std::lock_guard lk(gate_);
        detached_ = true;
    }

    void release() noexcept override
    {
        close_now();
        parser_.reset();
        req_ = {};
        res_.reset();
        out_ = std::string();
        buf_.clear();
        buf_.shrink_to_fit();
    }

private:
    static constexpr std::size_t read_chunk = 4096;

    enum class phase : std::uint8_t
    {
        idle,      ///< waiting for the first byte of a request
        reading,   ///< reading a request
        handling,  ///< a handler has the request
        writing,   ///< sending a response
        lingering, ///< sent the last response; draining what the client still sends
        closed
    };

    std::shared_ptr<shared_state> st_;
    socket_type sock_;
    timer_type timer_;
    beast::flat_buffer buf_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    request req_;
    std::optional<response> res_;
    std::string out_; ///< the status line and header of the response being written
    std::mutex gate_; ///< deliveries from other threads against `detach`
    clock_type::time_point deadline_ = clock_type::time_point::max();
    clock_type::time_point timer_at_{};
    clock_type::time_point first_deadline_; ///< the first request must be in by then
    std::size_t chunk_ext_bytes_ = 0;       ///< of the request being read
    bool chunk_ext_too_long_ = false;
    bool served_ = false;                   ///< a request was read completely
    request_counters* counters_ = nullptr;  ///< where the response being sent counts
    clock_type::time_point dispatched_at_{};
    unsigned method_index_ = method_other;
    unsigned code_ = 0;
    std::size_t lingered_ = 0;
    phase phase_ = phase::idle;
    bool timer_armed_ = false;
    bool timed_out_ = false;
    bool close_after_ = false; ///< the server stops: the response in progress is the last
    bool keep_alive_ = false;  ///< of the response being written
    bool head_request_ = false;
    bool header_checked_ = false; ///< of the request being read
    bool version_checked_ = false; ///< the request line's version was looked at
    bool detached_ = false;       ///< guarded by gate_
    bool registered_ = false;
    bool counted_;
    bool refuse_;
    unsigned version_ = 11;
    /// The request's server span (spindle::trace's hooks), null when tracing is off.
    void* span_ = nullptr;
    spindle::detail::trace_hooks const* trace_ = nullptr;
    char discard_[1024];

    std::shared_ptr<basic_connection> self() noexcept
    {
        return std::static_pointer_cast<basic_connection>(shared_from_this());
    }

    //------------------------------------------------------------------------
    // deadlines: one timer, re-armed only when a deadline moves earlier

    void set_deadline(clock_type::duration d)
    {
        set_deadline_at(clock_type::now() + d);
    }

    void set_deadline_at(clock_type::time_point tp)
    {
        deadline_ = tp;
        if(!timer_armed_ || deadline_ < timer_at_)
            arm(deadline_);
    }

    // Waiting for a request (idle or reading it): until `d` from `now`, and
    // on a connection that has not completed one yet, no later than its
    // first-request deadline. False if the connection was chosen for
    // eviction meanwhile (then it is closed).
    bool wait_for_request(clock_type::time_point now, clock_type::duration d)
    {
        auto tp = now + d;
        if(!served_ && first_deadline_ < tp)
            tp = first_deadline_;
        set_deadline_at(tp);
        auto cur = waiting_since.load(std::memory_order_relaxed);
        if(cur == evicting)
            return false;
        if(cur == 0)
        {
            auto const since = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
            if(!waiting_since.compare_exchange_strong(cur, since, std::memory_order_acq_rel))
                return false; // chosen meanwhile
        }
        return true;
    }

    // Has a complete request (or is refusing one): not evictable now.
    // False if it was chosen for eviction first.
    bool stop_waiting() noexcept
    {
        auto cur = waiting_since.load(std::memory_order_relaxed);
        while(cur != evicting)
            if(waiting_since.compare_exchange_weak(cur, 0, std::memory_order_acq_rel))
                return true;
        return false;
    }

    void clear_deadline() noexcept { deadline_ = clock_type::time_point::max(); }

    void arm(clock_type::time_point tp)
    {
        timer_armed_ = true;
        timer_at_ = tp;
        timer_.expires_at(tp); // cancels a pending wait, whose handler then ignores it
        timer_.async_wait([self = self()](boost::system::error_code ec) {
            if(ec == asio::error::operation_aborted)
                return;
            self->on_timer();
        });
    }

    void on_timer()
    {
        timer_armed_ = false;
        if(phase_ == phase::closed || deadline_ == clock_type::time_point::max())
            return;
        if(clock_type::now() < deadline_)
            return arm(deadline_);
        timed_out_ = true;
        switch(phase_)
        {
        case phase::reading:
        {
            // The read fails and answers 408. Cancelling alone is not
            // enough: a read that has just completed, its handler still
            // queued, is not cancelled, and the next one would wait again.
            // Shutting the receiving side makes every later read end too.
            boost::system::error_code ignored;
            sock_.shutdown(tcp::socket::shutdown_receive, ignored);
            sock_.cancel(ignored);
            break;
        }
        case phase::idle:
        case phase::writing:
            st_->timeouts.fetch_add(1, std::memory_order_relaxed);
            close_now();
            break;
        case phase::lingering:
            close_now();
            break;
        case phase::handling:
        case phase::closed:
            break;
        }
    }

    //------------------------------------------------------------------------
    // reading: Beast's parser, fed from our buffer. Parsing what is already
    // here (a pipelined request) needs no trip through the queue, which
    // Beast's async_read would take to complete.

    void read_next()
    {
        if(phase_ == phase::closed)
            return;
        if(close_after_ || st_->stopping.load(std::memory_order_relaxed))
            return close_now();
        timed_out_ = false;
        if(buf_.size() != 0)
        {
            if(!begin_request()) // a pipelined request is already here
                return close_now();
            return parse();
        }
        phase_ = phase::idle;
        if(!wait_for_request(clock_type::now(), st_->opts.idle_timeout))
            return close_now();
        sock_.async_read_some(buf_.prepare(read_chunk),
            [self = self()](boost::system::error_code ec, std::size_t n) {
                if(self->phase_ == phase::closed)
                    return;
                if(ec)
                    return self->close_now();
                self->buf_.commit(n);
                if(!self->begin_request())
                    return self->close_now();
                self->parse();
            });
    }

    // Counts the chunk extensions of the request being read.
    struct chunk_header_cb
    {
        basic_connection* self;
        void operator()(std::uint64_t, beast::string_view ext, boost::system::error_code& ec)
        {
            self->chunk_ext_bytes_ += ext.size();
            if(self->chunk_ext_bytes_ > self->st_->opts.chunk_extensions_limit)
            {
                self->chunk_ext_too_long_ = true;
                ec = bhttp::error::bad_chunk_extension;
            }
        }
    };
    chunk_header_cb chunk_cb_{this};

    // False if the connection was chosen for eviction (then it closes).
    bool begin_request()
    {
        phase_ = phase::reading;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(st_->opts.header_limit));
        parser_->body_limit(st_->opts.body_limit);
        parser_->on_chunk_header(chunk_cb_);
        chunk_ext_bytes_ = 0;
        chunk_ext_too_long_ = false;
        header_checked_ = false;
        version_checked_ = false;
        return wait_for_request(clock_type::now(), st_->opts.read_timeout);
    }

    /* RFC 9112 2.3: a request of a higher minor version of HTTP/1 is
       answered as HTTP/1.1. Beast 1.81 refuses anything but 1.0 and 1.1,
       so the request line's version is rewritten before Beast reads it
       (it parses the request line only once the whole header is here). */
    void normalize_version() noexcept
    {
        auto const data = buf_.data();
        char* const p = static_cast<char*>(data.data());
        std::string_view const s(p, data.size());
        auto const eol = s.find("\r\n");
        if(eol == std::string_view::npos)
        {
            // the line is not complete yet; past the header limit Beast refuses it anyway
            version_checked_ = s.size() > st_->opts.header_limit;
            return;
        }
        version_checked_ = true;
        constexpr std::string_view http1 = "HTTP/1.";
        if(eol < http1.size() + 2)
            return;
        auto const v = eol - http1.size() - 1;
        if(s[v - 1] == ' ' && s.substr(v, http1.size()) == http1 && s[eol - 1] >= '2' && s[eol - 1] <= '9')
            p[eol - 1] = '1';
    }

    // Parses what the buffer holds; then dispatches, refuses, or reads more.
    void parse()
    {
        for(;;)
        {
            bool need_more = buf_.size() == 0;
            if(!need_more)
            {
                if(!version_checked_)
                    normalize_version();
                boost::system::error_code ec;
                auto const used = parser_->put(buf_.data(), ec);
                buf_.consume(used);
                if(ec == bhttp::error::need_more || (!ec && used == 0))
                    need_more = true;
                else if(ec)
                    return on_read_error(ec);
            }
            if(!header_checked_ && parser_->is_header_done())
            {
                header_checked_ = true;
                if(!on_header())
                    return; // refused, or sending 100 Continue first
            }
            if(parser_->is_done())
                return dispatch();
            if(need_more)
                return read_more();
        }
    }

    void read_more()
    {
        auto const size = beast::read_size(buf_, 65536);
        if(size == 0)
            return on_read_error(bhttp::error::buffer_overflow);
        sock_.async_read_some(buf_.prepare(size),
            [self = self()](boost::system::error_code ec, std::size_t n) {
                if(self->phase_ == phase::closed)
                    return;
                if(ec == asio::error::eof)
                {
                    // as Beast's read: the end of a message, or of the connection
                    if(!self->parser_->got_some())
                        return self->on_read_error(bhttp::error::end_of_stream);
                    ec = {};
                    self->parser_->put_eof(ec);
                    if(ec)
                        return self->on_read_error(ec);
                    return self->parse();
                }
                if(ec)
                    return self->on_read_error(ec);
                self->buf_.commit(n);
                self->parse();
            });
    }

    // The header is complete: true to go on reading the request.
    bool on_header()
    {
        auto const& h = parser_->get();
        version_ = h.version() == 10 ? 10 : 11;
        auto const v = check_request(h, st_->opts.target_limit);
        if(v.code != status::ok)
        {
            reject(v.code, v.why);
            return false;
        }
        if(parser_->is_done())
            return true;
        auto const expect = h[bhttp::field::expect];
        if(expect.empty())
            return true;
        if(!beast::iequals(expect, "100-continue"))
        {
            reject(status::expectation_failed, "unsupported Expect");
            return false;
        }
        if(h.version() != 11)
            return true;
        static constexpr char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        asio::async_write(sock_, asio::buffer(cont, sizeof cont - 1),
            [self = self()](boost::system::error_code ec, std::size_t) {
                if(self->phase_ == phase::closed)
                    return;
                if(ec)
                    return self->on_read_error(ec);
                self->parse();
            });
        return false;
    }

    // Past the header limit: was it the target (414) or the rest (431)?
    // Beast consumes the request line once it has parsed it (and then the
    // target is known); before that the buffer starts with it.
    bool target_too_long() const noexcept
    {
        auto const target = parser_->get().target();
        if(!target.empty())
            return target.size() > st_->opts.target_limit;
        auto const data = buf_.cdata();
        std::string_view const s(static_cast<char const*>(data.data()), data.size());
        auto const eol = s.find("\r\n");
        std::size_t const line = eol == std::string_view::npos ? s.size() : eol;
        return line > st_->opts.target_limit;
    }

    void on_read_error(boost::system::error_code ec)
    {
        if(phase_ == phase::closed)
            return;
        if(timed_out_)
        {
            st_->timeouts.fetch_add(1, std::memory_order_relaxed);
            return reject(status::request_timeout, "request timed out");
        }
        if(ec == bhttp::error::header_limit)
            return target_too_long() ? reject(status::uri_too_long, "request target too long")
                                     : reject(status::request_header_fields_too_large, "request header too large");
        if(ec == bhttp::error::body_limit)
            return reject(status::payload_too_large, "request body too large");
        if(chunk_ext_too_long_)
            return reject(status::bad_request, "chunk extensions too long");
        if(ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
           ec.category() != bhttp::make_error_code(bhttp::error::end_of_stream).category())
            return close_now(); // the client went away, or a socket error
        reject(status::bad_request, ec.message());
    }

    //------------------------------------------------------------------------
    // tracing (doc/tracing.md): a SERVER span per dispatched request, a child
    // of the request's `traceparent`, with the HTTP semantic conventions

    void begin_span(spindle::detail::trace_hooks const& h) noexcept
    {
        try
        {
            auto const target = req_.target();
            std::string_view const path = path_of(target);
            bool const routed = st_->routes.find(path) != st_->routes.end();
            // the conventions' known methods (RFC 9110 and PATCH, case-
            // sensitive); any other is `_OTHER`, named `HTTP` in the span
            // name, with the original in http.request.method_original
            std::string_view const original = req_.method_string();
            static constexpr std::string_view known[] = {
                "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
            bool const is_known = std::find(std::begin(known), std::end(known), original) != std::end(known);
            std::string_view const method = is_known ? original : std::string_view("_OTHER");
            std::string name(is_known ? original : std::string_view("HTTP"));
            if(routed)
            {
                name += ' ';
                name += path;
            }
            auto header = [&](std::string_view key) -> std::string_view {
                auto it = req_.find(key);
                return it == req_.end() ? std::string_view() : std::string_view(it->value());
            };
            trace_ = &h;
            span_ = h.start(name, 2 /* SERVER */, header("traceparent"), header("tracestate"));
            if(!span_)
                return;
            h.set_string(span_, "http.request.method", method);
            if(!is_known)
                h.set_string(span_, "http.request.method_original", original);
            h.set_string(span_, "url.path", path);
            if(target.size() > path.size() && target[path.size()] == '?')
                h.set_string(span_, "url.query", std::string_view(target).substr(path.size() + 1));
            h.set_string(span_, "url.scheme", "http");
            if(routed)
                h.set_string(span_, "http.route", path);
            h.set_string(span_, "network.protocol.version", version_ == 10 ? "1.0" : "1.1");
            if(auto ua = header("user-agent"); !ua.empty())
                h.set_string(span_, "user_agent.original", ua);
            boost::system::error_code ec;
            auto const peer = sock_.remote_endpoint(ec);
            if(!ec)
            {
                h.set_string(span_, "client.address", peer.address().to_string());
                h.set_int(span_, "client.port", peer.port());
            }
            auto const local = sock_.local_endpoint(ec);
            if(!ec)
                h.set_int(span_, "server.port", local.port());
        }
        catch(...)
        {
        }
    }

    /// Ends the request's span: `code` 0 when no response was sent.
    void end_span(unsigned code) noexcept
    {
        if(!span_)
            return;
        void* const s = std::exchange(span_, nullptr);
        if(code != 0)
            trace_->set_int(s, "http.response.status_code", code);
        // a server span is an error for 5xx only (the semantic conventions)
        char text[16] = "";
        if(code >= 500)
            std::snprintf(text, sizeof text, "%u", code);
        else if(code == 0)
            std::snprintf(text, sizeof text, "%s", "no response");
        if(text[0])
            trace_->set_string(s, "error.type", code == 0 ? std::string_view("aborted") : std::string_view(text));
        trace_->finish(s, text[0] != 0, text);
    }

    //------------------------------------------------------------------------
    // routing

    void dispatch()
    {
        phase_ = phase::handling;
        clear_deadline();
        served_ = true;
        if(!stop_waiting())
            close_after_ = true; // chosen for eviction as the request completed: answered, then closed
        st_->requests.fetch_add(1, std::memory_order_relaxed);
        req_ = parser_->release();
        parser_.reset();
        head_request_ = req_.method() == verb::head;
        keep_alive_ = req_.keep_alive();
        dispatched_at_ = clock_type::now();
        method_index_ = method_index(req_.method());
        counters_ = &st_->other_requests;
        if(auto const* h = spindle::detail::trace_hooks_table.load(std::memory_order_acquire)) [[unlikely]]
            begin_span(*h);

        if(req_.method() == verb::unknown)
            return respond_error(status::not_implemented, "unknown method", false);
        if(req_.method() == verb::options && req_.target() == "*")
            return respond_allow(st_->allow_all);
        auto const it = st_->routes.find(path_of(req_.target()));
        if(it == st_->routes.end())
            return respond_error(status::not_found, "no such resource", false);
        auto const& entry = it->second;
        counters_ = entry.counters.get();
        auto const* h = entry.find(req_.method());
        if(h == nullptr && head_request_)
            h = entry.find(verb::get);
        if(h == nullptr)
        {
            if(req_.method() == verb::options)
                return respond_allow(entry.allow);
            auto res = make_response(req_, status::method_not_allowed, "method not allowed\n");
            res.set(bhttp::field::allow, entry.allow);
            return on_response(std::move(res));
        }
        try
        {
            // the handler's tells and asks carry the request's span
            struct active
            {
                spindle::detail::trace_hooks const* h;
                void* token;
                ~active()
                {
                    if(token)
                        h->leave(token);
                }
            } const current{trace_, span_ ? trace_->activate(span_) : nullptr};
            (*h)(req_, responder(shared_from_this(), version_));
        }
        catch(std::exception const& e)
        {
            // the responder, destroyed unsent, answered 500
            SPINDLE_LOG(warning, "http") << "handler for " << req_.target() << " threw: " << e.what();
        }
        catch(...)
        {
            SPINDLE_LOG(warning, "http") << "handler for " << req_.target() << " threw";
        }
    }

    void respond_allow(std::string const& allow)
    {
        response res{status::no_content, version_};
        res.set(bhttp::field::allow, allow);
        on_response(std::move(res));
    }

    void respond_error(status s, std::string_view why, bool close)
    {
        std::string body = std::to_string(static_cast<unsigned>(s));
        body += ' ';
        body += bhttp::obsolete_reason(s);
        body += ": ";
        body += why;
        body += '\n';
        response res{s, version_};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.body() = std::move(body);
        if(close)
            close_after_ = true;
        on_response(std::move(res));
    }

    /// Refuses the request being read: answers and closes.
    void reject(status s, std::string_view why)
    {
        stop_waiting();
        counters_ = nullptr; // counted as rejected, not by route
        st_->rejected.fetch_add(1, std::memory_order_relaxed);
        SPINDLE_LOG(debug, "http") << "refused a request: " << static_cast<unsigned>(s) << ' ' << why;
        parser_.reset();
        head_request_ = false;
        keep_alive_ = false;
        phase_ = phase::handling;
        respond_error(s, why, true);
    }

    void refuse()
    {
        response res{status::service_unavailable, 11};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.set(bhttp::field::retry_after, "1");
        res.body() = "503 Service Unavailable: too many connections\n";
        keep_alive_ = false;
        close_after_ = true;
        phase_ = phase::handling;
        on_response(std::move(res));
    }

    //------------------------------------------------------------------------
    // writing: the status line and header go into a buffer the connection
    // keeps (its capacity stays from one response to the next); the body is
    // written from the response itself, both in one gathered write.

    void on_response(response res)
    {
        if(phase_ != phase::handling)
            return; // closed meanwhile, or a second answer
        bool const keep = keep_alive_ && !close_after_ && !st_->stopping.load(std::memory_order_relaxed);
        keep_alive_ = keep;
        res_.emplace(std::move(res));
        auto const code = res_->result_int();
        code_ = code;
        if(span_) [[unlikely]]
        {
            char tp[spindle::detail::traceparent_size + 1];
            trace_->traceparent(span_, tp);
            if(tp[0])
                res_->set("traceparent", tp);
            end_span(code);
        }
        bool const bodiless = code == 204 || code == 304 || code < 200;
        if(bodiless)
            res_->body().clear();
        write_header(*res_, keep, bodiless);
        phase_ = phase::writing;
        set_deadline(st_->opts.write_timeout);
        std::array<asio::const_buffer, 2> const bufs{
            asio::buffer(out_), head_request_ ? asio::const_buffer() : asio::buffer(res_->body())};
        asio::async_write(sock_, bufs,
            [self = self()](boost::system::error_code ec, std::size_t) { self->on_write(ec); });
    }

    /* What Beast's serializer would write after `res.version(version_)`,
       `res.keep_alive(keep)`, `Server`, `Date` and `Content-Length` set
       (none for 1xx, 204 and 304) and `Transfer-Encoding` erased: the
       handler's own values of these fields are replaced, and its other
       fields kept in their order. */
    void write_header(response const& res, bool keep, bool bodiless)
    {
        using namespace std::string_view_literals;
        auto& o = out_;
        o.clear();
        o.append(version_ == 10 ? "HTTP/1.0 "sv : "HTTP/1.1 "sv);
        append_number(o, res.result_int());
        o += ' ';
        o.append(res.reason());
        o.append("\r\n"sv);
        bool const own_server = !st_->opts.server_name.empty();
        for(auto const& f : res)
        {
            switch(f.name())
            {
            case bhttp::field::date:
            case bhttp::field::content_length:
            case bhttp::field::transfer_encoding:
            case bhttp::field::connection:
                continue;
            case bhttp::field::server:
                if(own_server)
                    continue;
                break;
            default:
                break;
            }
            o.append(f.name_string());
            o.append(": "sv);
            o.append(f.value());
            o.append("\r\n"sv);
        }
        if(own_server)
        {
            o.append("Server: "sv);
            o.append(st_->opts.server_name);
            o.append("\r\n"sv);
        }
        o.append("Date: "sv);
        o.append(http_date());
        o.append("\r\n"sv);
        if(!bodiless)
        {
            o.append("Content-Length: "sv);
            append_number(o, res.body().size());
            o.append("\r\n"sv);
        }
        if(version_ == 11 && !keep)
            o.append("Connection: close\r\n"sv);
        else if(version_ == 10 && keep)
            o.append("Connection: keep-alive\r\n"sv);
        o.append("\r\n"sv);
    }

    static void append_number(std::string& o, std::size_t v)
    {
        char digits[20];
        auto const r = std::to_chars(digits, digits + sizeof digits, v);
        o.append(digits, static_cast<std::size_t>(r.ptr - digits));
    }

    void on_write(boost::system::error_code ec)
    {
        res_.reset();
        if(counters_ != nullptr)
        {
            counters_->observe(method_index_, code_, clock_type::now() - dispatched_at_);
            counters_ = nullptr;
        }
        if(phase_ == phase::closed)
            return;
        if(ec)
        {
            if(timed_out_)
                st_->timeouts.fetch_add(1, std::memory_order_relaxed);
            return close_now();
        }
        if(!keep_alive_)
            return linger();
        read_next();
    }

    //------------------------------------------------------------------------
    // closing

    // Closing a socket with unread input makes the kernel send a reset,
    // which can destroy the response before the client read it: send FIN,
    // then read and drop what still comes, for a short while.
    void linger()
    {
        phase_ = phase::lingering;
        boost::system::error_code ignored;
        sock_.shutdown(tcp::socket::shutdown_send, ignored);
        set_deadline(std::min<clock_type::duration>(std::chrono::seconds(1), st_->opts.read_timeout));
        drain();
    }

    void drain()
    {
        sock_.async_read_some(asio::buffer(discard_),
            [self = self()](boost::system::error_code ec, std::size_t n) {
                self->lingered_ += n;
                if(ec || self->lingered_ > 1024 * 1024 || self->phase_ == phase::closed)
                    return self->close_now();
                self->drain();
            });
    }

    void close_now() noexcept
    {
        end_span(0);
        if(phase_ == phase::closed)
            return;
        phase_ = phase::closed;
        waiting_since.store(0, std::memory_order_relaxed);
        clear_deadline();
        boost::system::error_code ignored;
        sock_.shutdown(tcp::socket::shutdown_both, ignored);
        sock_.close(ignored);
        timer_.cancel();
        std::lock_guard lk(st_->m);
        if(--st_->unclosed == 0)
            st_->cv.notify_all();
    }
};

} // namespace

} // namespace detail

//----------------------------------------------------------------------------
// responder

responder::responder(std::shared_ptr<detail::connection> conn, unsigned version) noexcept
    : conn_(std::move(conn))
    , version_(version)
{
}

responder& responder::operator=(responder&& other) noexcept
{
    if(this != &other)
    {
        if(conn_)
        {
            try
            {
                send(response{status::internal_server_error, version_});
            }
            catch(...)
            {
            }
        }
        conn_ = std::move(other.conn_);
        version_ = other.version_;
    }
    return *this;
}

responder::~responder()
{
    if(!conn_)
        return;
    try
    {
        response res{status::internal_server_error, version_};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.body() = "500 Internal Server Error: the handler gave no response\n";
        send(std::move(res));
    }
    catch(...)
    {
    }
}

void responder::send(response res)
{
    if(!conn_)
        return;
    auto c = std::move(conn_);
    c->deliver(std::move(res));
}

response make_response(request const& req, status s, std::string body, std::string_view content_type)
{
    response res{s, req.version()};
    if(!content_type.empty())
        res.set(bhttp::field::content_type, content_type);
    res.body() = std::move(body);
    return res;
}

//----------------------------------------------------------------------------
// server

struct server::impl : std::enable_shared_from_this<server::impl>
{
    std::shared_ptr<shared_state> st;
    asio::io_context* ioc;
    std::optional<asio::strand<asio::io_context::executor_type>> strand;
    std::optional<tcp::acceptor> acceptor;
    std::optional<asio::steady_timer> retry_timer;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    mutable std::mutex endpoint_m;
    tcp::endpoint endpoint; // guarded by endpoint_m
    std::atomic<std::uint16_t> port{0};
    std::mutex lifecycle; // start / stop
    bool started = false;
    bool stopped = false;

    bool single_thread = false; // own context, one thread: connections need no strand

    void do_accept()
    {
        if(single_thread)
            accept_on(ioc->get_executor());
        else
            accept_on(asio::make_strand(*ioc));
    }

    template<class Executor>
    void accept_on(Executor ex)
    {
        using socket_type = asio::basic_stream_socket<tcp, Executor>;
        acceptor->async_accept(ex,
            asio::bind_executor(*strand, [self = shared_from_this()](boost::system::error_code ec, socket_type s) {
                self->on_accept(ec, std::move(s));
            }));
    }

    template<class Socket>
    void on_accept(boost::system::error_code ec, Socket s)
    {
        if(ec == asio::error::operation_aborted || !acceptor->is_open() || st->stopping.load())
            return;
        if(ec)
        {
            SPINDLE_LOG(warning, "http") << "accept failed: " << ec.message();
            // out of descriptors or memory: give the system a moment instead of spinning
            retry_timer->expires_after(std::chrono::milliseconds(100));
            retry_timer->async_wait(asio::bind_executor(*strand, [self = shared_from_this()](boost::system::error_code e) {
                if(!e && self->acceptor->is_open())
                    self->do_accept();
            }));
            return;
        }
        bool const refuse =
            st->open.load(std::memory_order_relaxed) >= st->opts.max_connections && !evict_one();
        if(refuse)
            st->refused.fetch_add(1, std::memory_order_relaxed);
        else
        {
            st->accepted.fetch_add(1, std::memory_order_relaxed);
            st->open.fetch_add(1, std::memory_order_relaxed);
        }
        try
        {
            using connection_type = detail::basic_connection<typename Socket::executor_type>;
            std::make_shared<connection_type>(st, std::move(s), !refuse, refuse)->start();
        }
        catch(std::exception const& e)
        {
            SPINDLE_LOG(warning, "http") << "cannot serve a connection: " << e.what();
        }
        do_accept();
    }

    /* At the cap: closes the connection that has waited longest for a
       request it has not completely sent (a silent or trickling client, or
       an idle kept-alive one) to make room. False if every connection is
       busy with a request. Scans the connections: only at the cap. */
    bool evict_one()
    {
        std::shared_ptr<detail::connection> victim;
        for(int attempt = 0; attempt < 4 && !victim; ++attempt)
        {
            std::lock_guard lk(st->m);
            detail::connection* oldest = nullptr;
            std::int64_t oldest_since = 0;
            std::weak_ptr<detail::connection> const* oldest_weak = nullptr;
            for(auto const& [p, w] : st->live)
            {
                auto const since = p->waiting_since.load(std::memory_order_relaxed);
                if(since > 0 && (oldest == nullptr || since < oldest_since))
                {
                    oldest = p;
                    oldest_since = since;
                    oldest_weak = &w;
                }
            }
            if(oldest == nullptr)
                return false;
            if(!oldest->claim_for_eviction(oldest_since))
                continue; // it got a request or was closed meanwhile: look again
            victim = oldest_weak->lock();
            if(!victim)
                return true; // being destroyed: its slot is free anyway
        }
        if(!victim)
            return false;
        victim->evict();
        return true;
    }

    std::vector<std::shared_ptr<detail::connection>> live_connections()
    {
        std::vector<std::shared_ptr<detail::connection>> out;
        std::lock_guard lk(st->m);
        out.reserve(st->live.size());
        for(auto const& [p, w] : st->live)
            if(auto c = w.lock())
                out.push_back(std::move(c));
        return out;
    }
};

namespace {

void validate(server_options const& o)
{
    if(o.max_connections == 0 || o.header_limit == 0 || o.target_limit == 0 ||
       o.target_limit > o.header_limit || o.header_limit > 0xffffffffu ||
       o.read_timeout <= std::chrono::nanoseconds::zero() || o.idle_timeout <= std::chrono::nanoseconds::zero() ||
       o.write_timeout <= std::chrono::nanoseconds::zero() ||
       o.first_request_timeout <= std::chrono::nanoseconds::zero() ||
       o.shutdown_deadline < std::chrono::nanoseconds::zero())
        spindle::detail::throw_error(error::invalid_argument, "spindle::http::server_options");
}

} // namespace

server::server(server_options opts) : impl_(std::make_shared<impl>())
{
    validate(opts);
    if(opts.threads == 0)
        spindle::detail::throw_error(error::invalid_argument, "spindle::http::server_options: threads is 0");
    impl_->st = std::make_shared<shared_state>();
    impl_->st->own_ioc = std::make_unique<asio::io_context>(static_cast<int>(opts.threads));
    impl_->st->opts = std::move(opts);
    impl_->ioc = impl_->st->own_ioc.get();
}

server::server(asio::io_context& ioc, server_options opts) : impl_(std::make_shared<impl>())
{
    validate(opts);
    impl_->st = std::make_shared<shared_state>();
    impl_->st->opts = std::move(opts);
    impl_->ioc = &ioc;
}

server::~server()
{
    stop();
}

void server::route_async(std::string_view path, std::initializer_list<verb> methods, async_handler_type h,
                         boost::system::error_code& ec)
{
    std::lock_guard lk(impl_->lifecycle);
    ec = make_error_code(error::invalid_argument);
    if(impl_->started || !h || path.empty() || path.front() != '/' || methods.size() == 0 ||
       path.find_first_of("?# \t\r\n") != std::string_view::npos)
        return;
    auto& entry = impl_->st->routes[std::string(path)];
    for(verb m : methods)
        if(m == verb::unknown || entry.find(m) != nullptr)
            return;
    for(verb m : methods)
        entry.handlers.emplace_back(m, h);
    ec = {};
}

void server::route_async(std::string_view path, std::initializer_list<verb> methods, async_handler_type h)
{
    boost::system::error_code ec;
    route_async(path, methods, std::move(h), ec);
    if(ec)
    {
        std::string const what = "spindle::http::server::route: cannot route " + std::string(path);
        spindle::detail::throw_error(ec, what.c_str());
    }
}

void server::route(std::string_view path, std::initializer_list<verb> methods, handler_type h,
                   boost::system::error_code& ec)
{
    if(!h)
    {
        ec = make_error_code(error::invalid_argument);
        return;
    }
    route_async(path, methods,
        [h = std::move(h)](request const& req, responder r) { r.send(h(req)); }, ec);
}

void server::route(std::string_view path, std::initializer_list<verb> methods, handler_type h)
{
    boost::system::error_code ec;
    route(path, methods, std::move(h), ec);
    if(ec)
    {
        std::string const what = "spindle::http::server::route: cannot route " + std::string(path);
        spindle::detail::throw_error(ec, what.c_str());
    }
}

void server::route(std::string_view path, handler_type h)
{
    route(path, {verb::get}, std::move(h));
}

void server::start(boost::system::error_code& ec)
{
    auto& im = *impl_;
    std::lock_guard lk(im.lifecycle);
    if(im.started || im.stopped)
    {
        ec = make_error_code(error::invalid_argument);
        return;
    }
    auto& st = *im.st;
    auto const address = asio::ip::make_address(st.opts.address, ec);
    if(ec)
        return;

    // Allow headers, fixed from now on.
    for(auto& [path, entry] : st.routes)
    {
        std::string allow;
        for(verb m : allow_order)
        {
            bool const has = entry.find(m) != nullptr || (m == verb::head && entry.find(verb::get) != nullptr) ||
                             m == verb::options;
            if(!has)
                continue;
            if(!allow.empty())
                allow += ", ";
            allow += bhttp::to_string(m);
        }
        for(auto const& [m, h] : entry.handlers)
        {
            if(std::find(std::begin(allow_order), std::end(allow_order), m) != std::end(allow_order))
                continue;
            allow += ", ";
            allow += bhttp::to_string(m);
        }
        entry.allow = std::move(allow);
    }
    st.allow_all.clear();
    for(verb m : allow_order)
    {
        bool has = m == verb::options;
        for(auto const& [path, entry] : st.routes)
            has = has || entry.find(m) != nullptr || (m == verb::head && entry.find(verb::get) != nullptr);
        if(!has)
            continue;
        if(!st.allow_all.empty())
            st.allow_all += ", ";
        st.allow_all += bhttp::to_string(m);
    }

    im.single_thread = st.own_ioc != nullptr && st.opts.threads == 1;
    im.strand.emplace(asio::make_strand(*im.ioc));
    im.acceptor.emplace(*im.strand);
    im.retry_timer.emplace(*im.strand);
    tcp::endpoint const ep(address, st.opts.port);
    auto fail = [&] {
        boost::system::error_code ignored;
        im.acceptor->close(ignored);
    };
    im.acceptor->open(ep.protocol(), ec);
    if(ec)
        return fail();
    im.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if(ec)
        return fail();
    im.acceptor->bind(ep, ec);
    if(ec)
        return fail();
    im.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if(ec)
        return fail();
    auto const local = im.acceptor->local_endpoint(ec);
    if(ec)
        return fail();
    {
        std::lock_guard lk2(im.endpoint_m);
        im.endpoint = local;
    }
    im.port.store(local.port());
    im.started = true;
    st.routes_fixed.store(true, std::memory_order_release);

    asio::dispatch(*im.strand, [self = impl_] { self->do_accept(); });
    if(st.own_ioc)
    {
        im.work.emplace(im.ioc->get_executor());
        for(unsigned i = 0; i < st.opts.threads; ++i)
        {
            im.threads.emplace_back([ioc = im.ioc, nice = st.opts.io_nice] {
                lower_priority(nice);
                for(;;)
                {
                    try
                    {
                        ioc->run();
                        return;
                    }
                    catch(std::exception const& e)
                    {
                        SPINDLE_LOG(error, "http") << "exception out of an I/O handler: " << e.what();
                    }
                    catch(...)
                    {
                        SPINDLE_LOG(error, "http") << "exception out of an I/O handler";
                    }
                }
            });
        }
    }
    SPINDLE_LOG(info, "http") << "listening on " << local;
}

void server::start()
{
    boost::system::error_code ec;
    start(ec);
    if(ec)
    {
        std::string what = "spindle::http::server::start: " + impl_->st->opts.address + ":" +
                           std::to_string(impl_->st->opts.port);
        spindle::detail::throw_error(ec, what.c_str());
    }
}

void server::stop() noexcept
{
    auto& im = *impl_;
    std::lock_guard lk(im.lifecycle);
    if(im.stopped)
        return;
    im.stopped = true;
    if(!im.started)
        return;
    auto& st = *im.st;
    st.stopping.store(true);
    asio::dispatch(*im.strand, [self = impl_] {
        boost::system::error_code ignored;
        self->acceptor->close(ignored);
        self->retry_timer->cancel();
    });
    for(auto& c : im.live_connections())
        c->server_stopping(false);

    if(!st.own_ioc)
    {
        // The application runs the context: finish what is left on it.
        auto timer = std::make_shared<asio::steady_timer>(*im.ioc, st.opts.shutdown_deadline);
        timer->async_wait([timer, self = impl_](boost::system::error_code) {
            for(auto& c : self->live_connections())
                c->server_stopping(true);
        });
        return;
    }

    auto const self_thread = std::find_if(im.threads.begin(), im.threads.end(),
        [](std::thread const& t) { return t.get_id() == std::this_thread::get_id(); });
    if(self_thread != im.threads.end())
    {
        // Called from a handler, against the rules: do not deadlock.
        SPINDLE_LOG(error, "http") << "server::stop called from one of its handlers; threads detached";
        im.work.reset();
        for(auto& t : im.threads)
            t.detach();
        im.threads.clear();
        return;
    }
    {
        // Closed is enough: a connection whose responder the application
        // still holds stays, closed, until the responder goes.
        std::unique_lock lk2(st.m);
        if(!st.cv.wait_for(lk2, st.opts.shutdown_deadline, [&] { return st.unclosed == 0; }))
        {
            lk2.unlock();
            for(auto& c : im.live_connections())
                c->server_stopping(true);
            lk2.lock();
            st.cv.wait_for(lk2, std::chrono::seconds(1), [&] { return st.unclosed == 0; });
        }
    }
    // From now on nothing is queued on the context: a responder sent later
    // (from any thread, even after the server is gone) does nothing, and a
    // connection it holds is freed with it. What was queued before runs now.
    auto const left = im.live_connections();
    for(auto& c : left)
        c->detach();
    im.work.reset();
    for(auto& t : im.threads)
        t.join();
    im.threads.clear();
    for(auto& c : left)
        c->release();
}

std::uint16_t server::port() const noexcept
{
    return impl_->port.load();
}

boost::asio::ip::tcp::endpoint server::local_endpoint() const noexcept
{
    std::lock_guard lk(impl_->endpoint_m);
    return impl_->endpoint;
}

server_stats server::stats() const noexcept
{
    auto const& st = *impl_->st;
    server_stats s;
    s.accepted = st.accepted.load(std::memory_order_relaxed);
    s.refused = st.refused.load(std::memory_order_relaxed);
    s.evicted = st.evicted.load(std::memory_order_relaxed);
    s.requests = st.requests.load(std::memory_order_relaxed);
    s.rejected = st.rejected.load(std::memory_order_relaxed);
    s.timeouts = st.timeouts.load(std::memory_order_relaxed);
    s.open = st.open.load(std::memory_order_relaxed);
    return s;
}

std::vector<route_stats> server::request_stats() const
{
    auto const& st = *impl_->st;
    std::vector<route_stats> out;
    if(!st.routes_fixed.load(std::memory_order_acquire))
        return out;
    for(auto const& [path, entry] : st.routes)
        entry.counters->read(path, out);
    st.other_requests.read("other", out);
    return out;
}

std::span<double const> server::request_duration_bounds() noexcept
{
    static constexpr auto bounds = [] {
        std::array<double, duration_bounds_ns.size()> b{};
        for(std::size_t i = 0; i < b.size(); ++i)
            b[i] = static_cast<double>(duration_bounds_ns[i]) / 1e9;
        return b;
    }();
    return bounds;
}

server_options const& server::options() const noexcept
{
    return impl_->st->opts;
}

} // namespace spindle::http
