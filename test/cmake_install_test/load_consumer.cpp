//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::load runs a load test and
// spindle::chaos injects into it.

#include <spindle/chaos.hpp>
#include <spindle/load.hpp>

#include <boost/json/parse.hpp>

int main()
{
    auto cfg = spindle::load::parse_config(boost::json::parse(
        R"({"users": 2, "iterations": 50, "duration_s": 0,
            "scenarios": [{"steps": [{"kind": "ask", "target": "x"}]}]})"));
    spindle::chaos::controller faults(1);
    spindle::chaos::rule r;
    r.error_probability = 1;
    faults.set_rules({r});
    faults.enable(true);
    spindle::load::runner_options o;
    o.on(spindle::load::step_kind::ask, [&](spindle::load::step const&, spindle::load::step_context&) {
        return faults.decide(spindle::chaos::site::task, "x").code;
    });
    auto const res = spindle::load::runner(cfg, o).run();
    return res.total.count == 100 && res.total.failures == 100 ? 0 : 1;
}
