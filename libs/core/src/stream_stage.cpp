//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// What a stream's stages share, out of line: their error handling (skip,
// stop, retry with backoff), a sink's delivery failure, and the trace span
// of a stage (see doc/tracing.md, "Stream stages").

#include <spindle/stream.hpp>

#include <spindle/timer.hpp>

#include "stream_impl.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>

namespace spindle {
namespace detail {

//------------------------------------------------------------------------------
// stages

void stage_base::init_stage(stage_rt& rt, stream_state& st, stage_options const& o, output_base* flush,
                            slice_budget* budget) noexcept
{
    budget_ = budget;
    rt_ = &rt;
    st_ = &st;
    action_ = o.on_error;
    retry_ = o.retry;
    flush_ = flush;
    token_ = st.token();
}

attempt_result stage_base::failed(std::exception_ptr e, bool exhausted, std::size_t attempts) noexcept
{
    if(!exhausted && action_ == error_action::skip)
        return attempt_result::skip;
    try
    {
        std::string what = describe(e);
        if(exhausted)
        {
            what += " (" + std::to_string(attempts) + " attempts)";
            st_->fail(make_error_code(stream_error::retries_exhausted), rt_->name, std::move(what), e);
        }
        else
        {
            st_->fail(make_error_code(stream_error::stage_failed), rt_->name, std::move(what), e);
        }
    }
    catch(...)
    {
        st_->fail(make_error_code(stream_error::stage_failed), std::string(), std::string(), e);
    }
    return attempt_result::stop;
}

bool stage_base::backoff(std::size_t n)
{
    // what this fiber holds back must not wait for the backoff
    if(flush_)
        flush_->flush();
    thread_local std::minstd_rand rng(static_cast<std::minstd_rand::result_type>(
        std::hash<void const*>()(&rng) ^ static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
    double const u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    bool const slept = timers_of(*st_).sleep_for(retry_.delay(n, u), token_);
    if(budget_)
        budget_->waited();
    return slept;
}

//------------------------------------------------------------------------------
// tracing (see doc/tracing.md, "Stream stages"); reached only when an item
// carries a context, which it can only when a tracing component is installed

trace_carrier* clone_trace(trace_carrier const* c) noexcept
{
    trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
    if(!h || !c)
        return nullptr;
    try
    {
        char tp[traceparent_size + 1];
        std::string state;
        if(!h->inject(c, tp, state))
            return nullptr;
        // a carrier is made from the calling fiber's context: the item's, for a moment
        void* const token = h->enter(std::string_view(tp, traceparent_size), state);
        if(!token)
            return nullptr;
        trace_carrier* const r = h->capture();
        h->leave(token);
        return r;
    }
    catch(...)
    {
        return nullptr;
    }
}

namespace {

/// One open stage span: what trace_begin started, and the item's context
/// it replaces in the slot while the item goes on.
struct stage_span_token
{
    trace_hooks const* h = nullptr;
    trace_ref* slot = nullptr;
    void* span = nullptr;
    void* scope = nullptr;
    trace_ref parent; ///< the item's context before this stage
    bool ended = false;
};

} // namespace

void* stage_base::trace_begin(trace_ref& slot) noexcept
{
    trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
    if(!h)
        return nullptr;
    try
    {
        char tp[traceparent_size + 1];
        std::string state;
        if(!h->inject(slot.get(), tp, state))
            return nullptr;
        auto t = std::make_unique<stage_span_token>();
        t->h = h;
        t->slot = &slot;
        t->span = h->start("stage " + rt_->name, 1 /* internal */, std::string_view(tp, traceparent_size), state);
        if(!t->span)
            return nullptr;
        h->set_string(t->span, "stream.name", st_->name_);
        h->set_string(t->span, "stream.stage.name", rt_->name);
        h->set_string(t->span, "stream.stage.kind", rt_->kind);
        h->set_int(t->span, "stream.stage.index", static_cast<long long>(rt_->position));
        t->scope = h->activate(t->span);
        if(budget_) // map_parallel's lanes share the stage: no exception is kept for them
            trace_error_ = nullptr;
        return t.release();
    }
    catch(...)
    {
        return nullptr; // out of memory: the item goes on untraced by this stage
    }
}

void stage_base::trace_end(void* token, bool failed) noexcept
{
    auto* t = static_cast<stage_span_token*>(token);
    if(t->ended)
        return;
    t->ended = true;
    // the context the next stages see is this span's, taken while it is current
    trace_ref mine(t->scope ? t->h->capture() : nullptr);
    if(t->scope)
        t->h->leave(t->scope);
    std::string message;
    if(failed)
    {
        try
        {
            message = budget_ && trace_error_ ? describe(trace_error_) : st_->failure_what();
            if(message.empty())
                message = "stage failed";
        }
        catch(...)
        {
        }
    }
    if(budget_)
        trace_error_ = nullptr;
    t->h->finish(t->span, failed, message);
    t->parent = std::move(*t->slot);
    *t->slot = std::move(mine);
}

void stage_base::trace_restore(void* token) noexcept
{
    std::unique_ptr<stage_span_token> t(static_cast<stage_span_token*>(token));
    if(!t->ended)
        trace_end(t.get(), false);
    *t->slot = std::move(t->parent);
}

void fail_sink(stage_base& s, stream_error e, char const* what) noexcept
{
    try
    {
        s.st_->fail(make_error_code(e), s.rt_->name, what, nullptr);
    }
    catch(...)
    {
    }
}

} // namespace detail
} // namespace spindle
