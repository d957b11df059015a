//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/mailbox.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/introspection.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/future.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <latch>
#include <memory>
#include <thread>
#include <typeinfo>
#include <vector>

using namespace std::chrono_literals;
using namespace spindle_test;

namespace {

using spindle::send_status;

/// Thread-safe record of what a receiver handled, in order.
using delivery_log = history<int>;

// --- FIFO under load ---

struct tagged
{
    std::uint32_t sender;
    std::uint64_t seq;
};

struct fifo_report_request
{
};

struct fifo_report
{
    std::uint64_t received = 0;
    std::uint64_t out_of_order = 0; ///< a sequence number at or below one already seen
    std::uint64_t gaps = 0;         ///< a sequence number skipping ahead (a lost message)
    std::vector<std::uint64_t> next;
};

struct fifo_receiver : spindle::actor<fifo_receiver, tagged, fifo_report_request>
{
    std::shared_ptr<boost::fibers::promise<void>> done_;
    std::uint64_t total_;
    fifo_report r_;

    fifo_receiver(std::shared_ptr<boost::fibers::promise<void>> done, std::uint32_t senders, std::uint64_t total)
        : done_(std::move(done)), total_(total)
    {
        r_.next.assign(senders, 0);
    }

    void on(tagged const& m)
    {
        if(m.sender >= r_.next.size() || m.seq < r_.next[m.sender])
            ++r_.out_of_order;
        else
        {
            if(m.seq != r_.next[m.sender])
                ++r_.gaps;
            r_.next[m.sender] = m.seq + 1;
        }
        if(++r_.received == total_)
            done_->set_value();
    }

    fifo_report on(fifo_report_request) { return r_; }
};

struct burst
{
    std::uint32_t sender;
    std::uint64_t next;
    std::uint64_t end;
};

// Sends its share in chunks, re-telling itself in between, so sender actors
// and the receiver interleave on the two workers instead of one sender
// monopolising a worker for the whole run.
struct fifo_sender : spindle::actor<fifo_sender, burst>
{
    spindle::actor_ref<fifo_receiver> to_;
    std::shared_ptr<std::atomic<std::uint64_t>> not_ok_;

    fifo_sender(spindle::actor_ref<fifo_receiver> to, std::shared_ptr<std::atomic<std::uint64_t>> not_ok)
        : to_(std::move(to)), not_ok_(std::move(not_ok))
    {
    }

    void on(burst b)
    {
        std::uint64_t const stop_at = std::min(b.end, b.next + 1000);
        for(; b.next < stop_at; ++b.next)
            if(to_.tell(tagged{b.sender, b.next}) != send_status::ok)
                not_ok_->fetch_add(1);
        if(b.next < b.end && self().tell(b) != send_status::ok)
            not_ok_->fetch_add(1);
    }
};

// --- bounded mailboxes ---

struct item
{
    int seq;
};

struct ping
{
};

/// Handles `item`s in order into a log; item 0 waits at the gate, so the
/// mailbox behind it fills up.
struct sink : spindle::actor<sink, item, ping>
{
    std::shared_ptr<delivery_log> log_;
    std::shared_ptr<gate> gate_;

    sink(std::shared_ptr<delivery_log> log, std::shared_ptr<gate> g) : log_(std::move(log)), gate_(std::move(g)) {}

    void on(item m)
    {
        log_->push(m.seq);
        if(m.seq == 0)
            gate_->pass();
    }

    int on(ping) { return 1; }
};

/** Fills a `capacity`-bounded sink: item 0 is being handled (blocked at the
    gate), then items 1..capacity+extra are told. Returns their statuses
    (index = seq; index 0 is item 0's).
*/
std::vector<send_status> overfill(spindle::actor_ref<sink> const& ref, gate& g, int capacity, int extra)
{
    std::vector<send_status> st;
    st.push_back(ref.tell(item{0}));
    BOOST_REQUIRE(eventually([&] { return g.entered() == 1; }));
    for(int i = 1; i <= capacity + extra; ++i)
        st.push_back(ref.tell(item{i}));
    return st;
}

/** Opens the gate and waits until the sink handled `expected` items and a
    ping told after them (so nothing else is still on its way).
*/
std::vector<int> drain(spindle::actor_ref<sink> const& ref, gate& g, delivery_log& log, std::size_t expected)
{
    g.open();
    BOOST_REQUIRE(eventually([&] { return log.size() >= expected; }));
    BOOST_REQUIRE(within([&] { return ref.ask(ping{}).get(); }) == 1);
    return log.snapshot();
}

std::size_t count(std::vector<send_status> const& v, send_status s)
{
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), s));
}

