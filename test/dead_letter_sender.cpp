//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Dead letters name their sender: the actor whose handler sent the message
// (also after that handler blocked and resumed while other actors ran on
// the same worker), or nil for a message sent from outside any actor.

#include <spindle/system.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/actor.hpp>
#include <spindle/event_stream.hpp>

#include <boost/fiber/operations.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

using namespace spindle_test;

namespace {

struct from_a
{
};
struct from_c
{
};
struct boom
{
};
struct hold
{
};

/// Receives everything; throws on boom; waits at its gate on hold.
struct target : spindle::actor<target, from_a, from_c, boom, hold>
{
    std::shared_ptr<gate> g;
    explicit target(std::shared_ptr<gate> gg) : g(std::move(gg)) {}
    void on(from_a) {}
    void on(from_c) {}
    void on(boom) { throw std::runtime_error("boom"); }
    void on(hold) { g->pass(); }
};

struct send_to
{
    spindle::actor_ref<target> to;
    int copies = 1;
    bool bad = false; // send boom instead
};

/// Sends from_a (or boom) to whom it is told.
struct sender_a : spindle::actor<sender_a, send_to>
{
    void on(send_to const& m)
    {
        for(int i = 0; i < m.copies; ++i)
        {
            if(m.bad)
                m.to.tell(boom{});
            else
                m.to.tell(from_a{});
        }
    }
};

struct go
{
};

/// Sends from_c to a target when told to go.
struct sender_c : spindle::actor<sender_c, go>
{
    spindle::actor_ref<target> to;
    explicit sender_c(spindle::actor_ref<target> t) : to(std::move(t)) {}
    void on(go) { to.tell(from_c{}); }
};

struct ping
{
};

/// Answers an ask after making sender_c send: sender_c runs while the asker
/// is parked on the same worker.
struct middle : spindle::actor<middle, ping>
{
    spindle::actor_ref<sender_c> c;
    explicit middle(spindle::actor_ref<sender_c> cc) : c(std::move(cc)) {}
    int on(ping)
    {
        c.tell(go{});
        return 1;
    }
};

struct ask_then_send
{
    spindle::actor_ref<middle> m;
    spindle::actor_ref<target> to;
};

/// Blocks in an ask, then sends from_a: still the sender after resuming.
struct blocking_a : spindle::actor<blocking_a, ask_then_send>
{
    void on(ask_then_send const& x)
    {
        // yield until sender_c has sent: other runners take this worker meanwhile
        (void)x.m.ask(ping{}).get();
        for(int i = 0; i < 50; ++i)
            boost::this_fiber::yield();
        x.to.tell(from_a{});
    }
};

std::vector<spindle::dead_letter> of_type(std::vector<spindle::dead_letter> const& all, std::type_info const& t)
{
    std::vector<spindle::dead_letter> out;
    for(auto const& d : all)
        if(*d.message_type == t)
            out.push_back(d);
    return out;
}

spindle::actor_ref<target> stopped_target(spindle::system& sys, std::shared_ptr<gate> const& g)
{
    auto t = sys.spawn<target>(g);
    t.stop();
    BOOST_REQUIRE(eventually([&] { return !t.alive(); }));
    return t;
}

} // namespace

BOOST_AUTO_TEST_CASE(from_outside_any_actor_the_sender_is_nil)
{
    spindle::system sys(workers(1));
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto t = stopped_target(sys, g.g);
    BOOST_TEST((t.tell(from_a{}) == spindle::send_status::stopped));
    auto const all = letters->snapshot();
    BOOST_REQUIRE(all.size() == 1u);
    BOOST_TEST(all[0].receiver == t.id());
    BOOST_TEST(all[0].sender.is_nil());
    BOOST_TEST((all[0].reason == spindle::error::actor_stopped));
}

BOOST_AUTO_TEST_CASE(from_a_handler_the_sender_is_that_actor)
{
    spindle::system sys(workers(2));
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto t = stopped_target(sys, g.g);
    auto a = sys.spawn<sender_a>();
    a.tell(send_to{t, 3});
    BOOST_REQUIRE(eventually([&] { return letters->size() == 3u; }));
    for(auto const& d : letters->snapshot())
    {
        BOOST_TEST(d.sender == a.id());
        BOOST_TEST(d.receiver == t.id());
        BOOST_TEST((d.reason == spindle::error::actor_stopped));
    }
}

BOOST_AUTO_TEST_CASE(evicted_and_refused_messages_keep_their_sender)
{
    spindle::system sys(workers(2));
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto t = sys.spawn_with<target>(bounded(1, spindle::overflow_policy::drop_oldest), g.g);
    t.tell(hold{}); // the target waits at the gate; its mailbox holds one more
    BOOST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    auto a = sys.spawn<sender_a>();
    a.tell(send_to{t, 4}); // the first three are evicted by the next
    BOOST_REQUIRE(eventually([&] { return letters->size() == 3u; }));
    for(auto const& d : letters->snapshot())
    {
        BOOST_TEST(d.sender == a.id()); // queued by sender_a, evicted later by its next tell
        BOOST_TEST((d.reason == spindle::error::message_dropped));
    }
    g->open();
}

BOOST_AUTO_TEST_CASE(a_failing_message_names_its_sender)
{
    spindle::system sys(workers(2));
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto t = sys.spawn<target>(g.g);
    auto a = sys.spawn<sender_a>();
    a.tell(send_to{t, 1, true});
    BOOST_REQUIRE(eventually([&] { return letters->size() == 1u; }));
    auto const d = letters->snapshot().at(0);
    BOOST_TEST((*d.message_type == typeid(boom)));
    BOOST_TEST((d.reason == spindle::error::handler_failed));
    BOOST_TEST(d.sender == a.id());
}

BOOST_AUTO_TEST_CASE(a_handler_that_blocked_and_resumed_is_still_the_sender)
{
    // one worker: while blocking_a waits for its answer, middle and sender_c
    // run on the same thread and send; blocking_a's later send is still its own
    spindle::system sys(workers(1));
    auto letters = record_dead_letters(sys);
    scoped_gate g;
    auto t = stopped_target(sys, g.g);
    auto c = sys.spawn<sender_c>(t);
    auto m = sys.spawn<middle>(c);
    auto a = sys.spawn<blocking_a>();
    a.tell(ask_then_send{m, t});
    BOOST_REQUIRE(eventually([&] { return letters->size() == 2u; }));
    auto const all = letters->snapshot();
    auto const as = of_type(all, typeid(from_a));
    auto const cs = of_type(all, typeid(from_c));
    BOOST_REQUIRE(as.size() == 1u);
    BOOST_REQUIRE(cs.size() == 1u);
    BOOST_TEST(as[0].sender == a.id());
    BOOST_TEST(cs[0].sender == c.id());
}

BOOST_AUTO_TEST_CASE(a_dead_letter_event_names_the_sender)
{
    spindle::system sys(workers(2));
    scoped_gate g;
    auto events = std::make_shared<history<spindle::event>>();
    auto h = sys.events().subscribe(spindle::event_filter::of({spindle::event_type::dead_letter}),
                                    [events](spindle::event const& e) { events->push(e); });
    auto t = stopped_target(sys, g.g);
    auto a = sys.spawn<sender_a>();
    a.tell(send_to{t, 1});
    BOOST_REQUIRE(eventually([&] { return events->size() == 1u; }));
    auto const e = events->snapshot().at(0);
    BOOST_TEST(e.detail.find("from " + a.id().to_string()) != std::string::npos, e.detail);
    sys.events().unsubscribe(h);
}
