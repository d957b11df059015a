//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A load test written in code (spindle::load): 50 users ask an echo actor
// for two seconds, with a ramp-up and think time; the results as JSON and
// the SLO's verdict. doc/load-and-chaos.md shows it.

#include <spindle/load.hpp>
#include <spindle/system.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <iostream>
#include <string>

struct echo
{
    std::string text;
};

struct echo_actor : spindle::actor<echo_actor, echo>
{
    std::string on(echo const& m) { return m.text; }
};

int main()
{
    spindle::system sys;
    auto target = sys.spawn<echo_actor>();

    auto cfg = spindle::load::parse_config(boost::json::parse(R"({
        "name": "echo", "duration_s": 2, "users": 50, "ramp_up_s": 0.5,
        "think_time_ms": {"min": 0, "max": 2}, "seed": 7,
        "slo": {"p99_ms": 100, "error_rate": 0.001},
        "scenarios": [{"name": "ask", "steps": [{"kind": "ask", "target": "echo", "payload": "hi"}]}]})"));

    spindle::load::runner_options opts;
    opts.on(spindle::load::step_kind::ask, [&](spindle::load::step const& s, spindle::load::step_context&) {
        boost::system::error_code ec;
        target.ask(echo{std::string(s.payload.as_string())}, cfg.timeout).get(ec); // parks the user's fiber
        return ec;
    });

    spindle::load::runner r(cfg, opts);
    auto const results = r.run();
    auto const verdict = spindle::load::check_slo(results, cfg.slo);
    std::cout << boost::json::serialize(spindle::load::to_json(results).at("total")) << '\n'
              << results.rps() << " requests/s, SLO " << (verdict.passed ? "met" : "missed") << '\n';
    return verdict.passed ? 0 : 1;
}
