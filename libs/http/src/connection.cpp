//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A connection of spindle::http::server: reads requests, checks them,
// hands them to their route, writes the responses, within the server's
// timeouts and limits.

#include "request_check.hpp"
#include "server_state.hpp"

#include <spindle/detail/trace_hooks.hpp>
#include <spindle/error.hpp>
#include <spindle/log.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

namespace spindle::http::detail {

namespace {

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

void serve_connection(std::shared_ptr<shared_state> st, asio::basic_stream_socket<tcp, asio::io_context::executor_type> s,
                      bool counted, bool refuse)
{
    using connection_type = basic_connection<asio::io_context::executor_type>;
    std::make_shared<connection_type>(std::move(st), std::move(s), counted, refuse)->start();
}

void serve_connection(std::shared_ptr<shared_state> st,
                      asio::basic_stream_socket<tcp, asio::strand<asio::io_context::executor_type>> s, bool counted,
                      bool refuse)
{
    using connection_type = basic_connection<asio::strand<asio::io_context::executor_type>>;
    std::make_shared<connection_type>(std::move(st), std::move(s), counted, refuse)->start();
}

} // namespace spindle::http::detail
