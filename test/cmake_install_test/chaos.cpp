//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::chaos decides a fault.

#include <spindle/chaos.hpp>

int main()
{
    spindle::chaos::controller faults(1);
    spindle::chaos::rule r;
    r.error_probability = 1;
    faults.set_rules({r});
    faults.enable(true);
    return faults.decide(spindle::chaos::site::task, "x").code ? 0 : 1;
}