void check_letters(std::vector<spindle::dead_letter> const& letters, spindle::actor_id to, std::size_t n,
                   spindle::error reason)
{
    BOOST_TEST(letters.size() == n);
    for(auto const& d : letters)
    {
        BOOST_TEST(d.receiver == to);
        BOOST_TEST((d.message_type && *d.message_type == typeid(item)));
        BOOST_TEST(code(d.reason) == code(reason));
    }
}

/// The actor's own overflow counts, as introspection reports them.
void check_overflow_counts(spindle::system& sys, spindle::actor_id id, std::uint64_t refused, std::uint64_t dropped)
{
    auto const tree = spindle::inspect(sys);
    bool found = false;
    for(auto const& n : tree.children)
    {
        if(n.id != id)
            continue;
        found = true;
        BOOST_TEST(n.mailbox_refused == refused);
        BOOST_TEST(n.mailbox_dropped == dropped);
    }
    BOOST_TEST(found);
    // and by actor type in the metrics, each reason apart
    double by_reason[2] = {0, 0};
    for(auto const& f : sys.metrics().snapshot())
        if(f.name == "spindle_actor_mailbox_overflow_total")
            for(auto const& s : f.samples)
                for(auto const& [k, v] : s.labels)
                    if(k == "reason")
                        by_reason[v == "dropped"] += s.value;
    BOOST_TEST(by_reason[0] == double(refused));
    BOOST_TEST(by_reason[1] == double(dropped));
}

} // namespace

BOOST_AUTO_TEST_CASE(fifo_per_sender_under_two_workers)
{
    constexpr std::uint32_t thread_senders = 4;
    constexpr std::uint32_t actor_senders = 4;
    constexpr std::uint32_t senders = thread_senders + actor_senders;
    constexpr std::uint64_t per_sender = 125'000;
    constexpr std::uint64_t total = per_sender * senders; // 1,000,000

    spindle::system sys(manual_clock_options(2));
    auto done = std::make_shared<boost::fibers::promise<void>>();
    auto all_received = done->get_future();
    auto not_ok = std::make_shared<std::atomic<std::uint64_t>>(0);
    auto rx = sys.spawn<fifo_receiver>(done, senders, total);

    std::vector<spindle::actor_ref<fifo_sender>> actors;
    for(std::uint32_t i = 0; i < actor_senders; ++i)
        actors.push_back(sys.spawn<fifo_sender>(rx, not_ok));

    std::latch go(1);
    std::vector<std::thread> threads;
    for(std::uint32_t s = 0; s < thread_senders; ++s)
        threads.emplace_back([&, s] {
            go.wait();
            for(std::uint64_t i = 0; i < per_sender; ++i)
                if(rx.tell(tagged{s, i}) != send_status::ok)
                    not_ok->fetch_add(1);
        });
    go.count_down();
    for(std::uint32_t i = 0; i < actor_senders; ++i)
        BOOST_TEST(actors[i].tell(burst{thread_senders + i, 0, per_sender}) == send_status::ok);
    for(auto& t : threads)
        t.join();

    BOOST_REQUIRE(all_received.wait_for(std::chrono::minutes(5)) == boost::fibers::future_status::ready);
    auto const r = rx.ask(fifo_report_request{}).get();
    BOOST_TEST(not_ok->load() == 0u);
    BOOST_TEST(r.received == total);
    BOOST_TEST(r.out_of_order == 0u);
    BOOST_TEST(r.gaps == 0u);
    for(std::uint32_t s = 0; s < senders; ++s)
        BOOST_TEST(r.next[s] == per_sender, "sender " << s);
    BOOST_TEST(sys.stats().dead_letters == 0u);
    BOOST_TEST(sys.stats().dropped == 0u);
}

