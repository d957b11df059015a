//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_IMPL_EXECUTOR_HPP
#define SPINDLE_IMPL_EXECUTOR_HPP

#include <type_traits>
#include <utility>

namespace spindle {

template<class F>
auto executor::make_task(F&& f, task_options const& opts, bool may_wait, boost::system::error_code& ec)
    -> task_handle<detail::task_result_t<std::decay_t<F>>>
{
    using fn_type = std::decay_t<F>;
    using value_type = detail::task_result_t<fn_type>;
    if(!check(opts, ec))
        return {};
    // adopts the creation reference; the queue takes its own in enqueue
    boost::intrusive_ptr<detail::task_state<value_type>> st(
        new detail::task_impl<value_type, fn_type>(std::forward<F>(f)), false);
    st->priority_ = opts.priority;
    st->strategy_ = opts.on_error;
    st->timeout_ = opts.timeout;
    if(opts.on_error == error_strategy::retry_with_backoff || opts.on_error == error_strategy::circuit_breaker)
        st->policy_.reset(new detail::task_policy{opts.retry, opts.breaker});
    st->timers_ = timers();
    if(!enqueue(st.get(), may_wait, ec))
        return {};
    return task_handle<value_type>(std::move(st));
}

template<class F>
    requires detail::task_callable<std::decay_t<F>>
auto executor::submit(F&& f, task_options const& opts) -> task_handle<detail::task_result_t<std::decay_t<F>>>
{
    boost::system::error_code ec;
    auto h = make_task(std::forward<F>(f), opts, true, ec);
    if(ec)
        detail::throw_error(ec, "spindle::executor::submit");
    return h;
}

template<class F>
    requires detail::task_callable<std::decay_t<F>>
auto executor::submit(F&& f, task_options const& opts, boost::system::error_code& ec)
    -> task_handle<detail::task_result_t<std::decay_t<F>>>
{
    return make_task(std::forward<F>(f), opts, true, ec);
}

template<class F>
    requires detail::task_callable<std::decay_t<F>>
auto executor::try_submit(F&& f, task_options const& opts) -> task_handle<detail::task_result_t<std::decay_t<F>>>
{
    boost::system::error_code ec;
    auto h = make_task(std::forward<F>(f), opts, false, ec);
    if(ec)
        detail::throw_error(ec, "spindle::executor::try_submit");
    return h;
}

template<class F>
    requires detail::task_callable<std::decay_t<F>>
auto executor::try_submit(F&& f, task_options const& opts, boost::system::error_code& ec)
    -> task_handle<detail::task_result_t<std::decay_t<F>>>
{
    return make_task(std::forward<F>(f), opts, false, ec);
}

} // namespace spindle

#endif
