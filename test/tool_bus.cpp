//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The tool bus as agents rely on it: the order of its checks, grants and
// revocations, schemas checked at registration and at each call, timeouts
// that release the caller at the deadline (on a manual clock: nothing here
// depends on the machine's speed), failures contained and counted, the
// confused deputy denied, nested calls, and exact counts under load.

#include <spindle/tools/tool_bus.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/manual_clock.hpp>
#include <spindle/metrics.hpp>
#include <spindle/system.hpp>
#include <spindle/tools/builtin_tools.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/future.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <stdexcept>
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

boost::system::error_code code(tool_error e)
{
    return e;
}

/// A schema with one required integer parameter `n` (0 to 100).
tools::tool_schema counter_schema(std::string name)
{
    tools::tool_schema s;
    s.name = std::move(name);
    s.description = "test tool";
    s.parameters = json::parse(R"({"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":100}}})")
                       .as_object();
    s.required = {"n"};
    return s;
}

tools::tool_schema empty_schema(std::string name)
{
    tools::tool_schema s;
    s.name = std::move(name);
    s.description = "test tool";
    return s;
}

/// Runs a call on a plain thread of its own, so the test can move the clock meanwhile.
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

/// Blocks tools fiber-style, ignoring their stop tokens, until opened.
struct tool_gate
{
    boost::fibers::promise<void> p;
    boost::fibers::shared_future<void> f = p.get_future().share();
    std::atomic<int> entered{0};
    std::once_flag once;
    void pass()
    {
        entered.fetch_add(1);
        auto g = f;
        g.wait();
    }
    void open()
    {
        std::call_once(once, [this] { p.set_value(); });
    }
};

struct manual_fixture
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys{spindle_test::manual_clock_options(2, clock)};
    std::shared_ptr<tool_gate> gate = std::make_shared<tool_gate>();
    tools::tool_bus bus;
    tools::agent_credential alice;

    explicit manual_fixture(tools::tool_bus_options o = {}) : bus(sys, std::move(o)), alice(bus.add_agent("alice")) {}
    ~manual_fixture() { gate->open(); }
};

