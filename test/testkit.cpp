//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// testkit::probe as users' tests rely on it: messages come out in order,
// and every failed expectation throws expectation_failed with a message
// that says what was expected and what came.

#include <spindle/testkit.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <chrono>
#include <sstream>
#include <string>

using namespace std::chrono_literals;
using namespace spindle_test;
using spindle::testkit::expectation_failed;
using spindle::testkit::probe;

namespace {

// Timeouts are passed as nanoseconds: expect_msg<M>(50ms) currently picks
// the predicate overload (its Pred is unconstrained) and fails to compile.
constexpr std::chrono::nanoseconds short_wait = 50ms;

struct ping
{
    int n;
};
struct pong
{
    int n;
};

// Replies to a ping by sending a pong to the probe it was given.
struct echo_req
{
    spindle::actor_ref<spindle::testkit::probe_actor<ping, pong>> to;
    int n;
};

struct echo : spindle::actor<echo, echo_req>
{
    void on(echo_req const& r)
    {
        r.to.tell(pong{r.n * 10});
        r.to.tell(ping{r.n});
    }
};

auto says(std::string a, std::string b = {})
{
    return [a, b](expectation_failed const& e) {
        std::string const what = e.what();
        bool const ok = what.find(a) != std::string::npos && what.find(b) != std::string::npos;
        if(!ok)
            BOOST_TEST_MESSAGE("expectation_failed said: " << what);
        return ok;
    };
}

struct fixture
{
    spindle::system sys{workers(2)};
    probe<ping, pong> p{sys};
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(probe_expectations, fixture)

BOOST_AUTO_TEST_CASE(expect_msg_returns_messages_in_order)
{
    for(int i = 0; i < 100; ++i)
    {
        if(i % 3 == 0)
            p.ref().tell(pong{i});
        else
            p.ref().tell(ping{i});
    }
    for(int i = 0; i < 100; ++i)
    {
        if(i % 3 == 0)
            BOOST_TEST(p.expect_msg<pong>().n == i);
        else
            BOOST_TEST(p.expect_msg<ping>().n == i);
    }
    BOOST_TEST(p.received() == 100u);
}

BOOST_AUTO_TEST_CASE(expect_msg_sees_what_actors_send)
{
    auto e = sys.spawn<echo>();
    e.tell(echo_req{p.ref(), 4});
    BOOST_TEST(p.expect_msg<pong>().n == 40);
    BOOST_TEST(p.expect_msg<ping>().n == 4);
}

BOOST_AUTO_TEST_CASE(expect_msg_with_a_predicate)
{
    p.ref().tell(ping{5});
    auto m = p.expect_msg<ping>([](ping const& x) { return x.n == 5; });
    BOOST_TEST(m.n == 5);

    p.ref().tell(ping{6});
    BOOST_CHECK_EXCEPTION(p.expect_msg<ping>([](ping const& x) { return x.n == 5; }), expectation_failed,
                          says("ping", "did not match"));
    // the message was taken either way
    BOOST_CHECK_EXCEPTION(p.expect_msg<ping>(short_wait), expectation_failed, says("got nothing"));
}

BOOST_AUTO_TEST_CASE(expect_no_msg_passes_when_silent)
{
    BOOST_CHECK_NO_THROW(p.expect_no_msg(50ms));
    BOOST_TEST(p.received() == 0u);
}

BOOST_AUTO_TEST_CASE(expect_no_msg_throws_when_a_message_arrives)
{
    p.ref().tell(pong{1});
    // the message is there well before the (generous) window ends
    BOOST_CHECK_EXCEPTION(p.expect_no_msg(10s), expectation_failed, says("expected no message", "pong"));
    // it was not consumed
    BOOST_TEST(p.expect_msg<pong>().n == 1);
}

BOOST_AUTO_TEST_CASE(expect_msg_throws_on_timeout)
{
    BOOST_CHECK_EXCEPTION(p.expect_msg<ping>(short_wait), expectation_failed, says("ping", "got nothing"));
}

BOOST_AUTO_TEST_CASE(expect_msg_of_the_wrong_type_names_both_types)
{
    p.ref().tell(pong{3});
    BOOST_CHECK_EXCEPTION(p.expect_msg<ping>(), expectation_failed, [](expectation_failed const& e) {
        // "... expected <ns>::ping, got <ns>::pong"
        std::string const what = e.what();
        BOOST_TEST_MESSAGE("expectation_failed said: " << what);
        auto const expected = what.find("expected");
        auto const got = what.find("got");
        return expected != std::string::npos && got != std::string::npos &&
               what.find("ping", expected) < got && what.find("pong", got) != std::string::npos;
    });
    // the next message is unaffected
    p.ref().tell(ping{4});
    BOOST_TEST(p.expect_msg<ping>().n == 4);
}

BOOST_AUTO_TEST_CASE(wrong_type_texts_carry_no_anonymous_namespace)
{
    p.ref().tell(pong{3});
    BOOST_CHECK_EXCEPTION(p.expect_msg<ping>(), expectation_failed, [](expectation_failed const& e) {
        std::string const what = e.what();
        BOOST_TEST_MESSAGE("expectation_failed said: " << what);
        return what.find("anonymous") == std::string::npos && what.find("ping") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(expect_terminated_returns_the_down_of_a_watched_actor)
{
    auto e = sys.spawn<echo>();
    p.watch(e);
    e.stop("done");
    auto d = p.expect_terminated(e);
    BOOST_TEST(d.actor == e.id());
    BOOST_TEST((d.reason == spindle::exit_reason::normal));
    BOOST_TEST(d.what == "done");
    // an actor already stopped: the notice comes at once
    p.watch(e);
    BOOST_TEST(p.expect_terminated(e).actor == e.id());
}

BOOST_AUTO_TEST_CASE(expect_terminated_throws_on_timeout_naming_the_actor)
{
    auto e = sys.spawn<echo>();
    p.watch(e);
    std::ostringstream os;
    os << e;
    BOOST_CHECK_EXCEPTION(p.expect_terminated(e, short_wait), expectation_failed, says("termination", os.str()));
}

BOOST_AUTO_TEST_CASE(probe_can_be_named)
{
    probe<ping> named(sys, "the-probe");
    auto r = sys.lookup<spindle::testkit::probe_actor<ping>>("the-probe");
    BOOST_TEST(r == named.ref());
    r.tell(ping{9});
    BOOST_TEST(named.expect_msg<ping>().n == 9);
}

BOOST_AUTO_TEST_SUITE_END()
