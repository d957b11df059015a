//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/ordered_mutex.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {


boost::system::error_code order_violation()
{
    return make_error_code(boost::system::errc::resource_deadlock_would_occur);
}

bool mentions(spindle::system_error const& e, std::string const& a, std::string const& b)
{
    std::string const what = e.what();
    return e.code() == order_violation() && what.find(a) != std::string::npos && what.find(b) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(mutual_exclusion_of_many_fibers_on_two_workers)
{
    spindle::system sys(workers(2));
    spindle::ordered_mutex m("counter", 1);
    std::atomic<bool> inside{false};
    std::atomic<int> overlaps{0};
    long counter = 0; // guarded by m only
    auto done = start_in_actors(sys, 100, [&](int) {
        for(int k = 0; k < 50; ++k)
        {
            std::lock_guard<spindle::ordered_mutex> lk(m);
            if(inside.exchange(true))
                ++overlaps;
            long const c = counter;
            boost::this_fiber::yield(); // other fibers of this worker run while it is held
            counter = c + 1;
            inside = false;
        }
    });
    BOOST_TEST(finish(done, "ordered_mutex test handlers"));
    BOOST_TEST(overlaps.load() == 0);
    BOOST_TEST(counter == 5000);
}

BOOST_AUTO_TEST_CASE(out_of_order_acquisition_is_an_error_naming_both_mutexes)
{
    spindle::ordered_mutex accounts("accounts", 1);
    spindle::ordered_mutex journal("journal", 2);
    spindle::ordered_mutex ledger("ledger", 2);

    // in order: fine, and release order is free
    accounts.lock();
    journal.lock();
    accounts.unlock();
    journal.unlock();

    journal.lock();
    BOOST_CHECK_EXCEPTION(accounts.lock(), spindle::system_error,
                          [](auto const& e) { return mentions(e, "\"accounts\" (level 1)", "\"journal\" (level 2)"); });
    BOOST_CHECK_EXCEPTION((void)accounts.try_lock(), spindle::system_error,
                          [](auto const& e) { return mentions(e, "accounts", "journal"); });
    BOOST_CHECK_EXCEPTION((void)accounts.try_lock_for(1h), spindle::system_error,
                          [](auto const& e) { return mentions(e, "accounts", "journal"); });
    // the same level twice is out of order too
    BOOST_CHECK_EXCEPTION(ledger.lock(), spindle::system_error,
                          [](auto const& e) { return mentions(e, "ledger", "journal"); });
    // so is locking a mutex this fiber holds: an error, not a self-deadlock
    BOOST_CHECK_EXCEPTION(journal.lock(), spindle::system_error,
                          [](auto const& e) { return mentions(e, "journal", "already held"); });

    boost::system::error_code ec;
    accounts.lock(ec);
    BOOST_TEST(ec == order_violation());
    BOOST_TEST(!accounts.try_lock(ec));
    BOOST_TEST(ec == order_violation());
    BOOST_TEST(!accounts.held());
    BOOST_TEST(journal.held());

    // nothing was locked by the failed attempts: another thread gets `accounts` at once
    bool other_got_it = false;
    std::thread other([&] {
        other_got_it = accounts.try_lock();
        if(other_got_it)
            accounts.unlock();
    });
    other.join();
    BOOST_TEST(other_got_it);
    journal.unlock();
    accounts.lock(ec);
    BOOST_TEST(!ec);
    accounts.unlock();
}

BOOST_AUTO_TEST_CASE(the_order_is_per_fiber)
{
    spindle::ordered_mutex low("low", 1);
    spindle::ordered_mutex high("high", 2);
    high.lock();
    bool ok = false;
    // another fiber holds nothing: it may take `low` while this one holds `high`
    boost::fibers::fiber f([&] {
        low.lock();
        ok = low.held() && !high.held();
        low.unlock();
    });
    f.join();
    BOOST_TEST(ok);
    high.unlock();
}

BOOST_AUTO_TEST_CASE(ownership_passes_to_waiters_in_arrival_order)
{
    spindle::ordered_mutex m("m", 1);
    std::vector<int> order;
    m.lock();
    std::vector<boost::fibers::fiber> fibers;
    for(int i = 0; i < 4; ++i)
        fibers.emplace_back(boost::fibers::launch::dispatch, [&, i] {
            m.lock();
            order.push_back(i);
            m.unlock();
        });
    m.unlock();
    BOOST_TEST(!m.try_lock()); // handed to the oldest waiter, no barging
    for(auto& f : fibers)
        f.join();
    BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3}));
    BOOST_TEST(m.try_lock());
    m.unlock();
}

BOOST_AUTO_TEST_CASE(lock_timeout_on_the_manual_clock)
{
    auto opts = manual_clock_options(2);
    auto clock = opts.clock;
    spindle::system sys(opts);
    spindle::ordered_mutex m("m", 7);
    scoped_gate hold;
    std::atomic<int> outcome{-1};
    auto holder = start_in_actors(sys, 1, [&](int) {
        m.lock();
        hold->pass();
        m.unlock();
    });
    BOOST_REQUIRE(eventually([&] { return hold->entered() == 1; }));
    std::size_t const asks = sys.timers().pending();
    auto waiter = start_in_actors(sys, 1, [&](int) { outcome = m.try_lock_for(sys.timers(), 3s) ? 1 : 0; });
    BOOST_REQUIRE(eventually([&] { return sys.timers().pending() > asks + 1; }));
    clock->advance(2s);
    BOOST_TEST(outcome.load() == -1);
    clock->advance(1s);
    BOOST_TEST(finish(waiter, "ordered_mutex waiter"));
    BOOST_TEST(outcome.load() == 0);
    hold->open();
    BOOST_TEST(finish(holder, "ordered_mutex holder"));
    BOOST_TEST(m.try_lock()); // the timed-out waiter never became the owner
    m.unlock();
}

BOOST_AUTO_TEST_CASE(lock_with_stop_token_and_unlock_by_a_stranger)
{
    spindle::ordered_mutex m("m", 1);
    m.lock();
    std::stop_source stop;
    boost::system::error_code ec;
    std::thread waiter([&] { m.lock(stop.get_token(), ec); });
    stop.request_stop(); // ends the wait, or prevents it: the mutex is held either way
    waiter.join();
    BOOST_TEST(ec == code(spindle::error::cancelled));

    boost::system::error_code uec;
    std::thread stranger([&] { m.unlock(uec); });
    stranger.join();
    BOOST_TEST(uec == make_error_code(boost::system::errc::operation_not_permitted));
    BOOST_TEST(m.held());
    m.unlock();
    BOOST_CHECK_EXCEPTION(m.unlock(), spindle::system_error, [](auto const& e) {
        return e.code() == make_error_code(boost::system::errc::operation_not_permitted);
    });
    BOOST_TEST(m.try_lock_for(1ms, stop.get_token())); // free: locks despite the stop
    m.unlock();
}
