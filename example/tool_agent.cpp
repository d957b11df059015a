//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// An agent that plans with tools, one of which is another agent.
//
// The planner (an actor) works out how long light takes from the Moon to
// the Earth. It may use three tools: the calculator, the echo tool (its
// way of "saying" the answer) and the researcher, which is an agent
// offered as a tool. The researcher knows a few facts in miles and calls
// the calculator itself to convert them, as itself *and* on behalf of the
// planner. It may also read "secret_notes", which the planner may not: when
// the planner asks for a secret, the bus refuses the researcher's nested
// call, so no agent reaches through another what it was not granted.
//
// Identities are credentials the bus issues: the planner holds its own
// (its whole authority); the researcher holds none, the bus keeps it as the
// researcher tool's identity, and the researcher calls only through the
// context of the call it serves, which carries its caller along.
//
// There is no language model here: the plan is fixed, as a model's tool
// calls would be. Everything else is what a real agent would do.

#include <spindle/system.hpp>
#include <spindle/tools.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <map>
#include <utility>
#include <string>

namespace json = boost::json;
namespace tools = spindle::tools;

// Numbers as people write them (Boost.JSON writes 3.8E5).
std::string num(json::value const& v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v.to_number<double>());
    return buf;
}

// The researcher: answers {"question": ...}; a handler that blocks
// fiber-style on the tools it calls, like any actor handler.
struct researcher : spindle::actor<researcher, tools::tool_message>
{
    json::value on(tools::tool_message const& m)
    {
        std::string const q(m.params.at("question").as_string());
        if(q == "distance from the earth to the moon")
        {
            // known in miles; the calculator converts (as the researcher, for its caller)
            auto km = m.context.call("calculator", {{"expression", "238855 * 1.609344"}});
            return {{"km", km.at("result")}, {"source", "almanac, converted from miles"}};
        }
        if(q == "speed of light")
            return {{"km_per_s", 299792.458}, {"source", "SI definition"}};
        if(q == "launch codes")
        {
            auto r = m.context.try_call("secret_notes", {});
            if(!r)
                return {{"refused", r.message}};
            return r.value;
        }
        return {{"unknown", q}};
    }
};

struct goal
{
    std::string text;
};

// The planner: receives a goal, lists its tools, runs its plan, with the
// credential the bus issued it.
struct planner : spindle::actor<planner, goal>
{
    tools::tool_bus* bus;
    tools::agent_credential me;
    planner(tools::tool_bus* b, tools::agent_credential c) : bus(b), me(std::move(c)) {}

    json::value use(char const* tool, json::value params)
    {
        std::printf("  -> %-12s %s\n", tool, json::serialize(params).c_str());
        json::value r = bus->call(me, tool, std::move(params));
        std::printf("  <- %-12s %s\n", tool, json::serialize(r).c_str());
        return r;
    }

    std::string on(goal const& g)
    {
        std::printf("planner: goal: %s\n", g.text.c_str());
        std::printf("planner: my tools: %s\n", json::serialize(bus->list_available_tools(me)).c_str());

        auto const distance = use("researcher", {{"question", "distance from the earth to the moon"}});
        auto const light = use("researcher", {{"question", "speed of light"}});
        std::string const expr = num(distance.at("km")) + " / " + num(light.at("km_per_s"));
        auto const seconds = use("calculator", {{"expression", expr}}).at("result").as_double();

        char answer[128];
        std::snprintf(answer, sizeof answer, "Light takes %.3f s from the Moon to the Earth.", seconds);
        use("echo", {{"message", answer}});

        // a question that needs a tool the planner was not granted
        auto const secret = use("researcher", {{"question", "launch codes"}});
        std::printf("planner: the bus kept the secret: %s\n", secret.as_object().contains("refused") ? "yes" : "no");

        // and a malformed call: the schema says why
        auto r = bus->try_call(me, "calculator", {{"expresion", "1+1"}});
        std::printf("planner: a typo is refused: %s\n", r.message.c_str());
        return answer;
    }
};

int main()
{
    spindle::system sys;
    tools::tool_bus bus(sys);

    bus.register_tool(tools::make_echo_tool());
    bus.register_tool(tools::make_calculator_tool());
    tools::tool_schema notes;
    notes.name = "secret_notes";
    notes.description = "Notes only the researcher may read.";
    bus.register_tool(tools::make_tool(notes, [] { return json::value{{"codes", "0000"}}; }));

    spindle::spawn_options ro;
    ro.name = "researcher";
    auto r = sys.spawn_with<researcher>(ro);
    tools::tool_schema rs;
    rs.name = "researcher";
    rs.description = "Answers factual questions, with units in km and s.";
    rs.parameters = json::parse(R"({"type":"object","properties":{"question":{"type":"string","minLength":3}}})")
                        .as_object();
    rs.required = {"question"};
    // the bus registers the researcher as an agent and keeps its credential
    tools::register_agent(bus, r, rs);

    auto const planner_credential = bus.add_agent("planner");
    spindle::spawn_options po;
    po.name = "planner";
    auto p = sys.spawn_with<planner>(po, &bus, planner_credential);

    bus.grant(planner_credential, "researcher");
    bus.grant(planner_credential, "calculator");
    bus.grant(planner_credential, "echo");
    bus.grant(r.id(), "calculator");
    bus.grant(r.id(), "secret_notes");

    std::string const answer = p.ask(goal{"How long does light take from the Moon to the Earth?"}).get();
    std::printf("answer: %s\n", answer.c_str());

    for(auto const& t : bus.tools())
    {
        auto const s = bus.stats(t.id);
        std::printf("tool %-12s calls %llu ok %llu errors %llu (access denied %llu, invalid params %llu)\n",
                    t.schema.name.c_str(), static_cast<unsigned long long>(s.calls),
                    static_cast<unsigned long long>(s.successes), static_cast<unsigned long long>(s.errors),
                    static_cast<unsigned long long>(s.access_denied),
                    static_cast<unsigned long long>(s.invalid_params));
    }
}
