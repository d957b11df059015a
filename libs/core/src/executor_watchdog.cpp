//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The executor's watch over running tasks: one timer per lane ends an
// attempt that runs past its deadline (and tells its breaker), and a
// periodic watchdog counts and logs the tasks that ignore their stop
// request for longer than `stop_grace`.

#include "executor_impl.hpp"

#include <spindle/log.hpp>

namespace spindle::detail {

void executor_impl::arm_watch(lane_slot& s, std::size_t slot, std::uint64_t gen, std::int64_t deadline,
                              timer_id old) noexcept
{
    if(old)
        timers_.cancel(old);
    boost::system::error_code ec;
    timer_id id{};
    try
    {
        std::weak_ptr<executor_impl> weak = weak_from_this();
        id = timers_.start_at(
            timer_service::time_point(std::chrono::nanoseconds(deadline)),
            [weak, slot, gen] {
                if(auto ex = weak.lock())
                    ex->on_watch(slot, gen);
            },
            ec);
    }
    catch(...)
    {
        ec = error::system_stopped; // out of memory: this attempt runs unwatched
    }
    std::lock_guard lk(s.lock);
    if(s.watch_gen == gen)
    {
        if(ec)
            s.watch_at = 0; // timers are down (system stopping): nothing to watch with
        else
            s.watch_id = id;
    }
}

void executor_impl::on_watch(std::size_t slot, std::uint64_t gen) noexcept
{
    lane_slot& s = lanes_[slot];
    task_core* expired = nullptr;
    std::int64_t rearm_at = 0;
    std::uint64_t rearm_gen = 0;
    circuit_breaker::permit permit;
    {
        std::lock_guard lk(s.lock);
        if(s.watch_gen != gen)
            return; // superseded by a watch for an earlier deadline
        s.watch_at = 0;
        s.watch_id = {};
        if(!s.current || s.deadline == no_deadline)
            return;
        std::int64_t const now = now_ns();
        if(s.deadline <= now)
        {
            expired = s.current;
            intrusive_ptr_add_ref(expired);
            s.stop_seen_at = now;
            permit = std::move(s.permit);
        }
        else
        {
            rearm_gen = ++s.watch_gen;
            rearm_at = s.watch_at = s.deadline;
        }
    }
    if(expired)
    {
        finish(expired, task_error::timed_out, timed_out_);
        // whoever ended the task first (this timeout, or the task
        // itself just before it) decides what the breaker hears
        report_ended(permit, expired);
        intrusive_ptr_release(expired);
    }
    else
    {
        arm_watch(s, slot, rearm_gen, rearm_at, timer_id{});
    }
}

void executor_impl::watchdog_tick()
{
    std::int64_t const now = now_ns();
    std::int64_t const grace = opts_.stop_grace.count();
    std::size_t const lanes = std::min(lanes_spawned_.load(std::memory_order_acquire), opts_.max_concurrent);
    for(std::size_t i = 0; i < lanes; ++i)
    {
        lane_slot& s = lanes_[i];
        std::optional<task_id> report;
        {
            std::lock_guard lk(s.lock);
            if(!s.current || !s.current->claimed() || s.reported)
                continue;
            if(s.stop_seen_at < 0)
                s.stop_seen_at = now;
            else if(now - s.stop_seen_at >= grace)
            {
                s.reported = true;
                report = s.current->id();
            }
        }
        if(report)
        {
            unresponsive_.inc();
            try
            {
                SPINDLE_LOG(warning, "executor") << "executor " << opts_.name << ": task " << *report
                                                 << " ignores its stop request and keeps its lane";
            }
            catch(...)
            {
            }
        }
    }
}

} // namespace spindle::detail
