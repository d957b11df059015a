//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/load/config.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>

#include <cstdio>
#include <fstream>
#include <string>

using namespace std::chrono_literals;
namespace load = spindle::load;

namespace {

// The field a bad configuration is blamed on, or "" when it parses.
std::string blamed(char const* text)
{
    std::optional<load::config_error> problem;
    auto cfg = load::parse_config(boost::json::parse(text), problem);
    BOOST_TEST(cfg.has_value() == !problem.has_value());
    return problem ? problem->field() : std::string();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_full_configuration_reads_back)
{
    auto cfg = load::parse_config(boost::json::parse(R"({
        "name": "demo", "model": "closed", "duration_s": 2.5, "users": 20, "ramp_up_s": 1,
        "think_time_ms": {"min": 5, "max": 15}, "iterations": 3, "timeout_ms": 250, "seed": 9,
        "slo": {"p99_ms": 50, "error_rate": 0.01},
        "scenarios": [
          {"name": "chat", "weight": 3, "steps": [
             {"kind": "ask", "target": "echo", "payload": {"text": "hi"}, "type": "demo.echo"},
             {"kind": "wait", "ms": 5},
             {"name": "sum", "kind": "tool", "target": "calculator", "payload": {"expression": "1+2"}, "timeout_ms": 100}]},
          {"name": "pages", "steps": [{"kind": "http", "target": "/health", "method": "GET"},
             {"kind": "stream", "target": "lines", "items": 10}, {"kind": "tell", "target": "echo"}]}]})"));
    BOOST_TEST(cfg.name == "demo");
    BOOST_TEST(cfg.duration == 2500ms);
    BOOST_TEST(cfg.users == 20u);
    BOOST_TEST(cfg.ramp_up == 1s);
    BOOST_TEST(cfg.think_min == 5ms);
    BOOST_TEST(cfg.think_max == 15ms);
    BOOST_TEST(cfg.iterations == 3u);
    BOOST_TEST(cfg.timeout == 250ms);
    BOOST_TEST(cfg.seed == 9u);
    BOOST_TEST(*cfg.slo.p99_ms == 50.0);
    BOOST_TEST(*cfg.slo.error_rate == 0.01);
    BOOST_TEST_REQUIRE(cfg.scenarios.size() == 2u);
    BOOST_TEST(cfg.scenarios[0].weight == 3.0);
    BOOST_TEST(cfg.scenarios[1].weight == 1.0);
    BOOST_TEST_REQUIRE(cfg.scenarios[0].steps.size() == 3u);
    BOOST_TEST(cfg.scenarios[0].steps[0].name == "ask#1");
    BOOST_TEST(cfg.scenarios[0].steps[0].type == "demo.echo");
    BOOST_TEST(cfg.scenarios[0].steps[1].wait == 5ms);
    BOOST_TEST(cfg.scenarios[0].steps[2].name == "sum");
    BOOST_TEST(cfg.scenarios[0].steps[2].timeout == 100ms);
    BOOST_TEST(cfg.scenarios[1].steps[1].items == 10u);
    BOOST_TEST((cfg.scenarios[1].steps[0].kind == load::step_kind::http));
}

BOOST_AUTO_TEST_CASE(errors_name_the_bad_field)
{
    BOOST_TEST(blamed(R"({"scenarios": [{"steps": [{"kind": "ask", "target": "a"}]}]})") == "");
    BOOST_TEST(blamed(R"({})") == "scenarios");
    BOOST_TEST(blamed(R"({"usres": 3, "scenarios": []})") == "usres");
    BOOST_TEST(blamed(R"({"users": -1, "scenarios": []})") == "users");
    BOOST_TEST(blamed(R"({"users": 1.5, "scenarios": []})") == "users");
    BOOST_TEST(blamed(R"({"duration_s": "10", "scenarios": []})") == "duration_s");
    BOOST_TEST(blamed(R"({"model": "half-open", "scenarios": []})") == "model");
    BOOST_TEST(blamed(R"({"model": "open", "scenarios": [{"steps": [{"kind": "ask", "target": "a"}]}]})") == "rate");
    BOOST_TEST(blamed(R"({"think_time_ms": {"min": 9, "max": 3}, "scenarios": []})") == "think_time_ms.max");
    BOOST_TEST(blamed(R"({"slo": {"error_rate": 2}, "scenarios": [{"steps": [{"kind": "ask", "target": "a"}]}]})") ==
               "slo.error_rate");
    BOOST_TEST(blamed(R"({"scenarios": [{"steps": [{"kind": "ask", "target": "a"}]},
                                        {"weight": 0, "steps": [{"kind": "ask", "target": "a"}]}]})") ==
               "scenarios[1].weight");
    BOOST_TEST(blamed(R"({"scenarios": [{"steps": [{"kind": "ask", "target": "a"}, {"kind": "poke"}]}]})") ==
               "scenarios[0].steps[1].kind");
    BOOST_TEST(blamed(R"({"scenarios": [{"steps": [{"kind": "tool"}]}]})") == "scenarios[0].steps[0].target");
    BOOST_TEST(blamed(R"({"scenarios": [{"steps": [{"kind": "wait"}]}]})") == "scenarios[0].steps[0].ms");
    BOOST_TEST(blamed(R"({"scenarios": [{"steps": [{"kind": "wait", "ms": 3}]}]})") == "scenarios[0].steps");
    BOOST_TEST(blamed(R"({"scenarios": [{"steps": [{"kind": "ask", "target": "a", "itmes": 2}]}]})") ==
               "scenarios[0].steps[0].itmes");
    BOOST_TEST(blamed(R"({"scenarios": [{"name": "x", "steps": [{"kind": "ask", "target": "a"}]},
                                        {"name": "x", "steps": [{"kind": "ask", "target": "a"}]}]})") ==
               "scenarios[1].name");
}

BOOST_AUTO_TEST_CASE(the_message_says_what_is_wrong)
{
    try
    {
        load::parse_config(boost::json::parse(R"({"scenarios": [{"steps": [{"kind": "poke", "target": "a"}]}]})"));
        BOOST_FAIL("no error");
    }
    catch(load::config_error const& e)
    {
        BOOST_TEST(std::string(e.what()) ==
                   "scenarios[0].steps[0].kind: unknown step kind 'poke' (expected tell, ask, tool, stream, http or wait)");
    }
}

BOOST_AUTO_TEST_CASE(a_malformed_file_is_reported_with_its_position)
{
    std::string const path = "load_config_malformed.json";
    {
        std::ofstream out(path);
        out << "{\n  \"users\": 3,\n  \"scenarios\": [\n}";
    }
    try
    {
        load::load_config_file(path);
        BOOST_FAIL("no error");
    }
    catch(load::config_error const& e)
    {
        BOOST_TEST(std::string(e.what()).find(path + ":4:") != std::string::npos, e.what());
    }
    std::remove(path.c_str());
    BOOST_CHECK_THROW(load::load_config_file("no/such/file.json"), load::config_error);
}