BOOST_AUTO_TEST_CASE(bounded_fail_refuses_new_messages)
{
    constexpr int capacity = 8;
    constexpr int extra = 20;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::fail), log, g.g);

    auto const st = overfill(ref, *g.g, capacity, extra);
    for(int i = 0; i <= capacity; ++i)
        BOOST_TEST(st[i] == send_status::ok, "item " << i);
    for(int i = capacity + 1; i <= capacity + extra; ++i)
        BOOST_TEST(st[i] == send_status::mailbox_full, "item " << i);
    BOOST_TEST(ref.mailbox_depth() == std::size_t(capacity));
    BOOST_TEST(to_error_code(send_status::mailbox_full) == code(spindle::error::mailbox_full));

    auto const got = drain(ref, *g.g, *log, capacity + 1);
    std::vector<int> want;
    for(int i = 0; i <= capacity; ++i)
        want.push_back(i);
    BOOST_TEST(got == want, boost::test_tools::per_element());

    std::size_t const sent = st.size();
    BOOST_TEST(got.size() + count(st, send_status::mailbox_full) == sent);
    BOOST_TEST(sys.stats().dead_letters == std::uint64_t(extra));
    BOOST_TEST(sys.stats().dropped == 0u);
    BOOST_TEST(sys.stats().refused == std::uint64_t(extra));
    check_letters(letters->snapshot(), ref.id(), extra, spindle::error::mailbox_full);
    check_overflow_counts(sys, ref.id(), extra, 0);
}

BOOST_AUTO_TEST_CASE(bounded_drop_newest_drops_the_new_message)
{
    constexpr int capacity = 8;
    constexpr int extra = 20;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::drop_newest), log, g.g);

    auto const st = overfill(ref, *g.g, capacity, extra);
    for(int i = 0; i <= capacity; ++i)
        BOOST_TEST(st[i] == send_status::ok, "item " << i);
    for(int i = capacity + 1; i <= capacity + extra; ++i)
        BOOST_TEST(st[i] == send_status::dropped, "item " << i);
    BOOST_TEST(ref.mailbox_depth() == std::size_t(capacity));

    auto const got = drain(ref, *g.g, *log, capacity + 1);
    std::vector<int> want;
    for(int i = 0; i <= capacity; ++i)
        want.push_back(i);
    BOOST_TEST(got == want, boost::test_tools::per_element());

    BOOST_TEST(got.size() + count(st, send_status::dropped) == st.size());
    BOOST_TEST(to_error_code(send_status::dropped) == code(spindle::error::message_dropped));
    BOOST_TEST(sys.stats().dropped == std::uint64_t(extra));
    BOOST_TEST(sys.stats().refused == 0u);
    BOOST_TEST(sys.stats().dead_letters == std::uint64_t(extra));
    check_letters(letters->snapshot(), ref.id(), extra, spindle::error::message_dropped);
    check_overflow_counts(sys, ref.id(), 0, extra);
}

BOOST_AUTO_TEST_CASE(bounded_drop_oldest_keeps_the_newest)
{
    constexpr int capacity = 8;
    constexpr int extra = 20;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::drop_oldest), log, g.g);

    auto const st = overfill(ref, *g.g, capacity, extra);
    BOOST_TEST(count(st, send_status::ok) == st.size());
    BOOST_TEST(ref.mailbox_depth() == std::size_t(capacity));

    // item 0 was already being handled; of the rest the newest `capacity` survive
    auto const got = drain(ref, *g.g, *log, capacity + 1);
    std::vector<int> want{0};
    for(int i = extra + 1; i <= capacity + extra; ++i)
        want.push_back(i);
    BOOST_TEST(got == want, boost::test_tools::per_element());

    BOOST_TEST(got.size() + sys.stats().dropped == st.size());
    BOOST_TEST(sys.stats().dropped == std::uint64_t(extra));
    BOOST_TEST(sys.stats().refused == 0u);
    BOOST_TEST(sys.stats().dead_letters == std::uint64_t(extra));
    check_letters(letters->snapshot(), ref.id(), extra, spindle::error::message_dropped);
    check_overflow_counts(sys, ref.id(), 0, extra);
}

BOOST_AUTO_TEST_CASE(bounded_block_thread_sender_waits_for_room)
{
    constexpr int capacity = 4;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    // an hour: the sender must be released by the drain, never by the timeout
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::block, 1h), log, g.g);

    auto const st = overfill(ref, *g.g, capacity, 0);
    BOOST_TEST(count(st, send_status::ok) == st.size());

    std::atomic<bool> returned{false};
    std::promise<send_status> blocked_status;
    auto blocked_result = blocked_status.get_future();
    std::thread sender([&] {
        auto s = ref.tell(item{capacity + 1});
        returned = true;
        blocked_status.set_value(s);
    });
    // give a wrongly non-blocking tell every chance to show itself; the
    // check cannot fail when the tell does block, however slow the machine
    std::this_thread::sleep_for(50ms);
    BOOST_TEST(!returned.load());
    BOOST_TEST(ref.mailbox_depth() == std::size_t(capacity));

    g->open();
    BOOST_REQUIRE(blocked_result.wait_for(60s) == std::future_status::ready);
    sender.join();
    BOOST_TEST(blocked_result.get() == send_status::ok);

    auto const got = drain(ref, *g.g, *log, capacity + 2);
    std::vector<int> want;
    for(int i = 0; i <= capacity + 1; ++i)
        want.push_back(i);
    BOOST_TEST(got == want, boost::test_tools::per_element());
    BOOST_TEST(sys.stats().dead_letters == 0u);
    BOOST_TEST(letters->snapshot().empty());
}