tools::tool_bus_options named(std::string n)
{
    tools::tool_bus_options o;
    o.name = std::move(n);
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(defaults_and_error_category)
{
    tools::tool_bus_options o;
    BOOST_TEST((o.timeout == 30s));
    BOOST_TEST(o.max_concurrent == 256u);
    BOOST_TEST(o.queue_capacity == 10000u);
    BOOST_TEST(o.max_depth == 8u);
    BOOST_TEST((tools::tool_options{}.timeout == 30s));
    BOOST_TEST(tools::tool_category().name() == std::string("spindle.tools"));
    BOOST_TEST(code(tool_error::access_denied).message() == "access denied");
    BOOST_TEST(tools::to_string(tool_error::timed_out) == "timed_out");
}

BOOST_AUTO_TEST_CASE(checks_come_in_order_not_found_access_denied_invalid_params)
{
    manual_fixture fx(named("order"));
    fx.bus.register_tool(tools::make_tool(counter_schema("count"), [](json::value p) { return p; }));
    json::value bad = {{"n", "seven"}};

    // unknown tool, no grant, bad parameters: not found first
    auto r = fx.bus.try_call(fx.alice, "nope", bad);
    BOOST_TEST(r.error == code(tool_error::not_found));
    BOOST_TEST(r.message.find("\"nope\"") != std::string::npos);
    BOOST_TEST(r.message.find("alice") != std::string::npos);

    // the tool exists; no grant and bad parameters: access denied
    r = fx.bus.try_call(fx.alice, "count", bad);
    BOOST_TEST(r.error == code(tool_error::access_denied));
    BOOST_TEST(r.message.find("tool \"count\"") != std::string::npos);
    BOOST_TEST(r.message.find("\"alice\"") != std::string::npos);

    // granted, bad parameters: invalid params, naming the JSON Pointer
    fx.bus.grant(fx.alice, "count");
    r = fx.bus.try_call(fx.alice, "count", bad);
    BOOST_TEST(r.error == code(tool_error::invalid_params));
    BOOST_TEST(r.message.find("/n: expected integer, got string") != std::string::npos, r.message);

    // all good
    r = fx.bus.try_call(fx.alice, "count", {{"n", 7}});
    BOOST_TEST(!r.error);
    BOOST_TEST(r.value == (json::value{{"n", 7}}));

    auto s = fx.bus.stats("count");
    BOOST_TEST(s.calls == 3u);
    BOOST_TEST(s.access_denied == 1u);
    BOOST_TEST(s.invalid_params == 1u);
    BOOST_TEST(s.successes == 1u);
    BOOST_TEST(s.errors == 2u);
    BOOST_TEST(s.executions == 1u);

    // the throwing form carries the same message
    try
    {
        fx.bus.call(fx.alice, "count", {{"n", 101}});
        BOOST_FAIL("an invalid call must throw");
    }
    catch(spindle::system_error const& e)
    {
        BOOST_TEST(e.code() == code(tool_error::invalid_params));
        std::string const what = e.what();
        BOOST_TEST(what.find("tool \"count\" called by agent \"alice\"") != std::string::npos, what);
        BOOST_TEST(what.find("/n: must be <= 100, got 101") != std::string::npos, what);
    }
    boost::system::error_code ec;
    fx.bus.call(fx.alice, "count", {{"n", -1}}, {}, ec);
    BOOST_TEST(ec == code(tool_error::invalid_params));
}

BOOST_AUTO_TEST_CASE(grant_revoke_and_grant_all_take_effect_at_the_next_call)
{
    manual_fixture fx(named("grants"));
    auto echo = fx.bus.register_tool(tools::make_echo_tool());
    fx.bus.register_tool(tools::make_calculator_tool());
    auto const bob = fx.bus.add_agent();
    json::value const hi = {{"message", "hi"}};

    BOOST_TEST(fx.bus.try_call(fx.alice, "echo", hi).error == code(tool_error::access_denied));
    fx.bus.grant(fx.alice, echo); // by id
    BOOST_TEST(fx.bus.may_use(fx.alice, "echo"));
    BOOST_TEST(fx.bus.call(fx.alice, "echo", hi) == hi);
    BOOST_TEST(fx.bus.try_call(fx.alice, "calculator", {{"expression", "1+1"}}).error ==
               code(tool_error::access_denied));
    BOOST_TEST(fx.bus.revoke(fx.alice, "echo"));
    BOOST_TEST(!fx.bus.revoke(fx.alice, "echo"));
    BOOST_TEST(fx.bus.try_call(fx.alice, echo, hi).error == code(tool_error::access_denied));

    // a trusted agent may use every tool, including those registered later
    fx.bus.grant_all(bob);
    BOOST_TEST(fx.bus.call(bob, "echo", hi) == hi);
    fx.bus.register_tool(tools::make_tool(empty_schema("later"), [] { return 1; }));
    BOOST_TEST(fx.bus.call(bob, "later", {}) == json::value(1));
    // ... but what is revoked afterwards
    BOOST_TEST(fx.bus.revoke(bob, "echo"));
    BOOST_TEST(fx.bus.try_call(bob, "echo", hi).error == code(tool_error::access_denied));
    BOOST_TEST(fx.bus.call(bob, "calculator", {{"expression", "6*7"}}) == (json::value{{"result", 42.0}}));
    fx.bus.grant(bob, "echo");
    BOOST_TEST(fx.bus.call(bob, "echo", hi) == hi);
    BOOST_TEST(fx.bus.revoke_all(bob));
    BOOST_TEST(fx.bus.try_call(bob, "calculator", {{"expression", "1"}}).error == code(tool_error::access_denied));

    // grants are by name: one made before the tool exists applies once it does
    fx.bus.grant(fx.alice, "future_tool");
    BOOST_TEST(!fx.bus.may_use(fx.alice, "future_tool"));
    fx.bus.register_tool(tools::make_tool(empty_schema("future_tool"), [] { return 2; }));
    BOOST_TEST(fx.bus.call(fx.alice, "future_tool", {}) == json::value(2));

    boost::system::error_code ec;
    fx.bus.grant(fx.alice, spindle::tool_id::generate(), ec);
    BOOST_TEST(ec == code(tool_error::not_found));
    fx.bus.grant(fx.alice, "not a name", ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    BOOST_CHECK_THROW(fx.bus.grant(fx.alice, "not a name"), spindle::system_error);
}

BOOST_AUTO_TEST_CASE(list_available_tools_has_the_function_calling_shape)
{
    manual_fixture fx(named("list"));
    fx.bus.register_tool(tools::make_echo_tool());
    fx.bus.register_tool(tools::make_calculator_tool());
    fx.bus.register_tool(tools::make_tool(counter_schema("count"), [](json::value p) { return p; }));
    fx.bus.grant(fx.alice, "echo");
    fx.bus.grant(fx.alice, "count");

    json::array const list = fx.bus.list_available_tools(fx.alice);
    BOOST_TEST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0].at("name") == "count");
    BOOST_TEST(list[1].at("name") == "echo");
    json::object const& count = list[0].as_object();
    BOOST_TEST(count.size() == 3u); // name, description, parameters
    BOOST_TEST(count.at("description") == "test tool");
    BOOST_TEST(count.at("parameters") ==
               json::parse(R"({"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":100}},
                               "required":["n"]})"));
    BOOST_TEST(fx.bus.list_available_tools(agent_id::generate()).empty());
    fx.bus.grant_all(fx.alice);
    BOOST_TEST(fx.bus.list_available_tools(fx.alice).size() == 3u);
}

