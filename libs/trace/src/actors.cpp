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
#include <spindle/detail/type_name.hpp>

#include <boost/core/demangle.hpp>

#include <chrono>
#include <cstring>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace spindle::trace::detail {

namespace {

std::atomic<bool> g_drop_unsampled{false};

/** A context travelling with an envelope, then (reused as `begin`'s token)
    the handler's span and scope: one object per message, taken from a
    per-thread free list, so the unsampled path allocates nothing.
*/
struct carried final : spindle::detail::trace_carrier
{
    span_context ctx;
    std::chrono::steady_clock::time_point posted{};
    span s;                  ///< the handler's span if it is recorded
    std::optional<scope> sc; ///< the handler's span current while it runs
};

void release_carried(spindle::detail::trace_carrier* c) noexcept;

/// Carriers freed on this thread, for the next ones it makes.
struct carrier_pool
{
    static constexpr std::size_t limit = 1024;
    std::vector<carried*> free;

    ~carrier_pool()
    {
        for(auto* c : free)
            delete c;
    }

    carried* get()
    {
        if(free.empty())
        {
            auto* c = new carried;
            c->release = &release_carried;
            return c;
        }
        carried* c = free.back();
        free.pop_back();
        return c;
    }

    void put(carried* c) noexcept
    {
        c->sc.reset();
        c->s = span();
        c->ctx.state = trace_state();
        if(free.size() < limit && free.capacity() > free.size())
            free.push_back(c);
        else if(free.size() < limit)
        {
            try
            {
                free.push_back(c);
            }
            catch(...)
            {
                delete c;
            }
        }
        else
            delete c;
    }
};

// False once this thread's pool is destroyed (at thread exit, or for the
// main thread before static objects, which may still release envelopes):
// a trivially destructible flag that stays readable after that.
thread_local bool tl_pool_gone = false;

struct pool_holder
{
    carrier_pool p;
    ~pool_holder() { tl_pool_gone = true; }
};

carrier_pool& pool() noexcept
{
    thread_local pool_holder h;
    return h.p;
}

void release_carried(spindle::detail::trace_carrier* c) noexcept
{
    if(tl_pool_gone) [[unlikely]]
    {
        delete static_cast<carried*>(c);
        return;
    }
    pool().put(static_cast<carried*>(c));
}

spindle::detail::trace_carrier* capture() noexcept
{
    try
    {
        carried* c = tl_pool_gone ? new carried{} : pool().get();
        c->release = &release_carried;
        if(span_context const* cur = current_context())
        {
            c->ctx = *cur;
            // the mailbox wait is recorded only on recorded spans
            c->posted = cur->sampled() || !g_drop_unsampled.load(std::memory_order_relaxed)
                ? std::chrono::steady_clock::now()
                : std::chrono::steady_clock::time_point{};
        }
        else
        {
            c->ctx = span_context();
            c->posted = std::chrono::steady_clock::now();
        }
        return c;
    }
    catch(...)
    {
        return nullptr;
    }
}

// A type's names, computed once per thread: `full` demangled, as metric
// labels spell it (attributes), `readable` without `(anonymous
// namespace)::` (span names, which people read).
struct type_names
{
    std::string full, readable;
};

type_names const& names_of(std::type_info const* t)
{
    thread_local std::unordered_map<std::type_info const*, type_names> cache;
    auto it = cache.find(t);
    if(it == cache.end())
        it = cache.emplace(t, t ? type_names{boost::core::demangle(t->name()), spindle::detail::readable_type_name(*t)}
                                : type_names{"?", "?"}).first;
    return it->second;
}

void* begin(spindle::detail::trace_carrier* cr, actor_base&, spindle::detail::envelope_vtable const& vt) noexcept
{
    auto* c = static_cast<carried*>(cr);
    try
    {
        if(!c)
        {
            c = tl_pool_gone ? new carried{} : pool().get();
            c->release = &release_carried;
        }
        if(c->ctx.valid() && !c->ctx.sampled() && g_drop_unsampled.load(std::memory_order_relaxed))
        {
            // the cheap path: the sampler would drop the child, so only its
            // ids are made (for the handler's own sends), no span, no name
            c->ctx.span = span_id::random();
            c->ctx.flags &= trace_flags::random;
            c->ctx.remote = false;
            c->sc.emplace(span(std::move(c->ctx)));
            return c;
        }
        span_options o;
        o.kind = span_kind::consumer;
        o.root = true; // the sender's span, not whatever this fiber ran before
        if(c->ctx.valid())
            o.parent = std::move(c->ctx);
        type_names const& message = names_of(vt.type);
        c->s = start_span(message.readable, std::move(o));
        if(c->s.is_recording())
        {
            c->s.set_attribute("actor.type", names_of(vt.actor).full);
            c->s.set_attribute("message.type", message.full);
            if(c->posted != std::chrono::steady_clock::time_point{})
                c->s.set_attribute("mailbox.wait_ns",
                    static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - c->posted).count()));
        }
        c->sc.emplace(c->s);
        return c;
    }
    catch(...)
    {
        if(c)
            release_carried(c);
        return nullptr;
    }
}

