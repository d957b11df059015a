//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::remote links (joining a
// NATS server is the remote tests' business).

#include <spindle/remote.hpp>

int main()
{
    return spindle::remote::error_category().name() == std::string_view("spindle.remote") ? 0 : 1;
}
