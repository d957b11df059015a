//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/detail/chaos_hooks.hpp>
#include <spindle/detail/envelope.hpp>

namespace spindle::detail {

constinit std::atomic<chaos_hooks const*> chaos_hooks_table{nullptr};

void chaos_before_handler(chaos_hooks const& h, envelope* e, actor_base& self)
{
    try
    {
        h.before_handler(self, *e->vtable_);
    }
    catch(...)
    {
        e->vtable_->discard(e, error::handler_failed);
        throw;
    }
}

} // namespace spindle::detail
