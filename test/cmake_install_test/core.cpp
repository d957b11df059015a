//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::core alone runs an actor.

#include <spindle/core.hpp>

struct ping {};

struct pong : spindle::actor<pong, ping>
{
    int on(ping) { return 42; }
};

int main()
{
    spindle::system sys;
    return sys.spawn<pong>().ask(ping{}).get() == 42 ? 0 : 1;
}
