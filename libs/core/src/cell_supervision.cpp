//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A cell's side of supervision and death watch: the notices it sends (a
// `down` to each monitor, a child's exit to its supervisor) and the
// decisions about its failures (its supervisor's decider, or the root
// guardian's restart intensity). The cell's own lifecycle is in
// actor_cell.cpp; the supervisor's side in supervisor.cpp.

#include <spindle/detail/actor_cell.hpp>

#include "system_state.hpp"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <typeinfo>

namespace spindle {
namespace detail {

namespace {

/// A death notice in a watcher's system queue.
struct down_envelope final : envelope
{
    down d_;

    explicit down_envelope(down d) : d_(std::move(d)) { vtable_ = &table; }

    static void invoke(envelope* e, actor_base& self)
    {
        std::unique_ptr<down_envelope> p(static_cast<down_envelope*>(e));
        self.on_down(p->d_);
    }

    static void discard(envelope* e, error) noexcept { delete static_cast<down_envelope*>(e); }

    static constexpr envelope_vtable table{&invoke, &discard, &typeid(down), nullptr};
};

/// The type reported for supervision notices.
struct supervision_notice
{
};

/// A child's notice to its supervisor that it ended (system queue).
struct child_exit_envelope final : envelope
{
    boost::intrusive_ptr<actor_cell> child_;
    exit_reason why_;
    std::string what_;
    std::uint32_t incarnation_;
    directive decided_;

    child_exit_envelope(actor_cell* c, exit_reason why, std::string what, std::uint32_t inc, directive d)
        : child_(c), why_(why), what_(std::move(what)), incarnation_(inc), decided_(d)
    {
        vtable_ = &table;
    }

    static void invoke(envelope* e, actor_base& self)
    {
        std::unique_ptr<child_exit_envelope> p(static_cast<child_exit_envelope*>(e));
        supervisor_child_exit(self, p->child_.get(), p->why_, std::move(p->what_), p->incarnation_, p->decided_);
    }

    static void discard(envelope* e, error) noexcept
    {
        // the supervisor is gone: nobody will decide, so the child ends here
        std::unique_ptr<child_exit_envelope> p(static_cast<child_exit_envelope*>(e));
        p->child_->request(actor_cell::flag_terminate, p->why_, std::move(p->what_));
    }

    static constexpr envelope_vtable table{&invoke, &discard, &typeid(supervision_notice), nullptr};
};

} // namespace

void actor_cell::add_watcher(actor_cell* watcher)
{
    lock_.lock();
    if(!watchers_notified_)
    {
        try
        {
            if(!watchers_)
                watchers_ = new std::vector<boost::intrusive_ptr<actor_cell>>;
            watchers_->emplace_back(watcher);
        }
        catch(...)
        {
            lock_.unlock();
            throw;
        }
        lock_.unlock();
        if(proxy_)
            proxy_->watched(*this);
        return;
    }
    lock_.unlock();
    // already stopped: the notice goes out now, with the recorded reason
    watcher->post_system(new down_envelope(down{id_, exit_reason_, exit_what_ ? *exit_what_ : std::string()}));
}

void actor_cell::remove_watcher(actor_cell* watcher) noexcept
{
    boost::intrusive_ptr<actor_cell> released; // released outside the lock
    lock_.lock();
    if(watchers_)
    {
        for(auto it = watchers_->begin(); it != watchers_->end(); ++it)
        {
            if(it->get() == watcher)
            {
                released = std::move(*it);
                watchers_->erase(it);
                break;
            }
        }
    }
    lock_.unlock();
}

void actor_cell::notify_watchers() noexcept
{
    lock_.lock();
    watchers_notified_ = true;
    auto* list = watchers_;
    watchers_ = nullptr;
    lock_.unlock();
    if(!list)
        return;
    for(auto& w : *list)
    {
        try
        {
            w->post_system(new down_envelope(down{id_, exit_reason_, exit_what_ ? *exit_what_ : std::string()}));
        }
        catch(...)
        {
            // out of memory: this watcher misses its notice; nothing else is lost
        }
    }
    delete list;
}

directive actor_cell::root_decide(std::string const& what) noexcept
{
    directive action = sys_->opts_.on_failure;
    if(action == directive::escalate)
        action = directive::stop; // the root guardian has no parent to fail to
    bool limit = false;
    if(action == directive::restart)
    {
        try
        {
            // the root guardian's intensity, per actor, on the system clock
            auto const& ri = sys_->opts_.root_intensity;
            auto& times = ext().restart_times;
            auto const now = sys_->timers_->now();
            if(static_cast<std::ptrdiff_t>(times.expire(now, ri.window)) >= std::max(0, ri.max_restarts))
            {
                action = directive::stop;
                limit = true;
            }
            else
                times.record(now);
        }
        catch(...)
        {
            action = directive::stop; // out of memory: stop rather than loop unbounded
        }
    }
    sys_->report_failure(*this, what, action);
    if(limit)
        sys_->publish(event_type::supervisor_escalated, *this,
                      "root: restart limit reached (" + std::to_string(sys_->opts_.root_intensity.max_restarts) +
                          " in the window); actor stopped");
    return action;
}

void actor_cell::exit_to_parent(exit_reason why, std::string what, directive decided) noexcept
{
    end_incarnation(directive::resume);
    try
    {
        parent_->post_system(
            new child_exit_envelope(this, why, std::move(what), restarts_.load(std::memory_order_acquire), decided));
    }
    catch(...)
    {
        // out of memory: nobody can decide, so end here rather than hang suspended
        do_stop(why);
    }
}

void actor_cell::post_exit_again(std::string what) noexcept
{
    // still suspended (no behaviour): tell the supervisor once more
    try
    {
        parent_->post_system(new child_exit_envelope(
            this, exit_reason::failure, std::move(what), restarts_.load(std::memory_order_acquire), directive::restart));
    }
    catch(...)
    {
        do_stop(exit_reason::failure);
    }
}

directive actor_cell::decide_failure(std::exception_ptr ep, std::string const& what) noexcept
{
    auto* x = ext_if();
    if(!x)
        return directive::restart;
    std::shared_ptr<std::function<directive(std::exception_ptr)> const> d;
    x->decider_lock.lock();
    d = x->decider;
    x->decider_lock.unlock();
    if(!d || !*d)
        return directive::restart;
    try
    {
        if(!ep)
            ep = std::make_exception_ptr(std::runtime_error(what));
        return (*d)(std::move(ep));
    }
    catch(...)
    {
        // a decider that throws decides nothing: the default applies
        return directive::restart;
    }
}

} // namespace detail
} // namespace spindle
