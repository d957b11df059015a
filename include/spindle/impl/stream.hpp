//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_IMPL_STREAM_HPP
#define SPINDLE_IMPL_STREAM_HPP

#include <spindle/system.hpp>

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <utility>

namespace spindle {
namespace detail {

//------------------------------------------------------------------------------
// the segment loop

/// What a segment's input gave (see segment_loop).
enum class input_step : std::uint8_t
{
    item,   ///< an item is in hand
    idle,   ///< nothing now (a source's puller: only when asked not to wait)
    end,    ///< the input ended and is drained
    stopped ///< the stream is stopping
};

/** The loop every segment but map_parallel's coordinator runs, written
    once: take the next item from the input and pass it on, count it
    against the slice budget (`tick`: end the slice when the budget is
    used up, publish what the output held back, notice a stop request);
    when the input has nothing, wait; when it ends, finish.

    A segment kind `Derived` supplies only what differs:
    - `item_type`: where the item in hand is kept;
    - `pull(item, st)`: the next item without waiting;
    - `idle(item, st)`: what it does when `pull` had nothing: it publishes
      its output and waits, then says `idle` to have the input asked again
      (a source's puller waits for the item itself and gives it);
    - `process(item, st)`: the item's work (the fused chain, the stage's
      counters and error strategy, the trace context); false to stop;
    - `at_end()`: the slice's result when the input ended.
*/
template<class Derived>
class segment_loop : public segment_base
{
public:
    slice run(std::stop_token const& st) final
    {
        Derived& self = static_cast<Derived&>(*this);
        slice_budget_->begin();
        typename Derived::item_type v{};
        for(;;)
        {
            input_step s = self.pull(v, st);
            if(s == input_step::idle)
                s = self.idle(v, st);
            if(s == input_step::item)
            {
                if(!self.process(v, st))
                    return slice::stopped;
                switch(tick(st))
                {
                case tick_result::go:
                    break;
                case tick_result::more:
                    return slice::more;
                case tick_result::stop:
                    return slice::stopped;
                }
                continue;
            }
            if(s == input_step::end)
                return self.at_end();
            if(s == input_step::stopped)
                return slice::stopped;
        }
    }
};

/** A segment that reads a buffer (every one but the source's): its items
    are taken in place; with nothing to take it publishes its output and
    parks until the buffer has an item or ends.
*/
template<class Derived, class T>
class buffer_segment : public segment_loop<Derived>
{
protected:
    buffer_reader<T> in_;

    /// The context of the item in hand goes on with it, when tracing is on.
    void hand_on_trace() noexcept
    {
        slice_budget& budget = *this->slice_budget_;
        if(BOOST_UNLIKELY(tracing_installed()) && (in_.traced() || budget.trace))
            budget.trace = in_.take_trace();
    }

public:
    using item_type = item<T>*;

    explicit buffer_segment(buffer<T>& in) : in_(in) {}

    input_step pull(item<T>*& it, std::stop_token const&) noexcept
    {
        auto const r = in_.next(it);
        if(r == buffer_reader<T>::pull::item)
            return input_step::item;
        if(r == buffer_reader<T>::pull::end)
            return input_step::end;
        return input_step::idle;
    }

    input_step idle(item<T>*&, std::stop_token const& st)
    {
        this->flush_output();
        if(in_.wait(wait_deadline::never(), st) == wake_status::cancelled)
            return input_step::stopped;
        this->slice_budget_->waited();
        return input_step::idle;
    }

    segment_base::slice at_end() { return segment_base::slice::done; }
};

//------------------------------------------------------------------------------
// sources

/// Moves out of an element only when the range owns it (a container copied
/// into the run), never through a view of someone else's data.
template<class R, class Ref>
decltype(auto) element_of(Ref&& e)
{
    if constexpr(!std::ranges::view<R> && std::is_lvalue_reference_v<Ref&&> &&
                 !std::is_const_v<std::remove_reference_t<Ref>>)
        return std::move(e);
    else
        return std::forward<Ref>(e);
}

template<class R>
class range_puller
{
    R range_;
    std::optional<std::ranges::iterator_t<R>> it_;
    std::optional<std::ranges::sentinel_t<R>> end_;

public:
    using value_type = std::remove_cvref_t<std::ranges::range_value_t<R>>;

    explicit range_puller(R r) : range_(std::move(r)) {}

    input_step next(std::optional<value_type>& out, bool, std::stop_token const&)
    {
        if(!it_)
        {
            it_.emplace(std::ranges::begin(range_));
            end_.emplace(std::ranges::end(range_));
        }
        if(*it_ == *end_)
            return input_step::end;
        out.emplace(element_of<R>(**it_));
        ++*it_;
        return input_step::item;
    }

    void finish() noexcept {}
};

template<class F, class T>
class generator_puller
{
    F fn_;

public:
    using value_type = T;

    explicit generator_puller(F fn) : fn_(std::move(fn)) {}

    input_step next(std::optional<T>& out, bool, std::stop_token const& st)
    {
        std::optional<T> r = [&] {
            if constexpr(std::is_invocable_v<F&, std::stop_token const&>)
                return std::optional<T>(std::invoke(fn_, st));
            else
                return std::optional<T>(std::invoke(fn_));
        }();
        if(!r)
            return input_step::end;
        out.emplace(std::move(*r));
        return input_step::item;
    }

    void finish() noexcept {}
};

template<class T>
class channel_puller
{
    std::shared_ptr<channel<T>> ch_;

public:
    using value_type = T;

    explicit channel_puller(std::shared_ptr<channel<T>> ch) : ch_(std::move(ch)) {}

    input_step next(std::optional<T>& out, bool wait, std::stop_token const& st)
    {
        T v{};
        channel_status const s = wait ? ch_->pop(v, st) : ch_->try_pop(v);
        switch(s)
        {
        case channel_status::success:
            out.emplace(std::move(v));
            return input_step::item;
        case channel_status::empty:
            return input_step::idle;
        case channel_status::closed:
            return input_step::end;
        default:
            return input_step::stopped;
        }
    }

    void finish() noexcept {}
};

template<class T>
class inlet_puller
{
    std::shared_ptr<inlet<T>> in_;

public:
    using value_type = T;

    explicit inlet_puller(std::shared_ptr<inlet<T>> in) : in_(std::move(in)) {}
    /// Copied from the description into each run, without an item's context.
    inlet_puller(inlet_puller const& o) : in_(o.in_) {}
    inlet_puller(inlet_puller&&) noexcept = default;