namespace {

struct push
{
    int seq;
};

struct echo
{
    int n;
};

/// Tells `item`s to a sink from its own fiber.
struct pusher : spindle::actor<pusher, push, echo>
{
    spindle::actor_ref<sink> to_;
    std::shared_ptr<std::promise<send_status>> result_;

    pusher(spindle::actor_ref<sink> to, std::shared_ptr<std::promise<send_status>> r)
        : to_(std::move(to)), result_(std::move(r))
    {
    }

    void on(push p) { result_->set_value(to_.tell(item{p.seq})); }
    int on(echo e) { return e.n; }
};

} // namespace

BOOST_AUTO_TEST_CASE(bounded_block_fiber_sender_parks_only_itself)
{
    // One worker: if the blocked sender held the thread instead of parking
    // its fiber, neither the echo nor the drain below could ever run.
    constexpr int capacity = 4;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options(1));
    scoped_gate g;
    auto rx = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::block, 1h), log, g.g);
    auto result = std::make_shared<std::promise<send_status>>();
    auto pushed = result->get_future();
    auto tx = sys.spawn<pusher>(rx, result);
    auto bystander = sys.spawn<pusher>(rx, std::make_shared<std::promise<send_status>>());

    auto const st = overfill(rx, *g.g, capacity, 0);
    BOOST_TEST(count(st, send_status::ok) == st.size());
    BOOST_TEST(tx.tell(push{capacity + 1}) == send_status::ok);

    // the worker still serves other actors while the pusher waits for room
    BOOST_TEST(within([&] { return bystander.ask(echo{7}).get(); }) == 7);
    BOOST_TEST((pushed.wait_for(0s) == std::future_status::timeout));

    g->open();
    BOOST_REQUIRE(pushed.wait_for(60s) == std::future_status::ready);
    BOOST_TEST(pushed.get() == send_status::ok);
    auto const got = drain(rx, *g.g, *log, capacity + 2);
    BOOST_TEST(got.size() == std::size_t(capacity + 2));
    BOOST_TEST(got.back() == capacity + 1);
    BOOST_TEST(sys.stats().dead_letters == 0u);
}

BOOST_AUTO_TEST_CASE(bounded_block_times_out_with_mailbox_full)
{
    constexpr int capacity = 2;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    // the block timeout is real time by contract; keep it short
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::block, 50ms), log, g.g);

    auto const st = overfill(ref, *g.g, capacity, 0);
    BOOST_TEST(count(st, send_status::ok) == st.size());

    // nobody drains: the tell must give up by itself
    BOOST_TEST(within([&] { return ref.tell(item{capacity + 1}); }) == send_status::mailbox_full);
    BOOST_TEST(within([&] { return ref.tell(item{capacity + 2}); }) == send_status::mailbox_full);
    BOOST_TEST(sys.stats().dead_letters == 2u);
    check_letters(letters->snapshot(), ref.id(), 2, spindle::error::mailbox_full);

    auto const got = drain(ref, *g.g, *log, capacity + 1);
    std::vector<int> want;
    for(int i = 0; i <= capacity; ++i)
        want.push_back(i);
    BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bounded_block_try_tell_never_waits)
{
    constexpr int capacity = 3;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    // an hour: a try_tell that waited would hang the test
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::block, 1h), log, g.g);

    BOOST_TEST(ref.try_tell(item{0}) == send_status::ok);
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    for(int i = 1; i <= capacity; ++i)
        BOOST_TEST(ref.try_tell(item{i}) == send_status::ok);
    BOOST_TEST(within([&] { return ref.try_tell(item{capacity + 1}); }) == send_status::mailbox_full);
    BOOST_TEST(sys.stats().dead_letters == 1u);
    check_letters(letters->snapshot(), ref.id(), 1, spindle::error::mailbox_full);

    auto const got = drain(ref, *g.g, *log, capacity + 1);
    std::vector<int> want;
    for(int i = 0; i <= capacity; ++i)
        want.push_back(i);
    BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bounded_block_sender_is_released_when_the_receiver_stops)
{
    constexpr int capacity = 1;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::block, 1h), log, g.g);

    auto const st = overfill(ref, *g.g, capacity, 0);
    BOOST_TEST(count(st, send_status::ok) == st.size());
    std::promise<send_status> blocked_status;
    auto blocked_result = blocked_status.get_future();
    std::thread sender([&] { blocked_status.set_value(ref.tell(item{capacity + 1})); });
    // let the sender reach its wait (if it is slower, it meets a closed
    // mailbox instead and the outcome is the same)
    std::this_thread::sleep_for(50ms);

    ref.stop(); // takes effect when item 0's handler returns
    g->open();
    BOOST_REQUIRE(blocked_result.wait_for(60s) == std::future_status::ready);
    sender.join();
    BOOST_TEST(blocked_result.get() == send_status::stopped);
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));

    BOOST_TEST(log->snapshot() == std::vector<int>{0}, boost::test_tools::per_element());
    // item 1 was queued (drained at the stop), item 2 never got in
    BOOST_TEST(sys.stats().dead_letters == 2u);
    check_letters(letters->snapshot(), ref.id(), 2, spindle::error::actor_stopped);
}

