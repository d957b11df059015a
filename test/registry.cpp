//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The name registry of spindle::system: register, look up (typed and
// untyped), the errors of each, and names freed when their actor stops.

#include <spindle/system.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

using namespace spindle_test;

namespace {

struct who {};

// Answers with the tag it was built with, so a lookup can be checked to
// reach the right actor (not just an actor of the right type).
struct tagged : spindle::actor<tagged, who>
{
    int tag;
    std::shared_ptr<std::atomic<int>> alive;
    tagged(int t, std::shared_ptr<std::atomic<int>> a) : tag(t), alive(std::move(a)) { alive->fetch_add(1); }
    ~tagged() override { alive->fetch_sub(1); }
    int on(who) { return tag; }
};

struct other : spindle::actor<other, who>
{
    int on(who) { return -1; }
};

struct fixture
{
    std::shared_ptr<std::atomic<int>> alive = std::make_shared<std::atomic<int>>(0);
    spindle::system sys{workers(2)};

    spindle::actor_ref<tagged> spawn_named(std::string name, int tag)
    {
        spindle::spawn_options o;
        o.name = std::move(name);
        return sys.spawn_with<tagged>(o, tag, alive);
    }

    int tag_of(spindle::actor_ref<tagged> const& r)
    {
        watchdog wd("ask who");
        return r.ask(who{}).get();
    }

