//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/event_stream.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/system.hpp>

#include <stdexcept>
#include <string>

using namespace spindle_test;
using spindle::event;
using spindle::event_filter;
using spindle::event_type;

namespace {

struct crash
{
};
struct get
{
};

struct fragile : spindle::actor<fragile, crash, get>
{
    void on(crash) { throw std::runtime_error("fragile broke"); }
    int on(get) { return 1; }
};

using event_history = std::shared_ptr<history<event>>;

event_history record(spindle::event_stream& s, event_filter f, spindle::handler_id* id = nullptr,
                     spindle::subscribe_options o = {})
{
    auto h = std::make_shared<history<event>>();
    auto hid = s.subscribe(f, [h](event const& e) { h->push(e); }, o);
    if(id)
        *id = hid;
    return h;
}

event custom(std::string detail)
{
    event e;
    e.type = event_type::custom;
    e.source_name = "test";
    e.detail = std::move(detail);
    return e;
}

} // namespace

BOOST_AUTO_TEST_CASE(an_actor_s_life_is_published_in_order)
{
    spindle::system sys(workers(2));
    auto all = record(sys.events(), event_filter::all());
    auto a = sys.spawn_with<fragile>([] {
        spindle::spawn_options o;
        o.name = "fragile-1";
        return o;
    }());
    auto only_a = record(sys.events(), event_filter::all().from(a.id()));
    a.tell(crash{});
    BOOST_TEST(a.ask(get{}).get() == 1);
    a.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !a.alive(); }));

    // the failed handler's message is a dead letter, published after the failure
    std::vector<event_type> const want = {event_type::actor_started, event_type::actor_failed,
                                          event_type::dead_letter, event_type::actor_restarted,
                                          event_type::actor_started, event_type::actor_stopped};
    BOOST_TEST_REQUIRE(eventually([&] { return all->size() >= want.size(); }));
    auto got = all->snapshot();
    std::vector<event_type> types;
    for(auto const& e : got)
        if(e.source == a.id())
            types.push_back(e.type);
    BOOST_TEST(types == want, boost::test_tools::per_element());
    for(std::size_t i = 1; i < got.size(); ++i)
        BOOST_TEST(got[i].sequence > got[i - 1].sequence);
    BOOST_TEST(got[0].source_name == "fragile-1");
    BOOST_TEST(got[0].actor_type.find("fragile") != std::string::npos);
    BOOST_TEST(got[1].detail.find("fragile broke") != std::string::npos);
    BOOST_TEST(got.back().detail == "normal");
    BOOST_TEST(!got[0].id.is_nil());
    BOOST_TEST(got[0].id != got[1].id);

    BOOST_TEST(got[2].detail.find("crash") != std::string::npos);

    // a source filter passes that actor's events only (the subscription may
    // have missed the first start: it began after the spawn)
    BOOST_TEST_REQUIRE(eventually([&] {
        auto m = only_a->snapshot();
        return !m.empty() && m.back().type == event_type::actor_stopped;
    }));
    auto mine = only_a->snapshot();
    BOOST_TEST(mine.size() >= 5u);
    for(auto const& e : mine)
        BOOST_TEST(e.source == a.id());
}

BOOST_AUTO_TEST_CASE(filters_pick_types)
{
    spindle::event_stream s;
    auto failures = record(s, event_filter::of({event_type::actor_failed, event_type::custom}));
    BOOST_TEST(!s.wants(event_type::actor_started));
    BOOST_TEST(s.wants(event_type::actor_failed));
    BOOST_TEST(s.wants(event_type::supervisor_escalated)); // kept for recent()
    event started;
    started.type = event_type::actor_started;
    s.publish(started);
    s.publish(custom("one"));
    BOOST_TEST_REQUIRE(eventually([&] { return failures->size() == 1; }));
    BOOST_TEST(failures->snapshot()[0].detail == "one");
    BOOST_TEST(s.published() == 1u); // nobody wanted the start
}