BOOST_AUTO_TEST_CASE(ask_into_full_fail_mailbox_fails_at_once)
{
    constexpr int capacity = 2;
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto ref = sys.spawn_with<sink>(bounded(capacity, spindle::overflow_policy::fail), log, g.g);

    overfill(ref, *g.g, capacity, 0);
    // the clock is manual and never advanced: only the refusal can complete it
    auto const r = within([&] { return ref.ask(ping{}).result(); });
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == code(spindle::error::mailbox_full));
    BOOST_TEST(sys.stats().dead_letters == 1u);
    auto const l = letters->snapshot();
    BOOST_REQUIRE(l.size() == 1u);
    BOOST_TEST((*l[0].message_type == typeid(ping)));
    BOOST_TEST(code(l[0].reason) == code(spindle::error::mailbox_full));
    drain(ref, *g.g, *log, capacity + 1);
}

BOOST_AUTO_TEST_CASE(tell_to_stopped_actor_is_a_dead_letter)
{
    auto log = std::make_shared<delivery_log>();
    spindle::system sys(manual_clock_options());
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    g->open();
    auto ref = sys.spawn<sink>(log, g.g);
    BOOST_TEST(within([&] { return ref.ask(ping{}).get(); }) == 1);

    ref.stop();
    BOOST_REQUIRE(eventually([&] { return !ref.alive(); }));
    auto const before = sys.stats().dead_letters;
    BOOST_TEST(ref.tell(item{1}) == send_status::stopped);
    BOOST_TEST(ref.try_tell(item{2}) == send_status::stopped);
    BOOST_TEST(to_error_code(send_status::stopped) == code(spindle::error::actor_stopped));
    BOOST_TEST(sys.stats().dead_letters == before + 2);
    auto const l = letters->snapshot();
    BOOST_REQUIRE(l.size() == 2u);
    for(auto const& d : l)
    {
        BOOST_TEST(d.receiver == ref.id());
        BOOST_TEST((*d.message_type == typeid(item)));
        BOOST_TEST(code(d.reason) == code(spindle::error::actor_stopped));
    }
    BOOST_TEST(log->size() == 0u);

    // an empty reference behaves like a stopped actor
    spindle::actor_ref<sink> empty;
    BOOST_TEST(empty.tell(item{3}) == send_status::stopped);
}

// --- overflow under concurrent producers: every message accounted for ---

namespace {

struct numbered
{
    std::uint32_t sender;
    std::uint32_t seq;
};

struct numbered_ping
{
};

/// Counts what it handles per sender and checks each sender's order; the
/// first message waits at the gate, so the mailbox fills up behind it.
struct counting_sink : spindle::actor<counting_sink, numbered, numbered_ping>
{
    std::shared_ptr<gate> gate_;
    std::vector<std::int64_t> last_;
    std::uint64_t handled_ = 0;
    std::uint64_t out_of_order_ = 0;
    bool first_ = true;

    counting_sink(std::shared_ptr<gate> g, std::uint32_t senders) : gate_(std::move(g)), last_(senders, -1) {}

    void on(numbered m)
    {
        if(first_)
        {
            first_ = false;
            gate_->pass();
        }
        // a sender's messages are handled in order, each at most once (gaps are drops)
        if(m.sender >= last_.size() || std::int64_t(m.seq) <= last_[m.sender])
            ++out_of_order_;
        else
            last_[m.sender] = m.seq;
        ++handled_;
    }