    /// The pusher's context of the item `next` returned last.
    trace_ref trace_;

    input_step next(std::optional<T>& out, bool wait, std::stop_token const& st)
    {
        switch(in_->pop(out, trace_, wait, st))
        {
        case inlet<T>::pull::item:
            return input_step::item;
        case inlet<T>::pull::empty:
            return input_step::idle;
        case inlet<T>::pull::end:
            return input_step::end;
        default:
            return input_step::stopped;
        }
    }

    /// Pushers learn that nobody reads any more.
    void finish() noexcept { in_->close(); }
};

/// The source's fiber: pulls items and pushes them through its chain.
template<class Puller>
class source_segment final : public segment_loop<source_segment<Puller>>, public stage_base
{
    using T = typename Puller::value_type;
    using slice = segment_base::slice;

    Puller puller_;
    port<T>* next_;

    input_step pull(std::optional<T>& v, bool wait, std::stop_token const& st)
    {
        try
        {
            return puller_.next(v, wait, st);
        }
        catch(...)
        {
            caught_on_fiber();
            failed(std::current_exception(), false, 1);
            return input_step::stopped;
        }
    }

public:
    using item_type = std::optional<T>;

    source_segment(build_context const& cx, Puller p, port_base* next)
        : puller_(std::move(p)), next_(static_cast<port<T>*>(next))
    {
        init_stage(cx.rt, cx.st, cx.opts, cx.out, cx.budget);
        action_ = error_action::stop; // a source cannot skip: it would only ask again
    }

    input_step pull(std::optional<T>& v, std::stop_token const& st) { return pull(v, false, st); }

    /// Nothing now: the puller waits for the next item.
    input_step idle(std::optional<T>& v, std::stop_token const& st)
    {
        this->flush_output();
        input_step const r = pull(v, true, st);
        this->slice_budget_->waited();
        return r == input_step::item || r == input_step::end ? r : input_step::stopped;
    }

    bool process(std::optional<T>& v, std::stop_token const&)
    {
        rt_->in.add(1);
        rt_->out.add(1);
        // the item's context: its pusher's, or (pulled) the one `run` was called in
        slice_budget& budget = *this->slice_budget_;
        if constexpr(requires { puller_.trace_; })
            budget.trace = std::move(puller_.trace_);
        else if(BOOST_UNLIKELY(static_cast<bool>(st_->trace_)))
            budget.trace.reset(clone_trace(st_->trace_.get()));
        if(!next_->push(std::move(*v), 1))
            return false;
        v.reset();
        return true;
    }

    slice at_end() noexcept { return slice::done; }

    void on_finish(bool) noexcept override { puller_.finish(); }
};

template<class T>
class typed_node : public node
{
public:
    using node::node;

    std::unique_ptr<buffer_base> make_buffer(buffer_options const& o, stage_rt& consumer,
                                             stream_state& st) const override
    {
        return std::make_unique<buffer<T>>(o, consumer, st);
    }

    writer_parts make_writer(buffer_base& b, stream_state& st, slice_budget* budget) const override
    {
        auto w = std::make_unique<buffer_writer<T>>(static_cast<buffer<T>&>(b), st, budget, st.token());
        output_base* o = w.get();
        return {std::move(w), o};
    }
};

template<class Puller>
class source_node final : public typed_node<typename Puller::value_type>
{
    Puller proto_;

public:
    source_node(Puller p, stage_options opts)
        : typed_node<typename Puller::value_type>(nullptr, node_role::source, "source", std::move(opts))
        , proto_(std::move(p))
    {
    }

    std::unique_ptr<segment_base> make_segment(build_context const& cx, buffer_base*, port_base* next) const override
    {
        return std::make_unique<source_segment<Puller>>(cx, proto_, next);
    }
};

//------------------------------------------------------------------------------
// stateless stages (fusable)

/// The fiber of a segment that starts with a stateless stage: pops its
/// input buffer and pushes every item into the chain.
template<class In>
class pipe_segment final : public buffer_segment<pipe_segment<In>, In>
{
    port<In>* head_;

public:
    pipe_segment(buffer<In>& in, port<In>* head) : buffer_segment<pipe_segment<In>, In>(in), head_(head) {}

    bool process(item<In>* it, std::stop_token const&)
    {
        this->hand_on_trace();
        if(!head_->push(std::move(it->value), it->weight))
            return false;
        if(this->in_.chunk_done())
            this->flush_output();
        return true;
    }
};

template<class In, class Out>
class stateless_node : public typed_node<Out>
{
public:
    stateless_node(std::shared_ptr<node const> prev, char const* kind, stage_options opts)
        : typed_node<Out>(std::move(prev), node_role::stateless, kind, std::move(opts))
    {
    }

    bool copyable_input() const noexcept override { return std::is_copy_constructible_v<In>; }

    std::unique_ptr<segment_base> make_segment(build_context const& cx, buffer_base* in,
                                               port_base* next) const override
    {
        auto op = this->make_op(cx, next);
        auto seg = std::make_unique<pipe_segment<In>>(static_cast<buffer<In>&>(*in), static_cast<port<In>*>(op.get()));
        seg->ops_.push_back(std::move(op));
        return seg;
    }
};

/** What every stateless stage's op shares: its place in the chain and its
    stage's record, and the attempt at an item under the stage's error
    strategy.
*/
template<class Op, class In, class Out>
class stateless_op : public traced_port<Op, In>, public stage_base
{
protected:
    port<Out>* next_;

    stateless_op(build_context const& cx, port_base* next) : next_(static_cast<port<Out>*>(next))
    {
        init_stage(cx.rt, cx.st, cx.opts, cx.out, cx.budget);
    }

    /** Counts the item in, runs `call` on it under the stage's error
        strategy (retry, skip, stop) and ends the stage's span; an item
        that failed is counted as an error.
    */
    template<class Trace, class Call>
    attempt_result attempt(In& v, std::uint32_t w, Trace& trace, Call&& call)
    {
        rt_->in.add(w);
        auto const a = guarded(v, std::forward<Call>(call));
        trace.end(a != attempt_result::ok);
        if(BOOST_UNLIKELY(a != attempt_result::ok))
            rt_->errors.add(w);
        return a;
    }
};

/// The description of a stateless stage that runs a function `F` as an `Op`.
template<class In, class Out, class Op, class F>
class fn_node : public stateless_node<In, Out>
{
protected:
    F fn_;

public:
    fn_node(std::shared_ptr<node const> prev, char const* kind, F fn, stage_options opts)
        : stateless_node<In, Out>(std::move(prev), kind, std::move(opts)), fn_(std::move(fn))
    {
    }