BOOST_AUTO_TEST_CASE(malformed_schemas_are_refused_at_registration)
{
    manual_fixture fx(named("schemas"));
    auto reg = [&](tools::tool_schema s, std::string& what) {
        try
        {
            fx.bus.register_tool(tools::make_tool(std::move(s), [] {}));
        }
        catch(spindle::system_error const& e)
        {
            what = e.what();
            return e.code();
        }
        return boost::system::error_code();
    };
    std::string what;

    auto s = empty_schema("bad name!");
    BOOST_TEST(reg(s, what) == code(tool_error::invalid_schema));
    BOOST_TEST(what.find("bad name!") != std::string::npos, what);

    s = empty_schema("bad_minimum");
    s.parameters = json::parse(R"({"properties":{"n":{"type":"integer","minimum":"zero"}}})").as_object();
    BOOST_TEST(reg(s, what) == code(tool_error::invalid_schema));
    BOOST_TEST(what.find("parameters/properties/n/minimum: must be a number") != std::string::npos, what);

    s = empty_schema("bad_returns");
    s.returns = json::parse(R"({"type":"text"})");
    BOOST_TEST(reg(s, what) == code(tool_error::invalid_schema));
    BOOST_TEST(what.find("returns/type: unknown type \"text\"") != std::string::npos, what);

    s = empty_schema("not_an_object");
    s.parameters = json::parse(R"({"type":"string"})").as_object();
    BOOST_TEST(reg(s, what) == code(tool_error::invalid_schema));

    s = empty_schema("unsupported");
    s.parameters = json::parse(R"({"properties":{"a":{"anyOf":[{"type":"string"}]}}})").as_object();
    BOOST_TEST(reg(s, what) == code(tool_error::invalid_schema));
    BOOST_TEST(what.find("parameters/properties/a/anyOf") != std::string::npos, what);

    BOOST_TEST(reg(empty_schema("twice"), what) == boost::system::error_code());
    BOOST_TEST(reg(empty_schema("twice"), what) == code(tool_error::name_taken));

    boost::system::error_code ec;
    fx.bus.register_tool(nullptr, {}, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    tools::tool_options zero;
    zero.timeout = 0s;
    fx.bus.register_tool(tools::make_tool(empty_schema("zero"), [] {}), zero, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    BOOST_TEST(fx.bus.tools().size() == 1u); // only "twice"
}

BOOST_AUTO_TEST_CASE(a_timeout_releases_the_caller_at_the_deadline_and_is_counted)
{
    // Which of the three limits ends the call: the caller's deadline, the
    // tool's timeout or the bus's, whichever comes first.
    struct limits
    {
        std::chrono::seconds caller, tool, bus, expected;
    };
    for(limits l : {limits{5s, 60s, 60s, 5s}, limits{60s, 3s, 60s, 3s}, limits{60s, 60s, 2s, 2s}})
    {
        tools::tool_bus_options o;
        o.timeout = l.bus;
        manual_fixture fx(o);
        auto stopped = std::make_shared<std::atomic<bool>>(false);
        tools::tool_options topts;
        topts.timeout = l.tool;
        fx.bus.register_tool(tools::make_tool(empty_schema("sleeper"),
                                              [g = fx.gate, stopped](json::value, tools::tool_context const& ctx) {
                                                  g->entered.fetch_add(1);
                                                  // cooperative: a stop request ends the sleep early
                                                  if(!ctx.timers().sleep_for(1h, ctx.stop_token()))
                                                      stopped->store(true);
                                              }),
                             topts);
        fx.bus.grant(fx.alice, "sleeper");
        tools::call_options co;
        co.deadline = fx.clock->now() + l.caller;
        auto f = call_async(fx.bus, fx.alice, "sleeper", {}, co);
        BOOST_TEST_REQUIRE(eventually([&] { return fx.gate->entered.load() == 1; }));

        fx.clock->advance(l.expected - 1s);
        BOOST_TEST((f.wait_for(0s) != std::future_status::ready));
        BOOST_TEST(!stopped->load());
        fx.clock->advance(1s);
        auto r = wait(f);
        BOOST_TEST(r.error == code(tool_error::timed_out));
        BOOST_TEST(r.message.find("tool \"sleeper\"") != std::string::npos, r.message);
        BOOST_TEST(eventually([&] { return stopped->load(); }), "the tool's stop token fired");
        BOOST_TEST(eventually([&] { return fx.bus.stats("sleeper").executions == 1; }));
        auto s = fx.bus.stats("sleeper");
        BOOST_TEST(s.timed_out == 1u);
        BOOST_TEST(s.calls == 1u);
        BOOST_TEST(s.successes == 0u);
        BOOST_TEST((s.last_time == l.expected), "execution time on the system clock");
    }
}

BOOST_AUTO_TEST_CASE(a_tool_that_ignores_its_stop_token_does_not_hold_its_caller)
{
    manual_fixture fx(named("stubborn"));
    fx.bus.register_tool(tools::make_tool(empty_schema("stubborn"), [g = fx.gate] {
        g->pass(); // ignores the stop token
        return json::value("late");
    }));
    fx.bus.grant(fx.alice, "stubborn");
    tools::call_options co;
    co.timeout = 10s;
    auto f = call_async(fx.bus, fx.alice, "stubborn", {}, co);
    BOOST_TEST_REQUIRE(eventually([&] { return fx.gate->entered.load() == 1; }));
    fx.clock->advance(10s);
    BOOST_TEST(wait(f).error == code(tool_error::timed_out));
    fx.gate->open(); // its late result is discarded
    BOOST_TEST(eventually([&] { return fx.bus.stats("stubborn").executions == 1; }));
    BOOST_TEST(fx.bus.stats("stubborn").successes == 0u);
}

BOOST_AUTO_TEST_CASE(a_deadline_already_passed_fails_without_running_the_tool)
{
    manual_fixture fx(named("late"));
    fx.bus.register_tool(tools::make_echo_tool());
    fx.bus.grant(fx.alice, "echo");
    tools::call_options co;
    co.deadline = fx.clock->now();
    BOOST_TEST(fx.bus.try_call(fx.alice, "echo", {{"message", "x"}}, co).error == code(tool_error::timed_out));
    BOOST_TEST(fx.bus.stats("echo").executions == 0u);
    BOOST_TEST(fx.bus.stats("echo").timed_out == 1u);
}

BOOST_AUTO_TEST_CASE(the_callers_stop_token_cancels_the_call_and_the_tool)
{
    manual_fixture fx(named("cancel"));
    auto stopped = std::make_shared<std::atomic<bool>>(false);
    fx.bus.register_tool(tools::make_tool(empty_schema("sleeper"),
                                          [g = fx.gate, stopped](json::value, tools::tool_context const& ctx) {
                                              g->entered.fetch_add(1);
                                              if(!ctx.timers().sleep_for(1h, ctx.stop_token()))
                                                  stopped->store(true);
                                          }));
    fx.bus.grant(fx.alice, "sleeper");
    std::stop_source src;
    tools::call_options co;
    co.stop = src.get_token();
    auto f = call_async(fx.bus, fx.alice, "sleeper", {}, co);
    BOOST_TEST_REQUIRE(eventually([&] { return fx.gate->entered.load() == 1; }));
    src.request_stop();
    BOOST_TEST(wait(f).error == code(tool_error::cancelled));
    BOOST_TEST(eventually([&] { return stopped->load(); }));
    BOOST_TEST(fx.bus.stats("sleeper").cancelled == 1u);
    // a token already stopped: refused at once
    BOOST_TEST(fx.bus.try_call(fx.alice, "sleeper", {}, co).error == code(tool_error::cancelled));
}

BOOST_AUTO_TEST_CASE(a_tool_that_throws_fails_the_call_and_is_counted)
{
    manual_fixture fx(named("throws"));
    fx.bus.register_tool(
        tools::make_tool(empty_schema("boom"), []() -> json::value { throw std::runtime_error("kaboom"); }));
    fx.bus.register_tool(tools::make_tool(empty_schema("picky"), []() -> json::value {
        spindle::detail::throw_error(tool_error::invalid_params, "n must be even");
    }));
    fx.bus.register_tool(tools::make_tool(empty_schema("refuses"), [] {
        return tools::tool_result::failure(tool_error::invalid_params, "n must be odd");
    }));
    fx.bus.register_tool(tools::make_tool(empty_schema("fails"), [] {
        return tools::tool_result::failure(tool_error::busy, "the backend is down");
    }));
    auto bad_result = empty_schema("bad_result");
    bad_result.returns = json::parse(R"({"type":"object","required":["ok"]})");
    fx.bus.register_tool(tools::make_tool(bad_result, [] { return json::object{{"nok", 1}}; }));
    fx.bus.grant_all(fx.alice);

    auto r = fx.bus.try_call(fx.alice, "boom", {});
    BOOST_TEST(r.error == code(tool_error::tool_failed));
    BOOST_TEST(r.message.find("kaboom") != std::string::npos, r.message);
    BOOST_TEST(r.message.find("tool \"boom\" called by agent \"alice\"") != std::string::npos, r.message);
    auto s = fx.bus.stats("boom");
    BOOST_TEST(s.tool_failed == 1u);
    BOOST_TEST(s.executions == 1u);

    r = fx.bus.try_call(fx.alice, "picky", {});
    BOOST_TEST(r.error == code(tool_error::invalid_params));
    BOOST_TEST(r.message.find("n must be even") != std::string::npos, r.message);

    r = fx.bus.try_call(fx.alice, "refuses", {});
    BOOST_TEST(r.error == code(tool_error::invalid_params));
    BOOST_TEST(r.message.find("n must be odd") != std::string::npos, r.message);
    r = fx.bus.try_call(fx.alice, "fails", {});
    BOOST_TEST(r.error == code(tool_error::tool_failed), "any other code is a tool failure");
    BOOST_TEST(r.message.find("the backend is down") != std::string::npos, r.message);
    BOOST_TEST(fx.bus.stats("fails").tool_failed == 1u);

    r = fx.bus.try_call(fx.alice, "bad_result", {});
    BOOST_TEST(r.error == code(tool_error::tool_failed));
    BOOST_TEST(r.message.find("returns schema: /ok: required property \"ok\" is missing") != std::string::npos,
               r.message);

    // the bus is fine afterwards
    BOOST_TEST(fx.bus.try_call(fx.alice, "boom", {}).error == code(tool_error::tool_failed));
    BOOST_TEST(fx.bus.stats("boom").tool_failed == 2u);
}

BOOST_AUTO_TEST_CASE(a_tool_calls_others_as_itself_and_on_behalf_of_its_callers)
{
    // The confused deputy: "deputy" may use "secret", alice may not; alice
    // may use "deputy". Through the deputy alice must not reach "secret".
    manual_fixture fx(named("deputy"));
    auto const deputy_id = fx.bus.add_agent("deputy");
    fx.bus.register_tool(tools::make_tool(empty_schema("secret"), [] { return json::value("the secret"); }));
    auto seen = std::make_shared<spindle_test::history<std::vector<agent_id>>>();
    fx.bus.register_tool(tools::make_tool(empty_schema("whoami"), [seen](json::value, tools::tool_context const& ctx) {
        seen->push(std::vector<agent_id>(ctx.callers().begin(), ctx.callers().end()));
    }));
    tools::tool_options as_deputy;
    as_deputy.identity = deputy_id;
    fx.bus.register_tool(tools::make_tool(empty_schema("deputy"),
                                          [](json::value, tools::tool_context const& ctx) {
                                              ctx.call("whoami", {});
                                              auto r = ctx.try_call("secret", {});
                                              return json::object{{"error", r.error.value()},
                                                                  {"message", r.message},
                                                                  {"value", r.value}};
                                          }),
                         as_deputy);
    fx.bus.grant(deputy_id, "secret");
    fx.bus.grant(deputy_id, "whoami");
    fx.bus.grant(fx.alice, "deputy");
    fx.bus.grant(fx.alice, "whoami");

    json::value r = fx.bus.call(fx.alice, "deputy", {});
    BOOST_TEST(r.at("error") == static_cast<int>(tool_error::access_denied));
    std::string const msg(r.at("message").as_string());
    BOOST_TEST(msg.find("\"deputy\"") != std::string::npos, msg);
    BOOST_TEST(msg.find("on behalf of \"alice\"") != std::string::npos, msg);
    BOOST_TEST(msg.find("agent \"alice\"") != std::string::npos, msg);
    auto chains = seen->snapshot();
    BOOST_TEST_REQUIRE(chains.size() == 1u);
    BOOST_TEST((chains[0] == std::vector<agent_id>{fx.alice.id(), deputy_id.id()}), "outermost caller first");
    BOOST_TEST(fx.bus.stats("secret").access_denied == 1u);

    // once alice may use it too, the deputy may fetch it for her
    fx.bus.grant(fx.alice, "secret");
    r = fx.bus.call(fx.alice, "deputy", {});
    BOOST_TEST(r.at("error") == 0);
    BOOST_TEST(r.at("value") == "the secret");

    // a tool without an identity calls nothing
    fx.bus.register_tool(tools::make_tool(empty_schema("anonymous"), [](json::value, tools::tool_context const& ctx) {
        return ctx.try_call("secret", {}).error.value();
    }));
    fx.bus.grant(fx.alice, "anonymous");
    BOOST_TEST(fx.bus.call(fx.alice, "anonymous", {}) == static_cast<int>(tool_error::access_denied));
}

// issue 19, item 7: identities are capabilities, not self-asserted ids.
// No id becomes a credential: not by conversion, not by construction, and
// no call takes an id.
static_assert(!std::is_constructible_v<tools::agent_credential, agent_id>);
static_assert(!std::is_convertible_v<agent_id, tools::agent_credential>);
template<class Bus, class Who>
concept bus_calls_as = requires(Bus& b, Who a) { b.try_call(a, "secret", json::value()); } ||
                       requires(Bus& b, Who a) { b.call(a, "secret", json::value()); };
static_assert(!bus_calls_as<tools::tool_bus, agent_id>);
static_assert(bus_calls_as<tools::tool_bus, tools::agent_credential>);

BOOST_AUTO_TEST_CASE(every_bypass_a_malicious_tool_can_write_is_denied)
{
    // "secret" is for the deputy only; alice may use "deputy", whose author
    // got the deputy's root credential and tries everything with it.
    manual_fixture fx(named("bypass"));
    auto const deputy = fx.bus.add_agent("deputy");
    fx.bus.register_tool(tools::make_tool(empty_schema("secret"), [] { return json::value("the secret"); }));
    fx.bus.grant(deputy, "secret");
    fx.bus.grant(fx.alice, "deputy");

    struct attempts
    {
        std::mutex m;
        std::vector<std::pair<std::string, tools::call_result>> r;
        void add(std::string what, tools::call_result x)
        {
            std::lock_guard lk(m);
            r.emplace_back(std::move(what), std::move(x));
        }
    };
    auto tried = std::make_shared<attempts>();
    auto stash = std::make_shared<tools::agent_credential>();
    tools::tool_options as_deputy;
    as_deputy.identity = deputy;
    tools::tool_bus& bus = fx.bus;
    fx.bus.register_tool(
        tools::make_tool(empty_schema("deputy"),
                         [&bus, deputy, tried, stash](json::value, tools::tool_context const& ctx) {
                             // its own root credential, directly on the bus
                             tried->add("root credential, direct", bus.try_call(deputy, "secret", {}));
                             // the context's credential copied into a direct call
                             tried->add("context credential, direct", bus.try_call(ctx.credential(), "secret", {}));
                             // the same from another fiber, where the bus cannot see the tool running
                             boost::fibers::fiber([&] {
                                 tried->add("context credential, other fiber",
                                            bus.try_call(ctx.credential(), "secret", {}));
                             }).join();
                             // through the context, as it should
                             tried->add("context call", ctx.try_call("secret", {}));
                             *stash = ctx.credential();
                             return json::value(nullptr);
                         }),
        as_deputy);

    BOOST_TEST(fx.bus.call(fx.alice, "deputy", {}).is_null());
    auto r = tried->r;
    BOOST_TEST_REQUIRE(r.size() == 4u);
    for(auto const& [what, res] : r)
    {
        BOOST_TEST(res.error == code(tool_error::access_denied), what);
        BOOST_TEST(res.value.is_null(), what);
    }
    BOOST_TEST(r[0].second.message.find("a root credential") != std::string::npos, r[0].second.message);
    for(std::size_t i = 1; i < r.size(); ++i)
        BOOST_TEST(r[i].second.message.find("on behalf of \"alice\"") != std::string::npos, r[i].second.message);

    // the stashed context credential outside the call: void, the call ended
    BOOST_TEST(stash->delegated());
    auto late = fx.bus.try_call(*stash, "secret", {});
    BOOST_TEST(late.error == code(tool_error::access_denied));
    BOOST_TEST(late.message.find("has ended") != std::string::npos, late.message);
    // ... even for a tool alice may use
    BOOST_TEST(fx.bus.try_call(*stash, "deputy", {}).error == code(tool_error::access_denied));

    // the deputy's own authority, outside any tool, is intact
    BOOST_TEST(fx.bus.call(deputy, "secret", {}) == "the secret");

    // an empty credential is nobody
    BOOST_TEST(fx.bus.try_call(tools::agent_credential(), "secret", {}).error == code(tool_error::access_denied));

    // no second credential for a registered id
    boost::system::error_code ec;
    auto forged = fx.bus.add_agent(deputy.id(), "impostor", ec);
    BOOST_TEST(ec == code(tool_error::agent_exists));
    BOOST_TEST(!forged);
    BOOST_CHECK_THROW(fx.bus.add_agent(fx.alice.id()), spindle::system_error);

    // a credential of another bus, even for the same id there
    tools::tool_bus other(fx.sys, named("bypass-other"));
    auto foreign = other.add_agent(deputy.id(), "deputy");
    BOOST_TEST(other.has_agent(deputy.id()));
    auto res = fx.bus.try_call(foreign, "secret", {});
    BOOST_TEST(res.error == code(tool_error::access_denied));
    BOOST_TEST(res.message.find("another tool bus") != std::string::npos, res.message);
    // nor may a tool be registered with one, or with a delegated one
    tools::tool_options bad;
    bad.identity = foreign;
    fx.bus.register_tool(tools::make_tool(empty_schema("borrowed"), [] { return 1; }), bad, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    bad.identity = *stash;
    fx.bus.register_tool(tools::make_tool(empty_schema("borrowed"), [] { return 1; }), bad, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));

    // a removed agent's credential is void, every copy of it; the id may
    // come back with a new credential, the old one stays void
    auto copy = deputy;
    BOOST_TEST(fx.bus.remove_agent(deputy.id()));
    BOOST_TEST(!fx.bus.remove_agent(deputy.id()));
    BOOST_TEST(!fx.bus.has_agent(deputy.id()));
    res = fx.bus.try_call(copy, "secret", {});
    BOOST_TEST(res.error == code(tool_error::access_denied));
    BOOST_TEST(res.message.find("removed") != std::string::npos, res.message);
    auto again = fx.bus.add_agent(deputy.id(), "deputy");
    fx.bus.grant(again, "secret");
    BOOST_TEST(fx.bus.call(again, "secret", {}) == "the secret");
    BOOST_TEST(fx.bus.try_call(copy, "secret", {}).error == code(tool_error::access_denied));
    // and the tool registered with the removed credential calls nothing now
    tried->r.clear();
    BOOST_TEST(!fx.bus.try_call(fx.alice, "deputy", {}).error);
    BOOST_TEST(tried->r.size() == 4u);
    for(auto const& [what, x] : tried->r)
        BOOST_TEST(x.error == code(tool_error::access_denied), what);
    // the ids in find() carry no authority
    BOOST_TEST(fx.bus.find("deputy")->identity == deputy.id());
    BOOST_TEST(!fx.bus.find("deputy")->options.identity);
}

BOOST_AUTO_TEST_CASE(nested_calls_inherit_the_deadline_and_end_at_max_depth)
{
    tools::tool_bus_options o;
    o.name = "depth";
    o.max_depth = 3;
    manual_fixture fx(o);
    auto const self = fx.bus.add_agent("self");
    auto deadlines = std::make_shared<spindle_test::history<spindle::timer_service::time_point>>();
    tools::tool_options as_self;
    as_self.identity = self;
    fx.bus.register_tool(tools::make_tool(empty_schema("recurse"),
                                          [deadlines](json::value, tools::tool_context const& ctx) -> json::value {
                                              deadlines->push(ctx.deadline());
                                              auto r = ctx.try_call("recurse", {});
                                              if(r.error)
                                                  return json::object{{"depth", ctx.callers().size()},
                                                                      {"error", r.error.value()}};
                                              return r.value;
                                          }),
                         as_self);
    fx.bus.grant(fx.alice, "recurse");
    fx.bus.grant(self, "recurse");
    tools::call_options co;
    co.deadline = fx.clock->now() + 7s;
    json::value r = fx.bus.call(fx.alice, "recurse", {}, co);
    BOOST_TEST(r.at("depth") == 3);
    BOOST_TEST(r.at("error") == static_cast<int>(tool_error::depth_exceeded));
    auto d = deadlines->snapshot();
    BOOST_TEST_REQUIRE(d.size() == 3u);
    BOOST_TEST((d[0] == co.deadline && d[1] == co.deadline && d[2] == co.deadline));
    BOOST_TEST(fx.bus.stats("recurse").depth_exceeded == 1u);
}

BOOST_AUTO_TEST_CASE(a_full_queue_makes_the_bus_busy)
{
    tools::tool_bus_options o;
    o.name = "busy";
    o.max_concurrent = 1;
    o.queue_capacity = 1;
    manual_fixture fx(o);
    fx.bus.register_tool(tools::make_tool(empty_schema("slow"), [g = fx.gate] { g->pass(); }));
    fx.bus.grant(fx.alice, "slow");
    std::future<tools::call_result> a, b, c;
    // a failed requirement must not leave the calls' futures waiting at the
    // gate (std::async's future waits in its destructor): opened first
    struct opener
    {
        std::shared_ptr<tool_gate> g;
        ~opener() { g->open(); }
    } const open_on_exit{fx.gate};
    a = call_async(fx.bus, fx.alice, "slow", {});
    BOOST_TEST_REQUIRE(eventually([&] { return fx.gate->entered.load() == 1; }));
    b = call_async(fx.bus, fx.alice, "slow", {});
    // b takes the only queue slot (two submissions at the same moment may
    // both pass the capacity check, as the executor documents: one at a time)
    auto queued = [&] {
        double n = 0;
        for(auto const& f : fx.sys.metrics().snapshot())
            if(f.name == "spindle_executor_tasks_queued")
                for(auto const& x : f.samples)
                    n += x.value;
        return n;
    };
    BOOST_TEST_REQUIRE(eventually([&] { return queued() == 1; }));
    c = call_async(fx.bus, fx.alice, "slow", {});
    // c is refused at once
    BOOST_TEST_REQUIRE(eventually([&] { return fx.bus.stats("slow").busy == 1; }));
    fx.gate->open();
    auto rb = wait(b);
    auto rc = wait(c);
    BOOST_TEST(!wait(a).error);
    BOOST_TEST(!rb.error);
    BOOST_TEST(rc.error == code(tool_error::busy));
}

BOOST_AUTO_TEST_CASE(unregister_and_shutdown)
{
    manual_fixture fx(named("lifecycle"));
    auto id = fx.bus.register_tool(tools::make_echo_tool());
    fx.bus.grant_all(fx.alice);
    BOOST_TEST(fx.bus.find("echo").has_value());
    BOOST_TEST(fx.bus.find(id)->schema.name == "echo");
    BOOST_TEST(fx.bus.call(fx.alice, id, {{"message", "a"}}).at("message") == "a");
    BOOST_TEST(fx.bus.unregister_tool(id));
    BOOST_TEST(!fx.bus.unregister_tool("echo"));
    BOOST_TEST(fx.bus.try_call(fx.alice, id, {{"message", "a"}}).error == code(tool_error::not_found));
    BOOST_TEST(fx.bus.try_call(fx.alice, "echo", {{"message", "a"}}).error == code(tool_error::not_found));

    // the metric series continue under the same name
    fx.bus.register_tool(tools::make_echo_tool());
    fx.bus.call(fx.alice, "echo", {{"message", "b"}});
    BOOST_TEST(fx.bus.stats("echo").calls == 2u);

    fx.bus.shutdown();
    BOOST_TEST(fx.bus.try_call(fx.alice, "echo", {{"message", "c"}}).error == code(tool_error::bus_stopped));
    boost::system::error_code ec;
    fx.bus.register_tool(tools::make_calculator_tool(), {}, ec);
    BOOST_TEST(ec == code(tool_error::bus_stopped));
    BOOST_TEST(fx.bus.stats("echo").bus_stopped == 1u);
}

BOOST_AUTO_TEST_CASE(bad_options_and_taken_names_are_refused)
{
    spindle::system sys(spindle_test::workers(1));
    tools::tool_bus_options o;
    o.timeout = 0s;
    BOOST_CHECK_THROW(tools::tool_bus(sys, o), spindle::system_error);
    o = {};
    o.max_depth = 0;
    BOOST_CHECK_THROW(tools::tool_bus(sys, o), spindle::system_error);
    tools::tool_bus first(sys, named("same"));
    BOOST_CHECK_EXCEPTION(tools::tool_bus(sys, named("same")), spindle::system_error,
                          spindle_test::has_code(spindle::error::invalid_argument));
    tools::tool_bus anonymous(sys);
    BOOST_TEST(anonymous.options().name.rfind("tools-", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(hundred_fibers_times_a_thousand_calls_give_exact_counts)
{
    spindle::system sys(spindle_test::workers(2));
    tools::tool_bus bus(sys, named("load"));
    bus.register_tool(tools::make_echo_tool());
    auto const a = bus.add_agent();
    bus.grant(a, "echo");
    constexpr int fibers = 100;
    constexpr int calls = 1000;
    std::atomic<int> wrong{0};
    auto done = spindle_test::start_in_actors(sys, fibers, [&](int f) {
        for(int i = 0; i < calls; ++i)
        {
            json::value p = {{"message", "m"}, {"f", f}, {"i", i}};
            if(i % 10 == 9)
                p.as_object()["message"] = 9; // invalid: counted as such, never run
            auto r = bus.try_call(a, "echo", p);
            bool const ok = i % 10 == 9 ? r.error == code(tool_error::invalid_params) : (!r.error && r.value == p);
            if(!ok)
                wrong.fetch_add(1);
        }
    });
    BOOST_TEST_REQUIRE(spindle_test::finish(done, "load"));
    BOOST_TEST(wrong.load() == 0);
    auto s = bus.stats("echo");
    BOOST_TEST(s.calls == std::uint64_t(fibers) * calls);
    BOOST_TEST(s.successes == std::uint64_t(fibers) * calls * 9 / 10);
    BOOST_TEST(s.invalid_params == std::uint64_t(fibers) * calls / 10);
    BOOST_TEST(s.errors == s.invalid_params);
    BOOST_TEST(s.executions == s.successes);

    // the same numbers in the registry /metrics exports
    auto families = sys.metrics().snapshot();
    auto value_of = [&](std::string const& name, std::string const& kind = {}) -> double {
        for(auto const& f : families)
            if(f.name == name)
                for(auto const& smp : f.samples)
                {
                    bool match = true;
                    bool has_kind = false;
                    for(auto const& [k, v] : smp.labels)
                    {
                        if(k == "bus" && v != "load")
                            match = false;
                        if(k == "tool" && v != "echo")
                            match = false;
                        if(k == "kind")
                        {
                            has_kind = true;
                            if(v != kind)
                                match = false;
                        }
                    }
                    if(match && has_kind == !kind.empty())
                        return f.type == spindle::metrics::metric_type::histogram ? double(smp.count) : smp.value;
                }
        return -1;
    };
    BOOST_TEST(value_of("spindle_tool_calls_total") == fibers * calls);
    BOOST_TEST(value_of("spindle_tool_successes_total") == fibers * calls * 9 / 10);
    BOOST_TEST(value_of("spindle_tool_errors_total", "invalid_params") == fibers * calls / 10);
    BOOST_TEST(value_of("spindle_tool_errors_total", "timed_out") == 0);
    BOOST_TEST(value_of("spindle_tool_execution_seconds") == fibers * calls * 9 / 10);
    BOOST_TEST(value_of("spindle_tool_last_execution_seconds") >= 0);
}

BOOST_AUTO_TEST_CASE(unknown_tools_are_counted_per_bus)
{
    manual_fixture fx(named("unknown"));
    fx.bus.try_call(fx.alice, "ghost", {});
    fx.bus.try_call(fx.alice, spindle::tool_id::generate(), {});
    double n = -1;
    for(auto const& f : fx.sys.metrics().snapshot())
        if(f.name == "spindle_tool_not_found_total")
            for(auto const& s : f.samples)
                if(s.labels == spindle::metrics::labels_type{{"bus", "unknown"}})
                    n = s.value;
    BOOST_TEST(n == 2);
}
