//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Agents offered as tools: a call is an ask with a tool_message and the
// reply is the result; the tool survives the runtime restarting the agent
// after a failing call; an agent calls other tools as itself and on behalf
// of its caller; the bus's timeout frees the call even while the agent
// still works.

#include <spindle/tools/agent_tool.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>
#include <spindle/tools/builtin_tools.hpp>
#include <spindle/tools/tool_bus.hpp>

#include <boost/json/parse.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace json = boost::json;
namespace tools = spindle::tools;
using spindle::agent_id;
using spindle_test::eventually;
using tools::tool_error;

namespace {

boost::system::error_code code(tool_error e)
{
    return e;
}

tools::tool_schema schema_of(std::string name)
{
    tools::tool_schema s;
    s.name = std::move(name);
    s.description = "an agent";
    s.parameters = json::parse(R"({"type":"object","properties":{"fail":{"type":"boolean"}}})").as_object();
    return s;
}

/// Counts its calls in its state (which a restart resets) and fails on request.
struct counter_agent : spindle::actor<counter_agent, tools::tool_message>
{
    int n = 0;
    json::value on(tools::tool_message const& m)
    {
        if(auto const* f = m.params.as_object().if_contains("fail"); f && f->as_bool())
            throw std::runtime_error("asked to fail");
        return json::object{{"n", n++}, {"caller", m.caller.to_string()}, {"tool", m.tool.to_string()}};
    }
};

/// Does research with the "search" tool, as itself, for whoever asked.
struct researcher : spindle::actor<researcher, tools::tool_message>
{
    json::value on(tools::tool_message const& m)
    {
        auto r = m.context.try_call("search", {{"message", "what is spindle"}});
        if(!r)
            return json::object{{"error", r.error.value()}, {"message", r.message}};
        return json::object{{"found", r.value.at("message")}};
    }
};

/// Replies with a string and with nothing, through value_from and void.
struct text_agent : spindle::actor<text_agent, tools::tool_message>
{
    std::string on(tools::tool_message const&) { return "plain text"; }
};

struct void_agent : spindle::actor<void_agent, tools::tool_message>
{
    void on(tools::tool_message const&) {}
};

/// Blocks until the test opens its gate.
struct slow_agent : spindle::actor<slow_agent, tools::tool_message>
{
    std::shared_ptr<spindle_test::gate> g;
    explicit slow_agent(std::shared_ptr<spindle_test::gate> gate) : g(std::move(gate)) {}
    json::value on(tools::tool_message const&)
    {
        g->pass();
        return "late";
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_call_is_an_ask_and_the_reply_is_the_result)
{
    spindle::system sys(spindle_test::workers(2));
    tools::tool_bus bus(sys);
    spindle::spawn_options so;
    so.name = "counter";
    auto ref = sys.spawn_with<counter_agent>(so);
    auto id = tools::register_agent(bus, ref, schema_of("count_agent"));
    auto const alice = bus.add_agent();
    bus.grant(alice, "count_agent");

    json::value r = bus.call(alice, "count_agent", {});
    BOOST_TEST(r.at("n") == 0);
    BOOST_TEST(r.at("caller") == json::value(alice.id().to_string()));
    BOOST_TEST(r.at("tool") == json::value(id.to_string()));
    BOOST_TEST(bus.call(alice, id, {}).at("n") == 1);

    // the schema still guards the agent
    BOOST_TEST(bus.try_call(alice, "count_agent", {{"fail", "yes"}}).error == code(tool_error::invalid_params));
    // the agent's identity is its actor's id, registered by the bus
    BOOST_TEST(bus.find(id)->identity == ref.id());
    BOOST_TEST(bus.has_agent(ref.id()));
    // once only: a second registration of the actor needs its credential
    boost::system::error_code ec;
    tools::register_agent(bus, ref, schema_of("count_again"), {}, ec);
    BOOST_TEST(ec == code(tool_error::agent_exists));
    BOOST_TEST(!bus.find("count_again"));
    bus.revoke(alice, "count_agent");
    auto denied = bus.try_call(alice, "count_agent", {});
    BOOST_TEST(denied.error == code(tool_error::access_denied));

    auto text = sys.spawn<text_agent>();
    auto none = sys.spawn<void_agent>();
    tools::register_agent(bus, text, schema_of("text"));
    tools::register_agent(bus, none, schema_of("none"));
    bus.grant_all(alice);
    BOOST_TEST(bus.call(alice, "text", {}) == "plain text");
    BOOST_TEST(bus.call(alice, "none", {}).is_null());
}

BOOST_AUTO_TEST_CASE(the_tool_keeps_working_across_a_restart_of_the_agent)
{
    spindle::system sys(spindle_test::workers(2));
    auto failures = spindle_test::record_failures(sys);
    tools::tool_bus bus(sys);
    auto ref = sys.spawn<counter_agent>();
    tools::register_agent(bus, ref, schema_of("count_agent"));
    auto const alice = bus.add_agent();
    bus.grant(alice, "count_agent");

    BOOST_TEST(bus.call(alice, "count_agent", {}).at("n") == 0);
    BOOST_TEST(bus.call(alice, "count_agent", {}).at("n") == 1);
    auto r = bus.try_call(alice, "count_agent", {{"fail", true}});
    BOOST_TEST(r.error == code(tool_error::tool_failed));
    BOOST_TEST(r.message.find("count_agent") != std::string::npos, r.message);
    BOOST_TEST(r.message.find("handler threw") != std::string::npos, r.message);
    BOOST_TEST_REQUIRE(eventually([&] { return failures->size() == 1; }));
    BOOST_TEST(failures->snapshot()[0].what.find("asked to fail") != std::string::npos);
    BOOST_TEST((failures->snapshot()[0].action == spindle::directive::restart));

    // the same reference reaches the fresh agent: its count starts again
    BOOST_TEST(ref.alive());
    BOOST_TEST(bus.call(alice, "count_agent", {}).at("n") == 0);
    BOOST_TEST(bus.call(alice, "count_agent", {}).at("n") == 1);
    auto s = bus.stats("count_agent");
    BOOST_TEST(s.calls == 5u);
    BOOST_TEST(s.successes == 4u);
    BOOST_TEST(s.tool_failed == 1u);

    // a stopped agent fails its calls, clearly
    ref.stop();
    BOOST_TEST_REQUIRE(eventually([&] { return !ref.alive(); }));
    r = bus.try_call(alice, "count_agent", {});
    BOOST_TEST(r.error == code(tool_error::tool_failed));
    BOOST_TEST(r.message.find("stopped") != std::string::npos, r.message);
}

BOOST_AUTO_TEST_CASE(an_agent_cannot_reach_for_its_caller_what_the_caller_was_not_granted)
{
    spindle::system sys(spindle_test::workers(2));
    tools::tool_bus bus(sys);
    bus.register_tool(tools::make_tool(
        [] {
            auto s = tools::make_echo_tool()->schema();
            s.name = "search";
            return s;
        }(),
        [](json::value p) { return p; }));
    auto r_ref = sys.spawn<researcher>();
    tools::register_agent(bus, r_ref, schema_of("researcher"));
    auto const alice = bus.add_agent("alice");
    bus.grant(alice, "researcher");
    bus.grant(r_ref.id(), "search"); // the researcher may search ...

    json::value r = bus.call(alice, "researcher", {});
    BOOST_TEST(r.at("error") == static_cast<int>(tool_error::access_denied)); // ... but not for alice
    std::string const msg(r.at("message").as_string());
    BOOST_TEST(msg.find("on behalf of \"alice\"") != std::string::npos, msg);
    BOOST_TEST(msg.find("tool \"search\"") != std::string::npos, msg);

    bus.grant(alice, "search");
    BOOST_TEST(bus.call(alice, "researcher", {}).at("found") == "what is spindle");

    // and the researcher alone, without a grant of its own, cannot either
    bus.revoke(r_ref.id(), "search");
    BOOST_TEST(bus.call(alice, "researcher", {}).at("error") == static_cast<int>(tool_error::access_denied));
}

BOOST_AUTO_TEST_CASE(a_timeout_frees_the_call_while_the_agent_still_works)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys(spindle_test::manual_clock_options(2, clock));
    spindle_test::scoped_gate gate;
    tools::tool_bus bus(sys);
    auto ref = sys.spawn<slow_agent>(gate.g);
    tools::register_agent(bus, ref, schema_of("slow"));
    auto const alice = bus.add_agent();
    bus.grant(alice, "slow");
    tools::call_options co;
    co.timeout = 5s;
    auto f = std::async(std::launch::async, [&] { return bus.try_call(alice, "slow", {}, co); });
    BOOST_TEST_REQUIRE(eventually([&] { return gate->entered() == 1; }));
    clock->advance(5s);
    {
        spindle_test::watchdog w("the timed-out agent call");
        BOOST_TEST(f.get().error == code(tool_error::timed_out));
    }
    // the tool's fiber stopped waiting for the agent (its stop token fired),
    // although the agent has not replied yet
    BOOST_TEST(eventually([&] { return bus.stats("slow").executions == 1; }));
    BOOST_TEST(gate->entered() == 1);
}
