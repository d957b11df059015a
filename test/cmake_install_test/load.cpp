//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::load runs a load test.

#include <spindle/load.hpp>

#include <boost/json/parse.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>

int main()
{
    auto cfg = spindle::load::parse_config(boost::json::parse(
        R"({"users": 2, "iterations": 50, "duration_s": 0,
            "scenarios": [{"steps": [{"kind": "ask", "target": "x"}]}]})"));
    spindle::load::runner_options o;
    std::atomic<int> calls{0};
    o.on(spindle::load::step_kind::ask, [&](spindle::load::step const&, spindle::load::step_context&) {
        ++calls;
        return boost::system::error_code{};
    });
    auto const res = spindle::load::runner(cfg, o).run();
    return res.total.count == 100 && res.total.failures == 0 && calls == 100 ? 0 : 1;
}
