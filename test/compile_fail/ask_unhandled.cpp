//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Asking an actor with a message type it does not declare must not compile,
// and the one error must name the actor and the message, also when the
// caller goes on to use the reply as users do.
//
// expect-error: actor_does_not_handle_message<counter, foo>
// expect-error: incomplete type

#include <spindle/system.hpp>

struct total
{
};

struct foo
{
};

struct counter : spindle::actor<counter, total>
{
    int on(total) { return 0; }
};

int main()
{
    spindle::system sys;
    auto c = sys.spawn<counter>();
    int n = c.ask(total{}).get();
    n += c.ask(foo{}).get();
    return n;
}