    std::unique_ptr<port_base> make_op(build_context const& cx, port_base* next) const override
    {
        return std::make_unique<Op>(cx, fn_, next);
    }
};

template<class In, class Out, class F>
class map_op final : public stateless_op<map_op<In, Out, F>, In, Out>
{
    F fn_;

public:
    map_op(build_context const& cx, F fn, port_base* next)
        : stateless_op<map_op<In, Out, F>, In, Out>(cx, next), fn_(std::move(fn))
    {
    }

    template<class Trace>
    bool process(In&& v, std::uint32_t w, Trace& trace)
    {
        std::optional<Out> r;
        auto const a = this->attempt(v, w, trace, [&](auto&& x) {
            r.emplace(invoke_stage(fn_, std::forward<decltype(x)>(x), this->token_));
        });
        if(BOOST_UNLIKELY(a != attempt_result::ok))
            return a == attempt_result::skip;
        this->rt_->out.add(w);
        return this->next_->push(std::move(*r), w);
    }
};

template<class In, class Out, class F>
class map_node final : public fn_node<In, Out, map_op<In, Out, F>, F>
{
public:
    map_node(std::shared_ptr<node const> prev, F fn, stage_options opts)
        : fn_node<In, Out, map_op<In, Out, F>, F>(std::move(prev), "map", std::move(fn), std::move(opts))
    {
    }
};

template<class T, class P>
class filter_op final : public stateless_op<filter_op<T, P>, T, T>
{
    P pred_;

public:
    filter_op(build_context const& cx, P pred, port_base* next)
        : stateless_op<filter_op<T, P>, T, T>(cx, next), pred_(std::move(pred))
    {
    }

    template<class Trace>
    bool process(T&& v, std::uint32_t w, Trace& trace)
    {
        bool keep = false;
        auto const a = this->attempt(v, w, trace, [&](auto&& x) {
            keep = static_cast<bool>(std::invoke(pred_, std::as_const(x)));
        });
        if(BOOST_UNLIKELY(a != attempt_result::ok))
            return a == attempt_result::skip;
        if(!keep)
        {
            this->rt_->filtered.add(w);
            return true;
        }
        this->rt_->out.add(w);
        return this->next_->push(std::move(v), w);
    }
};

template<class T, class P>
class filter_node final : public fn_node<T, T, filter_op<T, P>, P>
{
public:
    filter_node(std::shared_ptr<node const> prev, P pred, stage_options opts)
        : fn_node<T, T, filter_op<T, P>, P>(std::move(prev), "filter", std::move(pred), std::move(opts))
    {
    }
};

template<class In, class Out, class F>
class flat_map_op final : public stateless_op<flat_map_op<In, Out, F>, In, Out>
{
    using range_type = stage_result_t<F, In>;

    F fn_;

public:
    flat_map_op(build_context const& cx, F fn, port_base* next)
        : stateless_op<flat_map_op<In, Out, F>, In, Out>(cx, next), fn_(std::move(fn))
    {
    }

    template<class Trace>
    bool process(In&& v, std::uint32_t w, Trace& trace)
    {
        std::optional<range_type> r;
        auto const a = this->attempt(v, w, trace, [&](auto&& x) {
            r.emplace(invoke_stage(fn_, std::forward<decltype(x)>(x), this->token_));
        });
        if(BOOST_UNLIKELY(a != attempt_result::ok))
            return a == attempt_result::skip;
        std::uint64_t k = 0;
        bool go_on = true;
        for(auto&& e : *r)
        {
            ++k;
            if(!this->next_->push(Out(element_of<range_type>(std::forward<decltype(e)>(e))), 1))
            {
                go_on = false;
                break;
            }
        }
        // the items now counted one by one: what was added, or what vanished
        if(k >= w)
            this->rt_->created.add(k - w);
        else
            this->rt_->filtered.add(w - k);
        this->rt_->out.add(k);
        return go_on;
    }
};

template<class In, class Out, class F>
class flat_map_node final : public fn_node<In, Out, flat_map_op<In, Out, F>, F>
{
public:
    flat_map_node(std::shared_ptr<node const> prev, F fn, stage_options opts)
        : fn_node<In, Out, flat_map_op<In, Out, F>, F>(std::move(prev), "flat_map", std::move(fn), std::move(opts))
    {
    }
};

template<class In, class Out, class P>
class via_op final : public stateless_op<via_op<In, Out, P>, In, Out>
{
    using result_type = process_result_t<P, In>;

    P p_;

public:
    via_op(build_context const& cx, P p, port_base* next)
        : stateless_op<via_op<In, Out, P>, In, Out>(cx, next), p_(std::move(p))
    {
    }

    template<class Trace>
    bool process(In&& v, std::uint32_t w, Trace& trace)
    {
        std::optional<result_type> r;
        auto const a = this->attempt(v, w, trace, [&](auto&& x) { r.emplace(p_.process(std::forward<decltype(x)>(x))); });
        if(BOOST_UNLIKELY(a != attempt_result::ok))
            return a == attempt_result::skip;
        if constexpr(optional_value<result_type>::is_optional)
        {
            if(!*r)
            {
                this->rt_->filtered.add(w);
                return true;
            }
            this->rt_->out.add(w);
            return this->next_->push(std::move(**r), w);
        }
        else
        {
            this->rt_->out.add(w);
            return this->next_->push(std::move(*r), w);
        }
    }
};

template<class In, class Out, class P>
class via_node final : public fn_node<In, Out, via_op<In, Out, P>, P>
{
public:
    via_node(std::shared_ptr<node const> prev, P p, stage_options opts)
        : fn_node<In, Out, via_op<In, Out, P>, P>(std::move(prev), "via", std::move(p), std::move(opts))
    {
        if(this->opts_.name.empty())
            this->opts_.name = std::string(this->fn_.name());
    }
};

//------------------------------------------------------------------------------
// batch

template<class T>
class batch_segment final : public buffer_segment<batch_segment<T>, T>, public stage_base
{
    using slice = segment_base::slice;

    port<std::vector<T>>* next_;
    std::size_t n_;
    std::chrono::nanoseconds max_wait_;
    timer_service* timers_;
    std::vector<T> acc_;
    std::uint64_t weight_ = 0;
    timer_service::time_point deadline_{};
    /// The trace context of the batch's first item: the batch's own.
    trace_ref first_trace_;