void end(void* token, bool failed) noexcept
{
    auto* c = static_cast<carried*>(token);
    if(!c)
        return;
    try
    {
        c->sc.reset();
        if(failed)
            c->s.set_status(status_code::error, "handler threw");
        c->s.end();
    }
    catch(...)
    {
    }
    release_carried(c);
}

// --- across processes (spindle::remote) ---

bool inject(spindle::detail::trace_carrier const* c, char* tp, std::string& tracestate) noexcept
{
    auto const* cc = static_cast<carried const*>(c);
    if(!cc || !cc->ctx.valid())
        return false;
    try
    {
        std::string const h = format_traceparent(cc->ctx);
        if(h.size() != spindle::detail::traceparent_size)
            return false;
        std::memcpy(tp, h.data(), h.size() + 1);
        tracestate = cc->ctx.state.to_header();
        return true;
    }
    catch(...)
    {
        return false;
    }
}

void* enter(std::string_view traceparent, std::string_view tracestate) noexcept
{
    try
    {
        auto ctx = extract(traceparent, tracestate);
        if(!ctx)
            return nullptr;
        return new scope(span(std::move(*ctx)));
    }
    catch(...)
    {
        return nullptr;
    }
}

void leave(void* token) noexcept
{
    delete static_cast<scope*>(token);
}

// --- spans of servers and libraries (spindle::http) ---

void* start(std::string_view name, int kind, std::string_view traceparent, std::string_view tracestate) noexcept
{
    try
    {
        span_options o;
        o.kind = static_cast<span_kind>(kind);
        if(!traceparent.empty())
            if(auto ctx = extract(traceparent, tracestate))
            {
                o.parent = std::move(*ctx);
                o.root = true;
            }
        return new span(start_span(std::string(name), std::move(o)));
    }
    catch(...)
    {
        return nullptr;
    }
}

void* activate(void* token) noexcept
{
    try
    {
        return token ? new scope(*static_cast<span*>(token)) : nullptr;
    }
    catch(...)
    {
        return nullptr;
    }
}

void set_string(void* token, std::string_view key, std::string_view value) noexcept
{
    try
    {
        if(auto* h = static_cast<span*>(token); h && h->is_recording())
            h->set_attribute(std::string(key), std::string(value));
    }
    catch(...)
    {
    }
}

void set_int(void* token, std::string_view key, long long value) noexcept
{
    try
    {
        if(auto* h = static_cast<span*>(token); h && h->is_recording())
            h->set_attribute(std::string(key), static_cast<std::int64_t>(value));
    }
    catch(...)
    {
    }
}

void traceparent_of(void* token, char* tp) noexcept
{
    tp[0] = 0;
    auto* h = static_cast<span*>(token);
    if(!h || !h->context().valid())
        return;
    try
    {
        std::string const v = format_traceparent(h->context());
        if(v.size() == spindle::detail::traceparent_size)
            std::memcpy(tp, v.data(), v.size() + 1);
    }
    catch(...)
    {
    }
}

void finish(void* token, bool failed, std::string_view message) noexcept
{
    std::unique_ptr<span> h(static_cast<span*>(token));
    if(!h)
        return;
    try
    {
        if(failed)
            h->set_status(status_code::error, message);
        h->end();
    }
    catch(...)
    {
    }
}

// With tracing_options::actors off: handled messages are left alone.
spindle::detail::trace_carrier* capture_none() noexcept
{
    return nullptr;
}

void* begin_none(spindle::detail::trace_carrier* c, actor_base&, spindle::detail::envelope_vtable const&) noexcept
{
    if(c)
        c->release(c);
    return nullptr;
}

constinit spindle::detail::trace_hooks const hooks{
    &capture, &begin, &end, &inject, &enter, &leave, &start, &activate, &set_string, &set_int, &traceparent_of, &finish};
constinit spindle::detail::trace_hooks const hooks_no_actors{
    &capture_none, &begin_none, &end, &inject, &enter, &leave, &start, &activate, &set_string, &set_int, &traceparent_of, &finish};

} // namespace

void install_hooks(bool on, bool actors, bool drop_unsampled) noexcept
{
    g_drop_unsampled.store(drop_unsampled, std::memory_order_relaxed);
    spindle::detail::trace_hooks_table.store(
        on ? (actors ? &hooks : &hooks_no_actors) : nullptr, std::memory_order_release);
}

} // namespace spindle::trace::detail
