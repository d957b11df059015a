//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/channel.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;
using spindle::channel_status;

namespace {


} // namespace

BOOST_AUTO_TEST_CASE(holds_exactly_its_capacity)
{
    for(std::size_t cap : {1u, 3u, 5u, 8u, 100u})
    {
        spindle::channel<int> ch(cap);
        BOOST_TEST(ch.capacity() == cap);
        for(std::size_t i = 0; i < cap; ++i)
            BOOST_TEST(ch.try_push(static_cast<int>(i)) == channel_status::success);
        BOOST_TEST(ch.size() == cap);
        BOOST_TEST(ch.try_push(-1) == channel_status::full);
        BOOST_TEST(ch.push_for(-1, 1ms) == channel_status::timeout);
        int v = -1;
        BOOST_TEST(ch.try_pop(v) == channel_status::success);
        BOOST_TEST(v == 0); // FIFO
        BOOST_TEST(ch.try_push(-2) == channel_status::success);
        BOOST_TEST(ch.try_push(-3) == channel_status::full);
    }
    BOOST_CHECK_EXCEPTION(spindle::channel<int>(0), spindle::system_error,
                          has_code(spindle::error::invalid_argument));
}

BOOST_AUTO_TEST_CASE(unbounded_never_waits_to_push)
{
    spindle::channel<int> ch;
    BOOST_TEST(ch.capacity() == spindle::channel<int>::unbounded);
    for(int i = 0; i < 10000; ++i)
        BOOST_REQUIRE(ch.try_push(i) == channel_status::success);
    int v = -1;
    for(int i = 0; i < 10000; ++i)
    {
        BOOST_REQUIRE(ch.try_pop(v) == channel_status::success);
        BOOST_REQUIRE(v == i);
    }
    BOOST_TEST(ch.try_pop(v) == channel_status::empty);
}

BOOST_AUTO_TEST_CASE(close_fails_pushes_drains_pops_and_releases_waiters)
{
    spindle::channel<std::unique_ptr<int>> ch(2);
    BOOST_TEST(ch.push(std::make_unique<int>(1)) == channel_status::success);
    BOOST_TEST(ch.push(std::make_unique<int>(2)) == channel_status::success);

    // a producer waits for room
    auto kept = std::make_unique<int>(3);
    channel_status waiting_push = channel_status::success;
    boost::fibers::fiber producer(boost::fibers::launch::dispatch,
                                  [&] { waiting_push = ch.push(std::move(kept)); });
    BOOST_TEST(ch.size() == 2u);
    ch.close();
    producer.join();
    BOOST_TEST(waiting_push == channel_status::closed);
    BOOST_TEST((kept && *kept == 3)); // a failed push does not consume its value

    auto late = std::make_unique<int>(4);
    BOOST_TEST(ch.push(std::move(late)) == channel_status::closed);
    BOOST_TEST(ch.try_push(std::move(late)) == channel_status::closed);
    BOOST_TEST((late && *late == 4));
    BOOST_TEST(ch.is_closed());

    // what was buffered before the close is still delivered, in order
    std::unique_ptr<int> out;
    BOOST_TEST(ch.pop(out) == channel_status::success);
    BOOST_TEST(*out == 1);
    BOOST_TEST(ch.try_pop(out) == channel_status::success);
    BOOST_TEST(*out == 2);
    BOOST_TEST(ch.pop(out) == channel_status::closed);
    BOOST_TEST(ch.try_pop(out) == channel_status::closed);
    BOOST_TEST(*out == 2); // untouched by the failed pops
    BOOST_CHECK_THROW(ch.value_pop(), spindle::system_error);
    ch.close(); // idempotent

    // consumers waiting on an empty channel are released by close
    spindle::channel<int> empty(4);
    std::vector<channel_status> seen(3, channel_status::success);
    std::vector<boost::fibers::fiber> consumers;
    for(int i = 0; i < 3; ++i)
        consumers.emplace_back(boost::fibers::launch::dispatch, [&, i] {
            int v;
            seen[i] = empty.pop(v);
        });
    empty.close();
    for(auto& c : consumers)
        c.join();
    BOOST_TEST(seen == std::vector<channel_status>(3, channel_status::closed));
}