    bool emit()
    {
        auto const w = static_cast<std::uint32_t>(std::min<std::uint64_t>(weight_, std::numeric_limits<std::uint32_t>::max()));
        std::vector<T> b;
        b.swap(acc_);
        acc_.reserve(n_);
        weight_ = 0;
        rt_->out.add(w);
        if(BOOST_UNLIKELY(first_trace_ || this->slice_budget_->trace))
            this->slice_budget_->trace = std::move(first_trace_);
        return next_->push(std::move(b), w);
    }

public:
    batch_segment(build_context const& cx, buffer<T>& in, port_base* next, std::size_t n, std::chrono::nanoseconds max_wait)
        : buffer_segment<batch_segment<T>, T>(in)
        , next_(static_cast<port<std::vector<T>>*>(next))
        , n_(n)
        , max_wait_(max_wait)
        , timers_(&timers_of(cx.st))
    {
        init_stage(cx.rt, cx.st, cx.opts, cx.out, cx.budget);
        acc_.reserve(n_);
    }

    bool process(item<T>* it, std::stop_token const&)
    {
        if(acc_.empty())
        {
            deadline_ = wait_deadline::saturate(timers_->now(), max_wait_);
            if(BOOST_UNLIKELY(this->in_.traced()))
                first_trace_ = this->in_.take_trace();
        }
        rt_->in.add(it->weight);
        weight_ += it->weight;
        acc_.push_back(std::move(it->value));
        if(acc_.size() >= n_ && !emit())
            return false;
        if(this->in_.chunk_done())
        {
            if(!acc_.empty() && timers_->now() >= deadline_ && !emit())
                return false;
            this->flush_output();
        }
        return true;
    }

    /// Nothing now: a batch whose time is up goes, else wait for an item
    /// until the batch's deadline.
    input_step idle(item<T>*&, std::stop_token const& st)
    {
        if(!acc_.empty() && timers_->now() >= deadline_)
            return emit() ? input_step::idle : input_step::stopped;
        this->flush_output();
        auto const dl = acc_.empty() ? wait_deadline::never() : wait_deadline::at(*timers_, deadline_);
        auto const s = this->in_.wait(dl, st);
        this->slice_budget_->waited();
        if(s == wake_status::cancelled)
            return input_step::stopped;
        if(s == wake_status::timeout && !acc_.empty() && !emit())
            return input_step::stopped;
        return input_step::idle;
    }

    slice at_end()
    {
        if(!acc_.empty() && !emit())
            return slice::stopped;
        return slice::done;
    }
};

template<class T>
class batch_node final : public typed_node<std::vector<T>>
{
    std::size_t n_;
    std::chrono::nanoseconds max_wait_;

public:
    batch_node(std::shared_ptr<node const> prev, std::size_t n, std::chrono::nanoseconds max_wait, stage_options opts)
        : typed_node<std::vector<T>>(std::move(prev), node_role::async, "batch", std::move(opts))
        , n_(n)
        , max_wait_(max_wait)
    {
    }

    std::string check() const override
    {
        if(n_ == 0)
            return "batch size must be at least 1";
        if(max_wait_ <= std::chrono::nanoseconds::zero())
            return "batch max_wait must be positive";
        return {};
    }

    bool copyable_input() const noexcept override { return std::is_copy_constructible_v<T>; }

    std::unique_ptr<segment_base> make_segment(build_context const& cx, buffer_base* in,
                                               port_base* next) const override
    {
        return std::make_unique<batch_segment<T>>(cx, static_cast<buffer<T>&>(*in), next, n_, max_wait_);
    }
};

//------------------------------------------------------------------------------
// throttle

/** A token bucket kept as a theoretical arrival time (GCRA): an item may
    pass at `now` if `now >= tat - tau`, and passing moves `tat` one
    interval on. `tau` is `(burst - 1)` intervals.
*/
template<class T>
class throttle_segment final : public buffer_segment<throttle_segment<T>, T>, public stage_base
{
    port<T>* next_;
    timer_service* timers_;
    std::chrono::nanoseconds interval_;
    std::size_t burst_;
    std::chrono::nanoseconds tau_;
    bool started_ = false;
    timer_service::time_point tat_{};

public:
    throttle_segment(build_context const& cx, buffer<T>& in, port_base* next, double per_second, std::size_t burst)
        : buffer_segment<throttle_segment<T>, T>(in)
        , next_(static_cast<port<T>*>(next))
        , timers_(&timers_of(cx.st))
        , interval_(std::max<std::int64_t>(1, static_cast<std::int64_t>(1e9 / per_second)))
        , burst_(burst)
        , tau_(interval_ * static_cast<std::int64_t>(burst - 1))
    {
        init_stage(cx.rt, cx.st, cx.opts, cx.out, cx.budget);
    }

    bool process(item<T>* it, std::stop_token const& st)
    {
        rt_->in.add(it->weight);
        auto now = timers_->now();
        if(!started_)
        {
            tat_ = now;
            started_ = true;
        }
        if(now < tat_ - tau_)
        {
            // sleep once for the items waiting (up to a burst), not once per item
            std::size_t const waiting = 1 + this->in_.in_hand() + this->in_.source().depth();
            auto const k = static_cast<std::int64_t>(std::min(burst_, waiting));
            auto const wake = tat_ - tau_ + interval_ * (k - 1);
            this->flush_output();
            if(!timers_->sleep_until(wake, st))
                return false;
            this->slice_budget_->waited();
            now = timers_->now();
        }
        tat_ = std::max(tat_, now) + interval_;
        rt_->out.add(it->weight);
        this->hand_on_trace();
        if(!next_->push(std::move(it->value), it->weight))
            return false;
        if(this->in_.chunk_done())
            this->flush_output();
        return true;
    }
};

template<class T>
class throttle_node final : public typed_node<T>
{
    double rate_;
    std::size_t burst_;

public:
    throttle_node(std::shared_ptr<node const> prev, double rate, std::size_t burst, stage_options opts)
        : typed_node<T>(std::move(prev), node_role::async, "throttle", std::move(opts)), rate_(rate), burst_(burst)
    {
    }

    std::string check() const override
    {
        if(!(rate_ > 0) || rate_ > 1e9)
            return "throttle rate must be positive and at most 1e9 per second";
        return {};
    }

