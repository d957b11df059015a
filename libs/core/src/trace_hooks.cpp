//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/detail/trace_hooks.hpp>
#include <spindle/detail/envelope.hpp>

#include <utility>

namespace spindle::detail {

constinit std::atomic<trace_hooks const*> trace_hooks_table{nullptr};

void traced_invoke(trace_hooks const& h, envelope* e, actor_base& self)
{
    void* const scope = h.begin(std::exchange(e->trace_, nullptr), self, *e->vtable_);
    try
    {
        e->vtable_->invoke(e, self);
    }
    catch(...)
    {
        h.end(scope, true);
        throw;
    }
    h.end(scope, false);
}

} // namespace spindle::detail
