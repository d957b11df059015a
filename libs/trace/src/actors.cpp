//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Propagation through actors: core calls these hooks when a message is
// posted (capture the sender's span) and around a user handler (run it in a
// child span of the sender's).

#include <spindle/trace/span.hpp>

#include "pipeline.hpp"

#include <spindle/detail/envelope.hpp>
#include <spindle/detail/trace_hooks.hpp>

#include <boost/core/demangle.hpp>

#include <chrono>
#include <string>
#include <typeinfo>
#include <unordered_map>

namespace spindle::trace::detail {

namespace {

struct carried final : spindle::detail::trace_carrier
{
    span_context ctx;
    std::chrono::steady_clock::time_point posted;
};

void release_carried(spindle::detail::trace_carrier* c) noexcept
{
    delete static_cast<carried*>(c);
}

spindle::detail::trace_carrier* capture() noexcept
{
    try
    {
        auto* c = new carried;
        c->release = &release_carried;
        c->ctx = current_span().context();
        c->posted = std::chrono::steady_clock::now();
        return c;
    }
    catch(...)
    {
        return nullptr;
    }
}

std::string const& type_name(std::type_info const* t)
{
    thread_local std::unordered_map<std::type_info const*, std::string> names;
    auto it = names.find(t);
    if(it == names.end())
        it = names.emplace(t, t ? boost::core::demangle(t->name()) : std::string("?")).first;
    return it->second;
}

struct handler_scope
{
    span s;
    std::optional<scope> sc;
};

void* begin(spindle::detail::trace_carrier* c, actor_base&, spindle::detail::envelope_vtable const& vt) noexcept
{
    std::unique_ptr<carried> owned(static_cast<carried*>(c));
    try
    {
        std::string const& msg = type_name(vt.type);
        span_options o;
        o.kind = span_kind::consumer;
        o.root = true; // the sender's span, not whatever this fiber ran before
        if(owned && owned->ctx.valid())
            o.parent = std::move(owned->ctx);
        auto h = std::make_unique<handler_scope>();
        h->s = start_span(msg, std::move(o));
        if(h->s.is_recording())
        {
            h->s.set_attribute("actor.type", type_name(vt.actor));
            h->s.set_attribute("message.type", msg);
            if(owned)
                h->s.set_attribute("mailbox.wait_ns",
                    static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - owned->posted).count()));
        }
        h->sc.emplace(h->s);
        return h.release();
    }
    catch(...)
    {
        return nullptr;
    }
}

void end(void* token, bool failed) noexcept
{
    std::unique_ptr<handler_scope> h(static_cast<handler_scope*>(token));
    if(!h)
        return;
    try
    {
        h->sc.reset();
        if(failed)
            h->s.set_status(status_code::error, "handler threw");
        h->s.end();
    }
    catch(...)
    {
    }
}

constinit spindle::detail::trace_hooks const hooks{&capture, &begin, &end};

} // namespace

void install_actor_hooks(bool on) noexcept
{
    spindle::detail::trace_hooks_table.store(on ? &hooks : nullptr, std::memory_order_release);
}

} // namespace spindle::trace::detail
