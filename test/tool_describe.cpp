//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// describe(bus): the JSON view of a tool bus an operator reads (the live
// page's tool panel). Exact counts after known calls, execution times on a
// manual clock, every shape of grant, the bounds, and a view taken while
// calls and grants change the bus.

#include <spindle/tools/describe.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>
#include <spindle/tools/builtin_tools.hpp>

#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace json = boost::json;
namespace tools = spindle::tools;
using spindle::agent_id;
using spindle_test::eventually;
using tools::tool_error;

namespace {

/// Sleeps `s` seconds of the system clock (`{"s": n}`), until its stop token fires.
tools::tool_schema sleeper_schema()
{
    tools::tool_schema s;
    s.name = "sleeper";
    s.description = "sleeps on the system clock";
    s.parameters = {{"type", "object"}, {"properties", {{"s", {{"type", "integer"}, {"minimum", 0}}}}}};
    s.required = {"s"};
    return s;
}

std::future<tools::call_result> call_async(tools::tool_bus& bus, tools::agent_credential a, std::string tool, json::value p,
                                           tools::call_options o = {})
{
    return std::async(std::launch::async, [&bus, a, tool, p = std::move(p), o]() mutable {
        return bus.try_call(a, tool, std::move(p), o);
    });
}

tools::call_result wait(std::future<tools::call_result>& f)
{
    spindle_test::watchdog w("a tool call that must end");
    return f.get();
}

struct fixture
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys{spindle_test::manual_clock_options(2, clock)};
    tools::tool_bus bus{sys, [] {
                            tools::tool_bus_options o;
                            o.name = "desk";
                            o.max_concurrent = 8;
                            o.queue_capacity = 64;
                            return o;
                        }()};
    tools::agent_credential alice = bus.add_agent();
    tools::agent_credential bob = bus.add_agent();
    agent_id carol = agent_id::generate(); // never registered nor named, granted
    agent_id dave = agent_id::generate();  // named, no grant
    tools::agent_credential helper = bus.add_agent(); // the identity of an agent tool
    spindle::tool_id echo, calculator, sleeper, helper_tool;

    fixture()
    {
        echo = bus.register_tool(tools::make_echo_tool());
        calculator = bus.register_tool(tools::make_calculator_tool());
        sleeper = bus.register_tool(tools::make_tool(sleeper_schema(), [](json::value p, tools::tool_context const& ctx) {
            ctx.timers().sleep_for(std::chrono::seconds(p.at("s").to_number<int>()), ctx.stop_token());
        }));
        tools::tool_schema hs;
        hs.name = "helper";
        hs.description = "an agent offered as a tool";
        tools::tool_options ho;
        ho.identity = helper;
        helper_tool = bus.register_tool(tools::make_tool(hs, [] { return 1; }), ho);

        bus.name_agent(alice, "alice");
        bus.name_agent(bob, "bob");
        bus.name_agent(dave, "dave");
        bus.name_agent(helper, "helper");
        bus.grant(alice, "echo");
        bus.grant(alice, "calculator");
        bus.grant(alice, "sleeper");
        bus.grant_all(bob);
        bus.revoke(bob, "sleeper");
        bus.grant(carol, "echo");
    }

    /// A call of the sleeper that takes exactly `s` seconds of the manual
    /// clock (or ends at `timeout`).
    tools::call_result sleep(int s, std::chrono::seconds advance, tools::call_options o = {})
    {
        auto const before = sys.timers().pending();
        auto f = call_async(bus, alice, "sleeper", {{"s", s}}, o);
        // the call's timeout timer and the tool's sleep are armed: it runs
        BOOST_TEST_REQUIRE(eventually([&] { return sys.timers().pending() >= before + 2; }));
        clock->advance(advance);
        return wait(f);
    }
};