    std::unique_ptr<segment_base> make_segment(build_context const& cx, buffer_base* in,
                                               port_base* next) const override
    {
        std::size_t burst = burst_;
        if(burst == 0)
            burst = std::max<std::size_t>(1, static_cast<std::size_t>(rate_ / 20));
        return std::make_unique<throttle_segment<T>>(cx, static_cast<buffer<T>&>(*in), next, rate_, burst);
    }
};

//------------------------------------------------------------------------------
// map_parallel

template<class In, class Out, class F>
class par_shared final : public par_core_base, public stage_base
{
public:
    enum : std::uint8_t
    {
        idle,
        running,
        ok,
        skipped,
        stopped
    };

    struct slot
    {
        std::optional<In> input;
        std::optional<Out> output;
        std::uint32_t weight = 0;
        std::atomic<std::uint8_t> state{idle};
        /// The item's trace context; after its run, the lane span's.
        trace_ref trace;
    };

    F const fn_;
    std::size_t const n_;
    bool const ordered_;
    std::unique_ptr<slot[]> slots_;
    tbb::concurrent_queue<std::uint32_t> done_; // unordered: finished slots

    par_shared(build_context const& cx, F fn, std::size_t n, bool ordered)
        : fn_(std::move(fn)), n_(n), ordered_(ordered), slots_(new slot[n])
    {
        keep_ = cx.st.shared_from_this();
        init_stage(cx.rt, cx.st, cx.opts, nullptr, nullptr); // lanes run on other fibers
        lane_dead_.reset(new std::atomic<bool>[n]);
        for(std::size_t i = 0; i < n; ++i)
            lane_dead_[i].store(false, std::memory_order_relaxed);
    }

    std::size_t width() const noexcept override { return n_; }

    void run_job(std::uint32_t i) noexcept override
    {
        slot& s = slots_[i];
        st_->busy_lanes_.fetch_add(1, std::memory_order_relaxed);
        trace_ref item_trace = std::move(s.trace);
        attempt_result a;
        {
            stage_trace trace(*this, item_trace);
            a = guarded(*s.input, [&](auto&& x) {
                s.output.emplace(invoke_stage(fn_, std::forward<decltype(x)>(x), token_));
            });
            trace.end(a != attempt_result::ok);
            s.trace = std::move(item_trace); // the span's, for what the stage emits
        }
        s.input.reset();
        st_->busy_lanes_.fetch_sub(1, std::memory_order_relaxed);
        // the coordinator may finish as soon as it sees this: `keep_` holds
        // the stream's state (and `wake_` in it) for the rest of this call
        s.state.store(a == attempt_result::ok ? ok : a == attempt_result::skip ? skipped : stopped,
                      std::memory_order_release);
        if(!ordered_)
        {
            try
            {
                done_.push(i);
            }
            catch(...)
            {
                st_->fail(make_error_code(stream_error::stage_failed), rt_->name, "out of memory", nullptr);
            }
        }
        wake_->notify();
    }
};

/// map_parallel's coordinator: dispatches items to lanes, emits results.
template<class In, class Out, class F>
class par_segment final : public segment_base
{
    using core_type = par_shared<In, Out, F>;

    buffer_reader<In> in_;
    port<Out>* next_;
    std::shared_ptr<core_type> core_;
    stage_rt* rt_;
    std::size_t const n_;
    std::uint64_t seq_ = 0;
    std::uint64_t head_ = 0;
    std::size_t inflight_ = 0;
    std::vector<std::uint32_t> free_;
    bool ended_ = false;

    bool reap(typename core_type::slot& s)
    {
        auto const k = s.state.load(std::memory_order_acquire);
        auto const w = s.weight;
        s.state.store(core_type::idle, std::memory_order_relaxed);
        if(BOOST_UNLIKELY(s.trace || slice_budget_->trace))
            slice_budget_->trace = std::move(s.trace);
        if(k == core_type::ok)
        {
            rt_->out.add(w);
            Out o = std::move(*s.output);
            s.output.reset();
            return next_->push(std::move(o), w);
        }
        rt_->errors.add(w);
        return k == core_type::skipped; // stopped: the lane recorded why
    }

    /// The next slot whose item is settled, if any: in order, only the oldest.
    bool settled_slot(std::uint32_t& i)
    {
        if(!core_->ordered_)
            return core_->done_.try_pop(i);
        if(inflight_ == 0)
            return false;
        i = static_cast<std::uint32_t>(head_ % n_);
        return core_->slots_[i].state.load(std::memory_order_acquire) >= core_type::ok;
    }

    bool reapable() const noexcept
    {
        if(inflight_ == 0)
            return false;
        if(core_->ordered_)
            return core_->slots_[head_ % n_].state.load(std::memory_order_acquire) >= core_type::ok;
        return !core_->done_.empty();
    }

    bool settled() const noexcept
    {
        for(std::size_t i = 0; i < n_; ++i)
            if(core_->slots_[i].state.load(std::memory_order_acquire) == core_type::running &&
               !core_->lane_dead_[i].load(std::memory_order_acquire))
                return false;
        return true;
    }

public:
    par_segment(build_context const& cx, buffer<In>& in, port_base* next, std::shared_ptr<core_type> core)
        : in_(in), next_(static_cast<port<Out>*>(next)), core_(std::move(core)), rt_(&cx.rt), n_(core_->n_)
    {
        core_->wake_ = &in.not_empty_;
        if(!core_->ordered_)
            for(std::size_t i = n_; i-- > 0;)
                free_.push_back(static_cast<std::uint32_t>(i));
    }

    std::shared_ptr<par_core_base> par_core() noexcept override { return core_; }

