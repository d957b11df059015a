//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/server.hpp>

#include "server_state.hpp"

#include <spindle/error.hpp>
#include <spindle/log.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace spindle::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

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

} // namespace

using detail::allow_order;
using detail::duration_bounds_ns;
using detail::route_entry;
using detail::shared_state;

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
            detail::serve_connection(st, std::move(s), !refuse, refuse);
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
