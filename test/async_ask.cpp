//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/async_ask.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using namespace spindle_test;

namespace {

/** An io_context run by one thread of its own, stopped and joined at the
    end of the test case (declare it before the system: it outlives it).
*/
struct io_thread
{
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
    std::thread thread{[this] { ioc.run(); }};
    std::thread::id id = thread.get_id();

    ~io_thread()
    {
        work.reset();
        ioc.stop();
        thread.join();
    }
};

struct square
{
    int n;
};
struct touch
{
};
struct slow
{
    int n;
};

/// Answers on a worker; records which threads its handlers ran on.
struct squarer : spindle::actor<squarer, square, touch, slow>
{
    std::shared_ptr<gate> gate_;
    std::shared_ptr<std::mutex> m_;
    std::shared_ptr<std::vector<std::thread::id>> threads_;
    std::shared_ptr<std::atomic<int>> touched_;

    squarer(std::shared_ptr<gate> g, std::shared_ptr<std::mutex> m, std::shared_ptr<std::vector<std::thread::id>> t,
            std::shared_ptr<std::atomic<int>> touched)
        : gate_(std::move(g)), m_(std::move(m)), threads_(std::move(t)), touched_(std::move(touched))
    {
    }

    long on(square s)
    {
        std::lock_guard lk(*m_);
        threads_->push_back(std::this_thread::get_id());
        return long(s.n) * s.n;
    }

    void on(touch) { ++*touched_; }

    int on(slow s)
    {
        gate_->pass();
        return s.n;
    }
};

struct fixture
{
    std::shared_ptr<gate> gate_ = std::make_shared<gate>();
    std::shared_ptr<std::mutex> m = std::make_shared<std::mutex>();
    std::shared_ptr<std::vector<std::thread::id>> handler_threads = std::make_shared<std::vector<std::thread::id>>();
    std::shared_ptr<std::atomic<int>> touched = std::make_shared<std::atomic<int>>(0);

    spindle::actor_ref<squarer> spawn(spindle::system& sys, std::shared_ptr<gate> g = nullptr)
    {
        return sys.spawn<squarer>(g ? g : gate_, m, handler_threads, touched);
    }