    slice run(std::stop_token const& st) override
    {
        slice_budget& budget = *slice_budget_;
        budget.begin();
        event_count& wake = in_.source().not_empty_;
        for(;;)
        {
            bool progress = false;
            for(std::uint32_t i = 0; settled_slot(i);)
            {
                if(!reap(core_->slots_[i]))
                    return slice::stopped;
                if(core_->ordered_)
                    ++head_;
                else
                    free_.push_back(i);
                --inflight_;
                progress = true;
                if(auto const t = tick(st); t != tick_result::go)
                    return t == tick_result::more ? slice::more : slice::stopped;
            }
            if(st.stop_requested())
                return slice::stopped;
            while(!ended_ && inflight_ < n_)
            {
                item<In>* it = nullptr;
                auto const r = in_.next(it);
                if(r == buffer_reader<In>::pull::empty)
                    break;
                if(r == buffer_reader<In>::pull::end)
                {
                    ended_ = true;
                    break;
                }
                std::uint32_t idx = 0;
                if(core_->ordered_)
                {
                    idx = static_cast<std::uint32_t>(seq_ % n_);
                }
                else
                {
                    idx = free_.back();
                    free_.pop_back();
                }
                auto& s = core_->slots_[idx];
                s.input.emplace(std::move(it->value));
                s.weight = it->weight;
                if(BOOST_UNLIKELY(in_.traced()))
                    s.trace = in_.take_trace();
                s.state.store(core_type::running, std::memory_order_relaxed);
                rt_->in.add(it->weight);
                ++seq_;
                ++inflight_;
                progress = true;
                if(!dispatch_lane(*core_, idx, idx))
                {
                    s.input.reset();
                    state_->cancel(error::system_stopped);
                    return slice::stopped;
                }
            }
            if(ended_ && inflight_ == 0)
                return slice::done;
            if(progress)
            {
                if(budget.spent(std::chrono::steady_clock::now()))
                {
                    flush_output();
                    return slice::more;
                }
                continue;
            }
            flush_output();
            auto const key = wake.prepare_wait();
            if(reapable() || (!ended_ && inflight_ < n_ && in_.ready()))
            {
                wake.cancel_wait();
                continue;
            }
            if(wake.wait(key, wait_deadline::never(), st) == wake_status::cancelled)
                return slice::stopped;
            budget.waited();
        }
    }

    void on_finish(bool) noexcept override
    {
        // The segment ends only when no lane still works for it: then the
        // stream's end means that none of its fibers runs any more.
        event_count& wake = in_.source().not_empty_;
        try
        {
            for(;;)
            {
                auto const key = wake.prepare_wait();
                if(settled())
                {
                    wake.cancel_wait();
                    break;
                }
                wake.wait(key, wait_deadline::never(), {});
            }
        }
        catch(...)
        {
        }
        stop_lanes(*core_);
    }
};

template<class In, class Out, class F>
class par_node final : public typed_node<Out>
{
    F fn_;
    std::size_t n_;
    ordering order_;

public:
    par_node(std::shared_ptr<node const> prev, std::size_t n, F fn, ordering order, stage_options opts)
        : typed_node<Out>(std::move(prev), node_role::async, "map_parallel", std::move(opts))
        , fn_(std::move(fn))
        , n_(n)
        , order_(order)
    {
    }

    std::string check() const override
    {
        if(n_ == 0 || n_ > 4096)
            return "map_parallel width must be between 1 and 4096";
        return {};
    }

    bool copyable_input() const noexcept override { return std::is_copy_constructible_v<In>; }

    std::size_t lanes() const noexcept override { return n_; }

    std::unique_ptr<segment_base> make_segment(build_context const& cx, buffer_base* in,
                                               port_base* next) const override
    {
        auto core = std::make_shared<par_shared<In, Out, F>>(cx, fn_, n_, order_ == ordering::ordered);
        return std::make_unique<par_segment<In, Out, F>>(cx, static_cast<buffer<In>&>(*in), next, std::move(core));
    }
};

//------------------------------------------------------------------------------
// boundary

template<class T>
class boundary_node final : public typed_node<T>
{
public:
    boundary_node(std::shared_ptr<node const> prev, std::optional<buffer_options> o)
        : typed_node<T>(std::move(prev), node_role::boundary, "buffer", {})
    {
        this->boundary_ = o;
    }

    std::unique_ptr<segment_base> make_segment(build_context const&, buffer_base*, port_base*) const override
    {
        return nullptr; // never a stage of its own
    }
};

//------------------------------------------------------------------------------
// sinks

enum class delivery : std::uint8_t
{
    delivered,
    skipped, ///< the function threw and the stage skips
    dropped, ///< the receiver refused it (counted as dropped)
    stop
};

template<class T, class Deliver>
class sink_segment final : public buffer_segment<sink_segment<T, Deliver>, T>, public stage_base
{
    using slice = segment_base::slice;

    Deliver deliver_;

    BOOST_NOINLINE delivery deliver_traced(T& v)
    {
        this->slice_budget_->trace = this->in_.take_trace();
        stage_trace trace(*this);
        delivery const d = deliver_(*this, v);
        trace.end(d == delivery::skipped || d == delivery::stop);
        return d;
    }

public:
    sink_segment(build_context const& cx, buffer<T>& in, Deliver d)
        : buffer_segment<sink_segment<T, Deliver>, T>(in), deliver_(std::move(d))
    {
        init_stage(cx.rt, cx.st, cx.opts, nullptr, cx.budget);
    }

    bool process(item<T>* it, std::stop_token const&)
    {
        auto const w = it->weight;
        delivery const d = this->in_.traced() ? deliver_traced(it->value) : deliver_(*this, it->value);
        switch(d)
        {
        case delivery::delivered:
            rt_->in.add(w);
            rt_->out.add(w);
            break;
        case delivery::skipped:
            rt_->in.add(w);
            rt_->errors.add(w);
            break;
        case delivery::dropped: // refused by the receiver: dropped on its way, as by a buffer
            rt_->add_dropped(w);
            break;
        case delivery::stop:
            rt_->in.add(w);
            rt_->errors.add(w);
            return false;
        }
        return true;
    }

    slice at_end()
    {
        deliver_.finish();
        this->flush_stats();
        st_->mark_completed();
        return slice::done;
    }
};

template<class T, class F>
struct callback_delivery
{
    F fn;

    delivery operator()(stage_base& s, T& v)
    {
        switch(s.guarded(v, [&](auto&& x) { invoke_stage(fn, std::forward<decltype(x)>(x), s.token_); }))
        {
        case attempt_result::ok:
            return delivery::delivered;
        case attempt_result::skip:
            return delivery::skipped;
        default:
            return delivery::stop;
        }
    }

    void finish() noexcept {}
};

/// Records a sink's delivery failure (not an exception) naming the stage.
SPINDLE_DECL void fail_sink(stage_base& s, stream_error e, char const* what) noexcept;

template<class T>
struct channel_delivery
{
    std::shared_ptr<channel<T>> ch;
    bool close_at_end;

    delivery operator()(stage_base& s, T& v)
    {
        switch(ch->push(std::move(v), s.token_))
        {
        case channel_status::success:
            return delivery::delivered;
        case channel_status::closed:
            fail_sink(s, stream_error::sink_closed, "the channel was closed");
            return delivery::stop;
        default:
            return delivery::stop;
        }
    }

    void finish() noexcept
    {
        if(close_at_end)
            ch->close();
    }
};

template<class T, class A>
struct actor_delivery
{
    actor_ref<A> to;

