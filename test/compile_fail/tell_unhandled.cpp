//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Telling an actor a message type it does not declare must not compile, and
// the one error must name the actor and the message.
//
// expect-error: actor_does_not_handle_message<counter, foo>
// expect-error: incomplete type

#include <spindle/system.hpp>

struct add
{
    int n;
};

struct foo
{
};

struct counter : spindle::actor<counter, add>
{
    int sum = 0;
    void on(add const& m) { sum += m.n; }
};

int main()
{
    spindle::system sys;
    auto c = sys.spawn<counter>();
    c.tell(add{1});
    c.tell(foo{});
}
