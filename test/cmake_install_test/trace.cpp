//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::trace links.

#include <spindle/trace.hpp>

int main()
{
    return spindle::trace::always_on() != nullptr ? 0 : 1;
}