    std::vector<std::thread::id> threads()
    {
        std::lock_guard lk(*m);
        return *handler_threads;
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(handler_bound_to_io_context_runs_on_its_thread)
{
    constexpr int asks = 100;
    io_thread io;
    fixture fx;
    spindle::system sys(manual_clock_options());
    auto ref = fx.spawn(sys);

    struct outcome
    {
        boost::system::error_code ec;
        long value = -1;
        std::thread::id thread;
    };
    auto m = std::make_shared<std::mutex>();
    auto outcomes = std::make_shared<std::vector<std::optional<outcome>>>(asks);
    std::atomic<int> calls{0};
    for(int i = 0; i < asks; ++i)
        spindle::async_ask(ref, square{i}, 5s,
                           asio::bind_executor(io.ioc, [=, &calls](boost::system::error_code ec, long v) {
                               std::lock_guard lk(*m);
                               (*outcomes)[i] = outcome{ec, v, std::this_thread::get_id()};
                               ++calls;
                           }));
    BOOST_REQUIRE(eventually([&] { return calls.load() == asks; }));

    std::lock_guard lk(*m);
    for(int i = 0; i < asks; ++i)
    {
        auto const& o = (*outcomes)[i];
        BOOST_REQUIRE(o.has_value());
        BOOST_TEST(!o->ec);
        BOOST_TEST(o->value == long(i) * i);
        BOOST_TEST((o->thread == io.id), "completion " << i << " ran off the io_context thread");
    }
    // and the handlers of the actor ran on its workers, not on the io thread
    auto const ht = fx.threads();
    BOOST_TEST(ht.size() == std::size_t(asks));
    for(auto const& t : ht)
        BOOST_TEST((t != io.id && t != std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(void_handler_completes_with_error_code_only)
{
    io_thread io;
    fixture fx;
    spindle::system sys(manual_clock_options());
    auto ref = fx.spawn(sys);

    std::promise<std::pair<boost::system::error_code, std::thread::id>> p;
    spindle::async_ask(ref, touch{}, 5s, asio::bind_executor(io.ioc, [&p](boost::system::error_code ec) {
                           p.set_value({ec, std::this_thread::get_id()});
                       }));
    auto f = p.get_future();
    BOOST_REQUIRE(f.wait_for(60s) == std::future_status::ready);
    auto const [ec, tid] = f.get();
    BOOST_TEST(!ec);
    BOOST_TEST((tid == io.id));
    BOOST_TEST(fx.touched->load() == 1);
}

BOOST_AUTO_TEST_CASE(use_future_gives_the_value_or_throws)
{
    fixture fx;
    spindle::system sys(manual_clock_options());
    auto ref = fx.spawn(sys);

    std::future<long> f = spindle::async_ask(ref, square{12}, 5s, asio::use_future);
    BOOST_REQUIRE(f.wait_for(60s) == std::future_status::ready);
    BOOST_TEST(f.get() == 144);

    std::future<void> fv = spindle::async_ask(ref, touch{}, 5s, asio::use_future);
    BOOST_REQUIRE(fv.wait_for(60s) == std::future_status::ready);
    BOOST_CHECK_NO_THROW(fv.get());

    ref.stop();
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));
    std::future<long> fs = spindle::async_ask(ref, square{1}, 5s, asio::use_future);
    BOOST_REQUIRE(fs.wait_for(60s) == std::future_status::ready);
    BOOST_CHECK_EXCEPTION(fs.get(), boost::system::system_error, has_code(spindle::error::actor_stopped));
}

BOOST_AUTO_TEST_CASE(use_awaitable_in_a_coroutine)
{
    io_thread io;
    fixture fx;
    spindle::system sys(manual_clock_options());
    auto ref = fx.spawn(sys);
    auto dead = fx.spawn(sys);
    dead.stop();
    BOOST_REQUIRE(eventually([&] { return !dead.alive(); }));

    auto const io_id = io.id;
    struct result
    {
        long sum = 0;
        bool always_on_io = true;
        boost::system::error_code stopped_ec;
        boost::system::error_code thrown_ec;
    };
    auto coro = [ref, dead, io_id]() -> asio::awaitable<result> {
        result r;
        for(int i = 1; i <= 10; ++i)
        {
            r.sum += co_await spindle::async_ask(ref, square{i}, 5s, asio::use_awaitable);
            r.always_on_io = r.always_on_io && std::this_thread::get_id() == io_id;
        }
        co_await spindle::async_ask(ref, touch{}, 5s, asio::use_awaitable);
        auto [ec, v] = co_await spindle::async_ask(dead, square{3}, 5s, asio::as_tuple(asio::use_awaitable));
        r.stopped_ec = ec;
        r.always_on_io = r.always_on_io && v == 0 && std::this_thread::get_id() == io_id;
        try
        {
            co_await spindle::async_ask(dead, square{4}, 5s, asio::use_awaitable);
        }
        catch(boost::system::system_error const& e)
        {
            r.thrown_ec = e.code();
        }
        co_return r;
    };
    std::future<result> f = asio::co_spawn(io.ioc, coro, asio::use_future);
    BOOST_REQUIRE(f.wait_for(60s) == std::future_status::ready);
    auto const r = f.get();
    BOOST_TEST(r.sum == 385);
    BOOST_TEST(r.always_on_io);
    BOOST_TEST(r.stopped_ec == code(spindle::error::actor_stopped));
    BOOST_TEST(r.thrown_ec == code(spindle::error::actor_stopped));
    BOOST_TEST(fx.touched->load() == 1);
}

BOOST_AUTO_TEST_CASE(timeout_on_manual_clock_is_an_error_code)
{
    io_thread io;
    fixture fx;
    auto opts = manual_clock_options();
    auto clock = opts.clock;
    spindle::system sys(opts);
    scoped_gate g;
    auto ref = fx.spawn(sys, g.g);

    auto m = std::make_shared<std::mutex>();
    auto got = std::make_shared<std::vector<std::tuple<boost::system::error_code, int, std::thread::id>>>();
    auto record = [m, got](boost::system::error_code ec, int v) {
        std::lock_guard lk(*m);
        got->emplace_back(ec, v, std::this_thread::get_id());
    };
    auto count = [&] {
        std::lock_guard lk(*m);
        return got->size();
    };
    spindle::async_ask(ref, slow{7}, 5s, asio::bind_executor(io.ioc, record));
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    spindle::async_ask(ref, slow{8}, 10s, asio::bind_executor(io.ioc, record));

    clock->advance(5s); // the first one times out, the second not yet
    BOOST_REQUIRE(eventually([&] { return count() == 1u; }));
    clock->advance(5s);
    BOOST_REQUIRE(eventually([&] { return count() == 2u; }));

    // the late replies are dropped: each handler is called exactly once
    g->open();
    std::future<long> after = spindle::async_ask(ref, square{2}, 5s, asio::use_future);
    BOOST_REQUIRE(after.wait_for(60s) == std::future_status::ready);
    BOOST_TEST(after.get() == 4);
    // a round trip through the io_context after the replies were dropped
    std::promise<void> flushed;
    asio::post(io.ioc, [&] { flushed.set_value(); });
    BOOST_REQUIRE(flushed.get_future().wait_for(60s) == std::future_status::ready);

    std::lock_guard lk(*m);
    BOOST_REQUIRE(got->size() == 2u);
    for(auto const& [ec, v, tid] : *got)
    {
        BOOST_TEST(ec == code(spindle::error::ask_timeout));
        BOOST_TEST(v == 0);
        BOOST_TEST((tid == io.id));
    }
}

namespace {

/// A steady_timer that re-arms itself every millisecond on the io_context.
struct heartbeat
{
    asio::steady_timer timer;
    std::atomic<long> ticks{0};
    std::atomic<bool> stop{false};
    /// Waits whose handler has not finished with `*this` yet.
    std::atomic<int> waits{0};

    explicit heartbeat(asio::io_context& ioc) : timer(ioc) {}

    /// A test that ends early (a failed BOOST_REQUIRE) still stops it.
    ~heartbeat() { quiesce(); }

    void arm()
    {
        ++waits;
        timer.expires_after(1ms);
        timer.async_wait([this](boost::system::error_code ec) {
            if(!ec && !stop)
            {
                ++ticks;
                arm();
            }
            --waits; // this handler's last access to *this
        });
    }

    /// Waits until the io thread has run `n` more ticks (it is free, not blocked).
    bool beats(long n, std::chrono::seconds limit = 60s)
    {
        long const from = ticks.load();
        return eventually([&] { return ticks.load() >= from + n; }, limit);
    }

    /// Stops the ticks and waits until no handler will touch `*this` again.
    /// A wait that has already expired when `cancel` runs still completes
    /// with success, later (AddressSanitizer caught its handler reading a
    /// destroyed heartbeat's `stop`).
    void halt() { BOOST_REQUIRE(quiesce()); }

    bool quiesce() noexcept
    {
        if(waits.load() == 0)
            return true;
        std::promise<void> done;
        asio::post(timer.get_executor(), [&] {
            stop = true;
            timer.cancel();
            done.set_value();
        });
        if(done.get_future().wait_for(60s) != std::future_status::ready)
            return false;
        return eventually([&] { return waits.load() == 0; });
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(io_context_thread_never_blocks_while_asks_are_pending)
{
    constexpr int asks = 50;
    io_thread io;
    fixture fx;
    spindle::system sys(manual_clock_options());
    scoped_gate g;
    auto ref = fx.spawn(sys, g.g);
    heartbeat hb(io.ioc);
    asio::post(io.ioc, [&] { hb.arm(); });
    BOOST_REQUIRE(hb.beats(5));

    std::atomic<int> done{0}, right{0};
    std::promise<void> issued;
    // issued from the io thread itself, as an Asio server would
    asio::post(io.ioc, [&] {
        for(int i = 0; i < asks; ++i)
            spindle::async_ask(ref, slow{i}, 1h, asio::bind_executor(io.ioc, [&, i](boost::system::error_code ec, int v) {
                                   if(!ec && v == i && std::this_thread::get_id() == io.id)
                                       ++right;
                                   ++done;
                               }));
        issued.set_value();
    });
    BOOST_REQUIRE(issued.get_future().wait_for(60s) == std::future_status::ready);
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));

    // every ask is pending behind the gate, yet the io thread keeps ticking
    BOOST_TEST(hb.beats(20));
    BOOST_TEST(done.load() == 0);

    g->open();
    BOOST_REQUIRE(eventually([&] { return done.load() == asks; }));
    BOOST_TEST(right.load() == asks);
    BOOST_TEST(hb.beats(5));
    hb.halt();
}

BOOST_AUTO_TEST_CASE(io_context_thread_never_blocks_on_a_full_block_mailbox)
{
    // async_ask promises that an io_context thread never waits; a bounded
    // mailbox under overflow_policy::block must not make it wait either
    io_thread io;
    fixture fx;
    spindle::system sys(manual_clock_options());
    scoped_gate g;
    auto ref = sys.spawn_with<squarer>(bounded(1, spindle::overflow_policy::block, 1h), g.g, fx.m,
                                       fx.handler_threads, fx.touched);
    heartbeat hb(io.ioc);
    asio::post(io.ioc, [&] { hb.arm(); });
    BOOST_REQUIRE(hb.beats(5));

    BOOST_TEST(ref.tell(slow{0}) == spindle::send_status::ok);
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    BOOST_TEST(ref.tell(slow{1}) == spindle::send_status::ok); // the mailbox is full now

    std::atomic<int> done{0};
    boost::system::error_code seen;
    long value = -1;
    std::promise<void> issued;
    asio::post(io.ioc, [&] {
        spindle::async_ask(ref, square{3}, 1h, asio::bind_executor(io.ioc, [&](boost::system::error_code ec, long v) {
                               seen = ec;
                               value = v;
                               ++done;
                           }));
        issued.set_value();
    });
    // a blocked io thread stops ticking (the gate below releases it again,
    // so the bound is short: it is only reached when the core is wrong)
    bool const io_free = issued.get_future().wait_for(10s) == std::future_status::ready && hb.beats(20, 10s);
    BOOST_TEST(io_free, "async_ask blocked the io_context thread on a full mailbox");
    g->open();
    BOOST_REQUIRE(eventually([&] { return done.load() == 1; }));
    // refused at once, or queued without blocking once there was room
    BOOST_TEST(((seen == code(spindle::error::mailbox_full) && value == 0) || (!seen && value == 9)));
    hb.halt();
    BOOST_TEST(done.load() == 1);
}