BOOST_AUTO_TEST_CASE(a_slow_subscriber_does_not_block_the_system_and_its_drops_are_counted)
{
    scoped_gate g;
    spindle::system sys(workers(2));
    spindle::handler_id slow_id;
    spindle::subscribe_options small;
    small.buffer = 4;
    auto slow_seen = std::make_shared<std::atomic<int>>(0);
    slow_id = sys.events().subscribe(
        event_filter::of({event_type::actor_started}),
        [gg = g.g, slow_seen](event const&) {
            slow_seen->fetch_add(1);
            gg->pass();
        },
        small);
    auto fast = record(sys.events(), event_filter::of({event_type::actor_started}));

    std::vector<spindle::actor_ref<fragile>> actors;
    for(int i = 0; i < 100; ++i)
        actors.push_back(sys.spawn<fragile>());
    {
        watchdog wd("asks while a subscriber is stuck");
        for(auto& a : actors)
            BOOST_TEST(a.ask(get{}).get() == 1);
    }
    BOOST_TEST_REQUIRE(eventually([&] { return fast->size() == 100; }));
    // one event is in the stuck callback and four are buffered, or (if the
    // delivery thread woke only after the last publication) four in all; the
    // rest are dropped for this subscriber alone
    BOOST_TEST_REQUIRE(eventually([&] { return slow_seen->load() == 1; }));
    auto const dropped = sys.events().dropped(slow_id);
    BOOST_TEST((dropped == 95u || dropped == 96u));
    BOOST_TEST(sys.events().dropped() == dropped);
    auto f = fast->snapshot();
    for(std::size_t i = 1; i < f.size(); ++i)
        BOOST_TEST(f[i].sequence > f[i - 1].sequence);
    g->open();
    BOOST_TEST_REQUIRE(eventually([&] { return slow_seen->load() == static_cast<int>(100 - dropped); }));
    BOOST_TEST(sys.events().unsubscribe(slow_id));
    BOOST_TEST(!sys.events().unsubscribe(slow_id));
}

BOOST_AUTO_TEST_CASE(a_callback_may_unsubscribe_itself)
{
    spindle::event_stream s;
    auto id = std::make_shared<spindle::handler_id>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto done = std::make_shared<std::atomic<bool>>(false);
    *id = s.subscribe(event_filter::of({event_type::custom}), [&s, id, calls, done](event const&) {
        calls->fetch_add(1);
        done->store(s.unsubscribe(*id));
    });
    s.publish(custom("a"));
    BOOST_TEST_REQUIRE(eventually([&] { return done->load(); }));
    s.publish(custom("b"));
    s.publish(custom("c"));
    auto other = record(s, event_filter::of({event_type::custom}));
    s.publish(custom("d"));
    BOOST_TEST_REQUIRE(eventually([&] { return other->size() == 1; }));
    BOOST_TEST(calls->load() == 1);
}

BOOST_AUTO_TEST_CASE(bad_subscriptions_are_refused)
{
    spindle::event_stream s;
    BOOST_CHECK_EXCEPTION(s.subscribe(event_filter::all(), {}), spindle::system_error,
                          has_code(spindle::error::invalid_argument));
    spindle::subscribe_options zero;
    zero.buffer = 0;
    BOOST_CHECK_EXCEPTION(s.subscribe(event_filter::all(), [](event const&) {}, zero), spindle::system_error,
                          has_code(spindle::error::invalid_argument));
    s.close();
    BOOST_CHECK_EXCEPTION(s.subscribe(event_filter::all(), [](event const&) {}), spindle::system_error,
                          has_code(spindle::error::system_stopped));
}

BOOST_AUTO_TEST_CASE(recent_keeps_the_last_rare_events)
{
    spindle::event_stream s;
    for(int i = 0; i < 300; ++i)
        s.publish(custom(std::to_string(i)));
    auto r = s.recent();
    BOOST_TEST_REQUIRE(r.size() == spindle::event_stream::recent_capacity);
    BOOST_TEST(r.front().detail == "44");
    BOOST_TEST(r.back().detail == "299");
    BOOST_TEST(s.published() == 300u);
}
