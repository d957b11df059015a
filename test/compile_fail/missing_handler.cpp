//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// An actor that declares a message type but has no `on()` for it must not
// be spawnable, and the one error must name the actor and the message.
//
// expect-error: actor_has_no_handler_for<counter, foo>
// expect-error: incomplete type

#include <spindle/system.hpp>

struct add
{
    int n;
};

struct foo
{
};

struct counter : spindle::actor<counter, add, foo>
{
    int sum = 0;
    void on(add const& m) { sum += m.n; }
};

int main()
{
    spindle::system sys;
    auto c = sys.spawn<counter>();
    c.tell(add{1});
}