    delivery operator()(stage_base& s, T& v)
    {
        switch(to.tell(std::move(v)))
        {
        case send_status::ok:
            return delivery::delivered;
        case send_status::stopped:
            fail_sink(s, stream_error::sink_closed, "the actor stopped");
            return delivery::stop;
        default:
            return delivery::dropped;
        }
    }

    void finish() noexcept {}
};

template<class T, class C>
struct collect_delivery
{
    typed_state<C>* st;

    delivery operator()(stage_base&, T& v)
    {
        st->value_.insert(st->value_.end(), std::move(v));
        return delivery::delivered;
    }

    void finish() noexcept {}
};

template<class T, class Make>
class sink_node final : public node
{
    Make make_; // stream_state& -> the delivery

public:
    sink_node(std::shared_ptr<node const> prev, Make make, stage_options opts)
        : node(std::move(prev), node_role::sink, "sink", std::move(opts)), make_(std::move(make))
    {
    }

    bool copyable_input() const noexcept override { return std::is_copy_constructible_v<T>; }

    std::unique_ptr<buffer_base> make_buffer(buffer_options const&, stage_rt&, stream_state&) const override
    {
        return nullptr;
    }

    writer_parts make_writer(buffer_base&, stream_state&, slice_budget*) const override { return {}; }