    std::vector<std::uint64_t> on(numbered_ping) { return {handled_, out_of_order_}; }
};

void eight_producers(spindle::overflow_policy policy)
{
    constexpr std::uint32_t producers = 8;
    constexpr std::uint32_t per_producer = 3000;
    constexpr std::uint32_t capacity = 16;
    constexpr std::uint64_t sent = std::uint64_t(producers) * per_producer;

    std::atomic<std::uint64_t> letters{0}; // outlives the system's hook
    spindle::system sys(workers(2));
    sys.on_dead_letter([&](spindle::dead_letter const&) { letters.fetch_add(1); });
    scoped_gate g;
    // block: a sender waits for room as long as it takes (the gate opens)
    auto ref = sys.spawn_with<counting_sink>(bounded(capacity, policy, std::chrono::hours(1)), g.g, producers);

    std::array<std::array<std::atomic<std::uint64_t>, 4>, producers> st{}; // ok, full, dropped, other
    std::atomic<std::uint64_t> told{0};
    std::latch start(producers);
    std::vector<std::thread> threads;
    for(std::uint32_t p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            start.arrive_and_wait();
            for(std::uint32_t i = 0; i < per_producer; ++i)
            {
                auto const s = ref.tell(numbered{p, i});
                int const k = s == send_status::ok ? 0 : s == send_status::mailbox_full ? 1 : s == send_status::dropped ? 2 : 3;
                st[p][k].fetch_add(1);
                told.fetch_add(1);
            }
        });
    // the receiver is held while the producers race into a full mailbox
    // (a blocking policy needs room to go on: the gate opens at once)
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    if(policy != spindle::overflow_policy::block)
        BOOST_REQUIRE(eventually([&] { return told.load() >= sent / 2; }));
    g->open();
    for(auto& t : threads)
        t.join();
    // the ask needs room: it must neither be refused nor push a message out
    BOOST_REQUIRE(eventually([&] { return ref.mailbox_depth() == 0; }));
    auto const r = within([&] { return ref.ask(numbered_ping{}, failure_timeout).get(); });
    BOOST_REQUIRE(r.size() == 2u);
    std::uint64_t const handled = r[0];

    std::uint64_t ok = 0, full = 0, dropped = 0, other = 0;
    for(auto const& s : st)
    {
        ok += s[0].load();
        full += s[1].load();
        dropped += s[2].load();
        other += s[3].load();
    }
    auto const stats = sys.stats();
    BOOST_TEST_CONTEXT("policy " << spindle::to_string(policy))
    {
        BOOST_TEST(ok + full + dropped + other == sent);
        BOOST_TEST(other == 0u);
        BOOST_TEST(r[1] == 0u, "messages out of order or twice");
        // sent = handled + refused + dropped, counted by the senders and by the system
        BOOST_TEST(handled + stats.refused + stats.dropped == sent);
        BOOST_TEST(stats.refused == full);
        BOOST_TEST(stats.dead_letters == stats.refused + stats.dropped);
        BOOST_TEST(eventually([&] { return letters.load() == stats.dead_letters; }));
        check_overflow_counts(sys, ref.id(), stats.refused, stats.dropped);
        switch(policy)
        {
        case spindle::overflow_policy::fail:
            BOOST_TEST(handled == ok);
            BOOST_TEST(stats.dropped == 0u);
            BOOST_TEST(full > 0u, "the mailbox never overflowed: the test proved nothing");
            break;
        case spindle::overflow_policy::drop_newest:
            BOOST_TEST(handled == ok);
            BOOST_TEST(stats.dropped == dropped);
            BOOST_TEST(dropped > 0u, "the mailbox never overflowed: the test proved nothing");
            break;
        case spindle::overflow_policy::drop_oldest:
            BOOST_TEST(ok == sent); // the victim is an older message, not the one told
            BOOST_TEST(stats.dropped > 0u, "the mailbox never overflowed: the test proved nothing");
            break;
        default: // block
            BOOST_TEST(handled == sent);
            BOOST_TEST(stats.dropped + stats.refused == 0u);
            break;
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(eight_producers_every_message_is_handled_refused_or_dropped)
{
    for(auto p : {spindle::overflow_policy::fail, spindle::overflow_policy::drop_newest,
             spindle::overflow_policy::drop_oldest, spindle::overflow_policy::block})
        eight_producers(p);
}