BOOST_AUTO_TEST_CASE(mpmc_under_two_workers_delivers_every_value_once)
{
    spindle::system sys(workers(2));
    spindle::channel<int> ch(7); // not a power of two on purpose
    constexpr int producers = 8, consumers = 8, per_producer = 2000;
    std::vector<std::atomic<int>> received(producers * per_producer);
    std::atomic<int> out_of_order{0}, pushed{0};
    auto prod = start_in_actors(sys, producers, [&](int p) {
        for(int k = 0; k < per_producer; ++k)
            if(ch.push(p * per_producer + k) == channel_status::success)
                ++pushed;
    });
    auto cons = start_in_actors(sys, consumers, [&](int) {
        std::vector<int> last(producers, -1);
        int v;
        while(ch.pop(v) == channel_status::success)
        {
            ++received[v];
            // values of one producer arrive in the order it pushed them
            int const p = v / per_producer;
            if(v <= last[p])
                ++out_of_order;
            last[p] = v;
        }
    });
    BOOST_TEST(finish(prod, "channel producers"));
    ch.close();
    BOOST_TEST(finish(cons, "channel consumers"));
    BOOST_TEST(pushed.load() == producers * per_producer);
    int wrong = 0;
    for(auto& r : received)
        wrong += r.load() != 1;
    BOOST_TEST(wrong == 0);
    BOOST_TEST(out_of_order.load() == 0);
    BOOST_TEST(ch.size() == 0u);
}

BOOST_AUTO_TEST_CASE(push_and_pop_timeouts_on_the_manual_clock)
{
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    spindle::channel<std::string> full(1);
    spindle::channel<std::string> empty(1);
    BOOST_TEST(full.push("occupied") == channel_status::success);
    std::atomic<channel_status> push_result{channel_status::success}, pop_result{channel_status::success};
    std::string kept = "mine";
    std::size_t const before = sys.timers().pending();
    auto done = start_in_actors(sys, 2, [&](int i) {
        if(i == 0)
            push_result = full.push_for(std::move(kept), sys.timers(), 5s);
        else
        {
            std::string v;
            pop_result = empty.pop_for(v, sys.timers(), 5s);
        }
    });
    BOOST_REQUIRE(eventually([&] { return sys.timers().pending() >= before + 4; })); // 2 asks + 2 waits
    clock->advance(4s);
    BOOST_TEST(full.size() == 1u);
    clock->advance(1s);
    BOOST_TEST(finish(done, "channel test handlers"));
    BOOST_TEST(push_result.load() == channel_status::timeout);
    BOOST_TEST(pop_result.load() == channel_status::timeout);
    BOOST_TEST(kept == "mine");
    std::string v;
    BOOST_TEST(full.try_pop(v) == channel_status::success);
    BOOST_TEST(v == "occupied");
    BOOST_TEST(full.try_pop(v) == channel_status::empty); // the timed-out push left nothing behind
}

BOOST_AUTO_TEST_CASE(a_waiting_consumer_gets_the_value_directly)
{
    spindle::channel<int> ch(1);
    int got = 0;
    channel_status s = channel_status::empty;
    boost::fibers::fiber consumer(boost::fibers::launch::dispatch, [&] { s = ch.pop_for(got, 1h); });
    BOOST_TEST(ch.push(42) == channel_status::success);
    BOOST_TEST(ch.size() == 0u); // handed over, never buffered
    consumer.join();
    BOOST_TEST(s == channel_status::success);
    BOOST_TEST(got == 42);

    // a waiting producer's value takes the slot a pop frees
    BOOST_TEST(ch.push(1) == channel_status::success);
    boost::fibers::fiber producer(boost::fibers::launch::dispatch, [&] { ch.push(2); });
    BOOST_TEST(ch.value_pop() == 1);
    BOOST_TEST(ch.size() == 1u);
    producer.join();
    BOOST_TEST(ch.value_pop() == 2);
}

BOOST_AUTO_TEST_CASE(stop_token_cancels_waits_from_plain_threads)
{
    spindle::channel<int> ch(1);
    std::stop_source stop;
    channel_status popped = channel_status::success;
    std::thread consumer([&] {
        int v;
        popped = ch.pop(v, stop.get_token());
    });
    stop.request_stop();
    consumer.join();
    BOOST_TEST(popped == channel_status::cancelled);
    BOOST_TEST(ch.push(1) == channel_status::success);
    BOOST_TEST(ch.push(2, stop.get_token()) == channel_status::cancelled);
    // a stop request does not prevent what needs no waiting
    int v = 0;
    BOOST_TEST(ch.pop(v, stop.get_token()) == channel_status::success);
    BOOST_TEST(v == 1);
    BOOST_CHECK_EXCEPTION(ch.value_pop(stop.get_token()), spindle::system_error,
                          has_code(spindle::error::cancelled));
}