    std::unique_ptr<segment_base> make_segment(build_context const& cx, buffer_base* in, port_base*) const override
    {
        auto d = make_(cx.st);
        return std::make_unique<sink_segment<T, decltype(d)>>(cx, static_cast<buffer<T>&>(*in), std::move(d));
    }
};

template<class T, class Make>
std::shared_ptr<node const> make_sink(std::shared_ptr<node const> prev, Make make, stage_options opts)
{
    return std::make_shared<sink_node<T, Make>>(std::move(prev), std::move(make), std::move(opts));
}

[[noreturn]] SPINDLE_DECL void throw_stream_error(boost::system::error_code ec, std::string const& what);
[[noreturn]] SPINDLE_DECL void throw_stream_failure(stream_state const& st);

} // namespace detail

//------------------------------------------------------------------------------
// push sources

template<class T>
push_source<T>::push_source(std::size_t capacity)
{
    if(capacity == 0)
        detail::throw_error(error::invalid_argument, "spindle::push_source: capacity must be at least 1");
    inlet_ = std::make_shared<detail::inlet<T>>(capacity);
}

template<class T>
actor_source<T>::actor_source(spindle::system& sys, std::size_t capacity, spawn_options const& opts)
    : src_(capacity)
{
    ref_ = sys.spawn_with<stream_inlet<T>>(opts, src_);
}

//------------------------------------------------------------------------------
// stream_handle

template<class R>
std::string const& stream_handle<R>::name() const noexcept
{
    static std::string const empty;
    return st_ ? st_->name_ : empty;
}

template<class R>
bool stream_handle<R>::wait_for(std::chrono::nanoseconds d) const
{
    if(!st_)
        return true;
    return st_->done_.wait(detail::wait_deadline::after(*st_->timers_, d), {}) == detail::wake_status::done;
}

template<class R>
boost::system::result<R> const& stream_handle<R>::result() const
{
    if(!st_)
    {
        static boost::system::result<R> const empty(boost::system::in_place_error,
                                                    make_error_code(error::invalid_argument));
        return empty;
    }
    wait();
    return *st_->result_;
}

template<class R>
std::add_lvalue_reference_t<R const> stream_handle<R>::get() const&
{
    if(!st_)
        detail::throw_error(error::invalid_argument, "spindle::stream_handle::get: empty handle");
    auto const& r = result();
    if(!r)
        detail::throw_stream_failure(*st_);
    if constexpr(!std::is_void_v<R>)
        return *r;
}

template<class R>
R stream_handle<R>::get() &&
{
    if(!st_)
        detail::throw_error(error::invalid_argument, "spindle::stream_handle::get: empty handle");
    result();
    auto& r = *st_->result_;
    if(!r)
        detail::throw_stream_failure(*st_);
    if constexpr(!std::is_void_v<R>)
        return std::move(*r);
}

template<class R>
bool stream_handle<R>::cancel() const noexcept
{
    if(!st_ || st_->done_.ready())
        return false;
    return st_->cancel(make_error_code(error::cancelled));
}

template<class R>
std::string stream_handle<R>::failed_stage() const
{
    return st_ ? st_->failed_stage() : std::string();
}

template<class R>
std::string stream_handle<R>::failure_message() const
{
    return st_ && st_->done_.ready() && st_->end() != detail::stream_state::end_kind::completed ? st_->describe()
                                                                                                  : std::string();
}

template<class R>
std::exception_ptr stream_handle<R>::exception() const
{
    return st_ ? st_->exception() : nullptr;
}

template<class R>
stream_stats stream_handle<R>::stats() const
{
    return st_ ? st_->stats() : stream_stats{};
}

template<class R>
template<class F>
void stream_handle<R>::on_complete(F&& fn) const
{
    if(!st_)
    {
        try
        {
            fn();
        }
        catch(...)
        {
        }
        return;
    }
    st_->done_.on_complete(std::function<void()>(std::forward<F>(fn)));
}

//------------------------------------------------------------------------------
// runnable_stream

template<class R>
stream_handle<R> runnable_stream<R>::run(spindle::system& sys, stream_options const& opts,
                                         boost::system::error_code& ec) const
{
    auto st = std::make_shared<detail::typed_state<R>>();
    std::string why;
    detail::launch(sys, *last_, opts, st, ec, why);
    if(ec)
        return {};
    return stream_handle<R>(std::move(st));
}

template<class R>
stream_handle<R> runnable_stream<R>::run(spindle::system& sys, stream_options const& opts) const
{
    auto st = std::make_shared<detail::typed_state<R>>();
    boost::system::error_code ec;
    std::string why;
    detail::launch(sys, *last_, opts, st, ec, why);
    if(ec)
        detail::throw_stream_error(ec, why);
    return stream_handle<R>(std::move(st));
}

//------------------------------------------------------------------------------
// stream

template<class T>
template<class F>
    requires std::invocable<F&, T&&> || std::invocable<F&, T&&, std::stop_token const&>
auto stream<T>::map(F fn, stage_options opts) const -> stream<detail::stage_result_t<F, T>>
{
    using out_type = detail::stage_result_t<F, T>;
    return stream<out_type>(std::make_shared<detail::map_node<T, out_type, F>>(last_, std::move(fn), std::move(opts)));
}

template<class T>
template<class P>
    requires std::predicate<P&, T const&>
stream<T> stream<T>::filter(P pred, stage_options opts) const
{
    return stream<T>(std::make_shared<detail::filter_node<T, P>>(last_, std::move(pred), std::move(opts)));
}

template<class T>
template<class F>
    requires std::invocable<F&, T&&> || std::invocable<F&, T&&, std::stop_token const&>
auto stream<T>::flat_map(F fn, stage_options opts) const
    -> stream<std::remove_cvref_t<std::ranges::range_value_t<detail::stage_result_t<F, T>>>>
{
    using out_type = std::remove_cvref_t<std::ranges::range_value_t<detail::stage_result_t<F, T>>>;
    return stream<out_type>(
        std::make_shared<detail::flat_map_node<T, out_type, F>>(last_, std::move(fn), std::move(opts)));
}

template<class T>
template<class P>
    requires stream_processor<P, T>
auto stream<T>::via(P processor, stage_options opts) const
    -> stream<typename detail::optional_value<detail::process_result_t<P, T>>::type>
{
    using out_type = typename detail::optional_value<detail::process_result_t<P, T>>::type;
    return stream<out_type>(
        std::make_shared<detail::via_node<T, out_type, P>>(last_, std::move(processor), std::move(opts)));
}

template<class T>
stream<std::vector<T>> stream<T>::batch(std::size_t n, std::chrono::nanoseconds max_wait, stage_options opts) const
{
    return stream<std::vector<T>>(std::make_shared<detail::batch_node<T>>(last_, n, max_wait, std::move(opts)));
}

template<class T>
stream<T> stream<T>::throttle(double per_second, std::size_t burst, stage_options opts) const
{
    return stream<T>(std::make_shared<detail::throttle_node<T>>(last_, per_second, burst, std::move(opts)));
}

template<class T>
template<class F>
    requires std::invocable<F const&, T&&> || std::invocable<F const&, T&&, std::stop_token const&>
auto stream<T>::map_parallel(std::size_t n, F fn, ordering order, stage_options opts) const
    -> stream<detail::stage_result_t<F const, T>>
{
    using out_type = detail::stage_result_t<F const, T>;
    return stream<out_type>(
        std::make_shared<detail::par_node<T, out_type, F>>(last_, n, std::move(fn), order, std::move(opts)));
}

template<class T>
stream<T> stream<T>::buffer(buffer_options opts) const
{
    return stream<T>(std::make_shared<detail::boundary_node<T>>(last_, opts));
}

template<class T>
stream<T> stream<T>::async() const
{
    return stream<T>(std::make_shared<detail::boundary_node<T>>(last_, std::nullopt));
}

template<class T>
template<class F>
    requires std::invocable<F&, T&&> || std::invocable<F&, T&&, std::stop_token const&>
runnable_stream<void> stream<T>::for_each(F fn, stage_options opts) const
{
    auto make = [fn = std::move(fn)](detail::stream_state&) { return detail::callback_delivery<T, F>{fn}; };
    return runnable_stream<void>(detail::make_sink<T>(last_, std::move(make), std::move(opts)));
}

template<class T>
runnable_stream<void> stream<T>::to_channel(std::shared_ptr<channel<T>> ch, bool close_at_end, stage_options opts) const
{
    auto make = [ch = std::move(ch), close_at_end](detail::stream_state&) {
        return detail::channel_delivery<T>{ch, close_at_end};
    };
    return runnable_stream<void>(detail::make_sink<T>(last_, std::move(make), std::move(opts)));
}

template<class T>
template<class A>
runnable_stream<void> stream<T>::to_actor(actor_ref<A> to, stage_options opts) const
{
    auto make = [to = std::move(to)](detail::stream_state&) { return detail::actor_delivery<T, A>{to}; };
    return runnable_stream<void>(detail::make_sink<T>(last_, std::move(make), std::move(opts)));
}

template<class T>
template<class C>
runnable_stream<C> stream<T>::collect(stage_options opts) const
{
    auto make = [](detail::stream_state& st) {
        return detail::collect_delivery<T, C>{static_cast<detail::typed_state<C>*>(&st)};
    };
    return runnable_stream<C>(detail::make_sink<T>(last_, std::move(make), std::move(opts)));
}

//------------------------------------------------------------------------------
// sources

template<std::ranges::input_range R>
    requires std::copy_constructible<std::remove_cvref_t<R>>
auto from_range(R&& r) -> stream<std::remove_cvref_t<std::ranges::range_value_t<R>>>
{
    using puller = detail::range_puller<std::remove_cvref_t<R>>;
    using T = std::remove_cvref_t<std::ranges::range_value_t<R>>;
    return stream<T>(std::make_shared<detail::source_node<puller>>(puller(std::forward<R>(r)), stage_options{}));
}

namespace detail {
template<class F, bool = std::is_invocable_v<F&, std::stop_token const&>>
struct generator_result
{
    using type = std::remove_cvref_t<std::invoke_result_t<F&, std::stop_token const&>>;
};
template<class F>
struct generator_result<F, false>
{
    using type = std::remove_cvref_t<std::invoke_result_t<F&>>;
};
} // namespace detail

template<class F>
    requires std::invocable<F&> || std::invocable<F&, std::stop_token const&>
auto from_generator(F fn, stage_options opts)
{
    using result_type = typename detail::generator_result<F>::type;
    static_assert(detail::optional_value<result_type>::is_optional,
                  "spindle::from_generator: the function must return a std::optional<T>");
    using T = typename detail::optional_value<result_type>::type;
    using puller = detail::generator_puller<F, T>;
    return stream<T>(std::make_shared<detail::source_node<puller>>(puller(std::move(fn)), std::move(opts)));
}

template<class T>
stream<T> from_channel(std::shared_ptr<channel<T>> ch, stage_options opts)
{
    static_assert(std::is_default_constructible_v<T>, "spindle::from_channel: T must be default constructible");
    using puller = detail::channel_puller<T>;
    return stream<T>(std::make_shared<detail::source_node<puller>>(puller(std::move(ch)), std::move(opts)));
}

template<class T>
stream<T> from_source(push_source<T> const& src, stage_options opts)
{
    using puller = detail::inlet_puller<T>;
    return stream<T>(std::make_shared<detail::source_node<puller>>(puller(src.inlet()), std::move(opts)));
}

template<class T>
stream<T> from_source(actor_source<T> const& src, stage_options opts)
{
    return from_source(src.source(), std::move(opts));
}

} // namespace spindle

#endif