    void stop_and_wait(spindle::basic_actor_ref const& r)
    {
        r.stop();
        BOOST_TEST_REQUIRE(eventually([&] { return !r.alive(); }));
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(registry, fixture)

BOOST_AUTO_TEST_CASE(name_given_at_spawn_is_found)
{
    auto a = spawn_named("alpha", 1);
    spawn_named("beta", 2);
    BOOST_TEST(a.name() == "alpha");

    auto found = sys.lookup<tagged>("alpha");
    BOOST_TEST(found == a);
    BOOST_TEST(found.id() == a.id());
    BOOST_TEST(tag_of(found) == 1);

    boost::system::error_code ec = make_error_code(spindle::error::no_reply);
    auto b = sys.lookup<tagged>("beta", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(tag_of(b) == 2);
}

BOOST_AUTO_TEST_CASE(register_name_adds_a_name)
{
    auto a = sys.spawn<tagged>(7, alive);
    BOOST_TEST(a.name().empty());
    sys.register_name("seven", a);
    BOOST_TEST(sys.lookup<tagged>("seven") == a);
    BOOST_TEST(tag_of(sys.lookup<tagged>("seven")) == 7);

    // a second name for the same actor, and the same name again, are fine
    boost::system::error_code ec;
    sys.register_name("also-seven", a, ec);
    BOOST_TEST(!ec);
    sys.register_name("seven", a, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(sys.lookup<tagged>("also-seven") == a);
}

BOOST_AUTO_TEST_CASE(lookup_of_the_wrong_type_is_unknown_actor)
{
    spawn_named("typed", 1);
    boost::system::error_code ec;
    auto r = sys.lookup<other>("typed", ec);
    BOOST_TEST(ec == make_error_code(spindle::error::unknown_actor));
    BOOST_TEST(!r);
    BOOST_CHECK_EXCEPTION(sys.lookup<other>("typed"), spindle::system_error,
                          has_code(spindle::error::unknown_actor));
    // the right type still finds it
    BOOST_TEST(!!sys.lookup<tagged>("typed"));
}

BOOST_AUTO_TEST_CASE(unknown_name_is_unknown_actor)
{
    spawn_named("known", 1);
    boost::system::error_code ec;
    auto r = sys.lookup<tagged>("unknown", ec);
    BOOST_TEST(ec == make_error_code(spindle::error::unknown_actor));
    BOOST_TEST(!r);
    BOOST_CHECK_EXCEPTION(sys.lookup<tagged>("unknown"), spindle::system_error,
                          has_code(spindle::error::unknown_actor));
    BOOST_CHECK_EXCEPTION(sys.lookup<tagged>(""), spindle::system_error, has_code(spindle::error::unknown_actor));
    BOOST_TEST(!sys.lookup_any("unknown"));
}

BOOST_AUTO_TEST_CASE(name_of_a_live_actor_is_taken)
{
    auto first = spawn_named("taken", 1);

    // spawning under the name fails, and leaves no actor behind
    BOOST_CHECK_EXCEPTION(spawn_named("taken", 2), spindle::system_error, has_code(spindle::error::name_taken));
    boost::system::error_code ec;
    spindle::spawn_options o;
    o.name = "taken";
    auto second = sys.spawn_with<tagged>(o, ec, 3, alive);
    BOOST_TEST(ec == make_error_code(spindle::error::name_taken));
    BOOST_TEST(!second);
    BOOST_TEST(sys.actor_count() == 1u);
    BOOST_TEST(alive->load() == 1);
    BOOST_TEST(sys.stats().spawned == 1u);

    // registering another actor under it fails too
    auto third = sys.spawn<tagged>(4, alive);
    sys.register_name("taken", third, ec);
    BOOST_TEST(ec == make_error_code(spindle::error::name_taken));
    BOOST_CHECK_EXCEPTION(sys.register_name("taken", third), spindle::system_error,
                          has_code(spindle::error::name_taken));

    // the name still means the first actor
    BOOST_TEST(tag_of(sys.lookup<tagged>("taken")) == 1);
    BOOST_TEST(first.alive());
}

BOOST_AUTO_TEST_CASE(name_becomes_free_when_the_actor_stops)
{
    auto first = spawn_named("reused", 1);
    stop_and_wait(first);

    boost::system::error_code ec;
    BOOST_TEST(!sys.lookup<tagged>("reused", ec));
    BOOST_TEST(ec == make_error_code(spindle::error::unknown_actor));
    BOOST_TEST(!sys.lookup_any("reused"));

    auto second = spawn_named("reused", 2);
    BOOST_TEST(tag_of(sys.lookup<tagged>("reused")) == 2);
    stop_and_wait(second);

    // also for a name given with register_name
    auto third = sys.spawn<tagged>(3, alive);
    sys.register_name("reused", third);
    BOOST_TEST(tag_of(sys.lookup<tagged>("reused")) == 3);
    stop_and_wait(third);
    BOOST_TEST(!sys.lookup_any("reused"));
    auto fourth = sys.spawn<tagged>(4, alive);
    sys.register_name("reused", fourth, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(tag_of(sys.lookup<tagged>("reused")) == 4);
}

BOOST_AUTO_TEST_CASE(unregister_name_removes_only_the_name)
{
    auto a = spawn_named("gone", 1);
    BOOST_TEST(sys.unregister_name("gone"));
    BOOST_TEST(!sys.unregister_name("gone")); // not registered any more
    BOOST_TEST(!sys.unregister_name("never-registered"));

    boost::system::error_code ec;
    BOOST_TEST(!sys.lookup<tagged>("gone", ec));
    BOOST_TEST(ec == make_error_code(spindle::error::unknown_actor));
    BOOST_TEST(a.alive());
    BOOST_TEST(tag_of(a) == 1);

    // the name is free for another actor; the first one stopping later
    // does not take it away from the new owner
    auto b = spawn_named("gone", 2);
    stop_and_wait(a);
    BOOST_TEST(tag_of(sys.lookup<tagged>("gone")) == 2);
    BOOST_TEST(b.alive());
}

BOOST_AUTO_TEST_CASE(lookup_any_returns_an_untyped_reference)
{
    auto a = spawn_named("any", 5);
    spindle::basic_actor_ref r = sys.lookup_any("any");
    BOOST_TEST_REQUIRE(!!r);
    BOOST_TEST(r.id() == a.id());
    BOOST_TEST(r.name() == "any");
    BOOST_TEST((r.type() == typeid(tagged)));
    BOOST_TEST(r.alive());
    BOOST_TEST(r == a);

    spindle::basic_actor_ref none = sys.lookup_any("none");
    BOOST_TEST(!none);
    BOOST_TEST(!none.alive());
    BOOST_TEST((none.type() == typeid(void)));
}

BOOST_AUTO_TEST_CASE(register_name_rejects_bad_input)
{
    auto a = sys.spawn<tagged>(1, alive);
    boost::system::error_code ec;
    sys.register_name("", a, ec);
    BOOST_TEST(ec == make_error_code(spindle::error::invalid_argument));
    sys.register_name("empty-ref", spindle::basic_actor_ref{}, ec);
    BOOST_TEST(ec == make_error_code(spindle::error::invalid_argument));
    BOOST_CHECK_EXCEPTION(sys.register_name("", a), spindle::system_error,
                          has_code(spindle::error::invalid_argument));

    stop_and_wait(a);
    sys.register_name("late", a, ec);
    BOOST_TEST(ec == make_error_code(spindle::error::actor_stopped));
    BOOST_TEST(!sys.lookup_any("late"));
}

BOOST_AUTO_TEST_SUITE_END()