json::object const& tool_named(json::object const& doc, std::string_view name)
{
    for(auto const& t : doc.at("tools").as_array())
        if(t.at("name").as_string() == name)
            return t.as_object();
    BOOST_FAIL("no tool " << name << " in " << json::serialize(doc));
    throw 0;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(counts_times_and_grants_are_exact, fixture)
{
    // echo: three successes, no time passes (manual clock)
    for(int i = 0; i < 3; ++i)
        BOOST_TEST(bool(bus.try_call(alice, "echo", {{"message", "hi"}})));
    // calculator: one success, a division by zero, a schema violation
    BOOST_TEST(bool(bus.try_call(alice, "calculator", {{"expression", "1+1"}})));
    BOOST_TEST(bus.try_call(alice, "calculator", {{"expression", "1/0"}}).error == tool_error::invalid_params);
    BOOST_TEST(bus.try_call(alice, "calculator", {{"expr", "1"}}).error == tool_error::invalid_params);
    // sleeper: bob's grant_all excepts it; then 2 s, 4 s, and a call cut at 1 s
    BOOST_TEST(bus.try_call(bob, "sleeper", {{"s", 1}}).error == tool_error::access_denied);
    BOOST_TEST(bool(sleep(2, 2s)));
    BOOST_TEST(bool(sleep(4, 4s)));
    tools::call_options o;
    o.timeout = 1s;
    BOOST_TEST(sleep(10, 1s, o).error == tool_error::timed_out);
    BOOST_TEST_REQUIRE(eventually([&] { return bus.stats("sleeper").executions == 3; }));
    // a tool that does not exist
    BOOST_TEST(bus.try_call(alice, "nope", {}).error == tool_error::not_found);

    auto const doc = tools::describe(bus);
    BOOST_TEST_MESSAGE(json::serialize(doc));
    BOOST_TEST(doc.at("bus").as_string() == "desk");
    BOOST_TEST(doc.at("stopped").as_bool() == false);
    BOOST_TEST(doc.at("timeout_ms").to_number<double>() == 30000.0);
    BOOST_TEST(doc.at("max_concurrent").to_number<int>() == 8);
    BOOST_TEST(doc.at("queue_capacity").to_number<int>() == 64);
    BOOST_TEST(doc.at("not_found").to_number<int>() == 1);
    BOOST_TEST(!doc.contains("tools_omitted"));
    BOOST_TEST(!doc.contains("agents_omitted"));

    // by name
    auto const& list = doc.at("tools").as_array();
    BOOST_REQUIRE(list.size() == 4u);
    std::vector<std::string> names;
    for(auto const& t : list)
        names.emplace_back(t.at("name").as_string());
    BOOST_TEST((names == std::vector<std::string>{"calculator", "echo", "helper", "sleeper"}));

    auto const& e = tool_named(doc, "echo");
    BOOST_TEST(e.at("id").as_string() == echo.to_string());
    BOOST_TEST(e.at("kind").as_string() == "tool");
    BOOST_TEST(e.at("calls").to_number<int>() == 3);
    BOOST_TEST(e.at("successes").to_number<int>() == 3);
    BOOST_TEST(e.at("errors").to_number<int>() == 0);
    BOOST_TEST(e.at("timeouts").to_number<int>() == 0);
    BOOST_TEST(e.at("errors_by_kind").as_object().empty());
    BOOST_TEST(e.at("mean_ms").to_number<double>() == 0.0);
    BOOST_TEST(e.at("last_ms").to_number<double>() == 0.0);
    BOOST_TEST(!e.at("description").as_string().empty());

    auto const& c = tool_named(doc, "calculator");
    BOOST_TEST(c.at("id").as_string() == calculator.to_string());
    BOOST_TEST(c.at("calls").to_number<int>() == 3);
    BOOST_TEST(c.at("successes").to_number<int>() == 1);
    BOOST_TEST(c.at("errors").to_number<int>() == 2);
    BOOST_TEST(json::serialize(c.at("errors_by_kind")) == R"({"invalid_params":2})");

    auto const& s = tool_named(doc, "sleeper");
    BOOST_TEST(s.at("calls").to_number<int>() == 4);
    BOOST_TEST(s.at("successes").to_number<int>() == 2);
    BOOST_TEST(s.at("errors").to_number<int>() == 2);
    BOOST_TEST(s.at("timeouts").to_number<int>() == 1);
    BOOST_TEST(json::serialize(s.at("errors_by_kind")) == R"({"access_denied":1,"timed_out":1})");
    BOOST_TEST(s.at("last_ms").to_number<double>() == 1000.0);
    BOOST_TEST(s.at("mean_ms").to_number<double>() == 7000.0 / 3, boost::test_tools::tolerance(1e-9));

    auto const& h = tool_named(doc, "helper");
    BOOST_TEST(h.at("id").as_string() == helper_tool.to_string());
    BOOST_TEST(h.at("kind").as_string() == "agent");
    BOOST_TEST(h.at("calls").to_number<int>() == 0);
    BOOST_TEST(h.at("mean_ms").is_null());
    BOOST_TEST(h.at("last_ms").is_null());

    // the figures are the bus's own
    auto const st = bus.stats("sleeper");
    BOOST_TEST(s.at("calls").to_number<std::uint64_t>() == st.calls);
    BOOST_TEST(s.at("errors").to_number<std::uint64_t>() == st.errors);

    // agents: named ones by name, then the unnamed; grant_all shown as such
    auto const& agents = doc.at("agents").as_array();
    BOOST_REQUIRE(agents.size() == 5u);
    auto const row = [&](std::size_t i) -> json::object const& { return agents.at(i).as_object(); };
    BOOST_TEST(row(0).at("name").as_string() == "alice");
    BOOST_TEST(row(0).at("id").as_string() == alice.id().to_string());
    BOOST_TEST(json::serialize(row(0).at("grants")) == R"(["calculator","echo","sleeper"])");
    BOOST_TEST(row(0).at("except").as_array().empty());
    BOOST_TEST(row(1).at("name").as_string() == "bob");
    BOOST_TEST(row(1).at("grants").as_string() == "all");
    BOOST_TEST(json::serialize(row(1).at("except")) == R"(["sleeper"])");
    BOOST_TEST(row(2).at("name").as_string() == "dave");
    BOOST_TEST(row(2).at("grants").as_array().empty());
    BOOST_TEST(row(3).at("name").as_string() == "helper");
    BOOST_TEST(row(3).at("id").as_string() == helper.id().to_string());
    BOOST_TEST(row(4).at("name").is_null());
    BOOST_TEST(row(4).at("id").as_string() == carol.to_string());
    BOOST_TEST(json::serialize(row(4).at("grants")) == R"(["echo"])");

    // grants change: the next view shows it
    bus.revoke_all(bob);
    bus.grant(bob, "echo");
    auto const after = tools::describe(bus);
    BOOST_TEST(json::serialize(after.at("agents").at(1).at("grants")) == R"(["echo"])");
    BOOST_TEST(after.at("agents").at(1).at("except").as_array().empty());

    bus.shutdown();
    BOOST_TEST(tools::describe(bus).at("stopped").as_bool() == true);
}

BOOST_FIXTURE_TEST_CASE(long_lists_are_cut_and_counted, fixture)
{
    tools::describe_options o;
    o.max_tools = 2;
    o.max_agents = 1;
    auto const doc = tools::describe(bus, o);
    BOOST_REQUIRE(doc.at("tools").as_array().size() == 2u);
    BOOST_TEST(doc.at("tools").at(0).at("name").as_string() == "calculator");
    BOOST_TEST(doc.at("tools").at(1).at("name").as_string() == "echo");
    BOOST_TEST(doc.at("tools_omitted").to_number<int>() == 2);
    BOOST_REQUIRE(doc.at("agents").as_array().size() == 1u);
    BOOST_TEST(doc.at("agents").at(0).at("name").as_string() == "alice");
    BOOST_TEST(doc.at("agents_omitted").to_number<int>() == 4);

    o.max_tools = 0;
    o.max_agents = 0;
    auto const none = tools::describe(bus, o);
    BOOST_TEST(none.at("tools").as_array().empty());
    BOOST_TEST(none.at("tools_omitted").to_number<int>() == 4);
    BOOST_TEST(none.at("agents_omitted").to_number<int>() == 5);
}

BOOST_FIXTURE_TEST_CASE(described_while_calls_and_grants_change, fixture)
{
    // two callers and a granting thread change the bus while it is
    // described over and over; each view is whole and the last one exact
    constexpr int per_caller = 200;
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for(int t = 0; t < 2; ++t)
        threads.emplace_back([&] {
            for(int i = 0; i < per_caller; ++i)
                if(!bus.try_call(alice, "echo", {{"message", "x"}}))
                    break;
            done.fetch_add(1);
        });
    threads.emplace_back([&] {
        for(int i = 0; i < per_caller; ++i)
        {
            auto const name = "tool_" + std::to_string(i % 7);
            bus.grant(carol, name);
            bus.revoke(carol, name);
        }
        done.fetch_add(1);
    });
    int views = 0;
    while(done.load() < 3 || views == 0)
    {
        auto const doc = tools::describe(bus);
        auto const& e = tool_named(doc, "echo");
        auto const calls = e.at("calls").to_number<std::uint64_t>();
        BOOST_TEST(calls <= 2u * per_caller);
        BOOST_TEST(doc.at("agents").as_array().size() == 5u);
        ++views;
    }
    for(auto& t : threads)
        t.join();
    auto const doc = tools::describe(bus);
    auto const& e = tool_named(doc, "echo");
    BOOST_TEST(e.at("calls").to_number<int>() == 2 * per_caller);
    BOOST_TEST(e.at("successes").to_number<int>() == 2 * per_caller);
    BOOST_TEST(json::serialize(doc.at("agents").at(4).at("grants")) == R"(["echo"])");
}
