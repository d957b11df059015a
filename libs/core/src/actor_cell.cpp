//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/detail/actor_cell.hpp>

#include "system_state.hpp"

#include <boost/core/demangle.hpp>

#include <exception>
#include <mutex>
#include <typeinfo>

namespace spindle {
namespace detail {

namespace {

std::string describe(std::exception_ptr ep)
{
    try
    {
        std::rethrow_exception(ep);
    }
    catch(std::exception const& e)
    {
        return boost::core::demangle(typeid(e).name()) + ": " + e.what();
    }
    catch(...)
    {
        return "non-standard exception";
    }
}

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

    static constexpr envelope_vtable table{&invoke, &discard, &typeid(down)};
};

void discard_list(envelope* e) noexcept
{
    while(e)
    {
        envelope* n = e->next_;
        e->vtable_->discard(e, error::actor_stopped);
        e = n;
    }
}

} // namespace

actor_cell::actor_cell(std::shared_ptr<system_state> sys, mailbox_options const& mb)
    : capacity_(mb.capacity)
    , policy_(mb.policy)
    , sys_(std::move(sys))
    , id_(actor_id::generate())
{
    if(capacity_ > 0 && policy_ == overflow_policy::block)
    {
        waiters_ = new mailbox_waiters;
        waiters_->timeout = mb.block_timeout;
    }
}

actor_cell::~actor_cell()
{
    // a cell dies only when stopped (mailbox drained) or never started
    for(envelope* e = head_; e;)
    {
        envelope* n = e->next_;
        e->vtable_->discard(e, error::actor_stopped);
        e = n;
    }
    discard_list(sys_head_);
    delete behavior_;
    if(factory_)
        factory_->release();
    delete waiters_;
    delete watchers_;
}

void actor_cell::post_system(envelope* e) noexcept
{
    e->next_ = nullptr;
    lock_.lock();
    if(closed_)
    {
        lock_.unlock();
        e->vtable_->discard(e, error::actor_stopped);
        return;
    }
    if(sys_tail_)
        sys_tail_->next_ = e;
    else
        sys_head_ = e;
    sys_tail_ = e;
    bool const wake = !scheduled_;
    scheduled_ = true;
    lock_.unlock();
    if(wake)
        sys_->schedule(this);
}

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

void actor_cell::set_behavior(actor_base* b) noexcept
{
    behavior_ = b;
    b->cell_ = this;
}

send_status actor_cell::post(envelope* e, bool may_block) noexcept
{
    envelope* evicted = nullptr;
    lock_.lock();
    if(closed_)
    {
        lock_.unlock();
        sys_->dead_letter_(e, *this, error::actor_stopped);
        return send_status::stopped;
    }
    if(capacity_ != 0 && size_.load(std::memory_order_relaxed) >= capacity_)
    {
        switch(policy_)
        {
        case overflow_policy::fail:
            lock_.unlock();
            sys_->dead_letter_(e, *this, error::mailbox_full);
            return send_status::mailbox_full;
        case overflow_policy::drop_newest:
            lock_.unlock();
            sys_->dropped_.fetch_add(1, std::memory_order_relaxed);
            sys_->dead_letter_(e, *this, error::mailbox_full);
            return send_status::dropped;
        case overflow_policy::block:
            lock_.unlock();
            if(!may_block)
            {
                sys_->dead_letter_(e, *this, error::mailbox_full);
                return send_status::mailbox_full;
            }
            return post_blocking(e);
        case overflow_policy::drop_oldest:
            evicted = head_;
            head_ = evicted->next_;
            if(!head_)
                tail_ = nullptr;
            size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
            break;
        }
    }
    e->next_ = nullptr;
    if(tail_)
        tail_->next_ = e;
    else
        head_ = e;
    tail_ = e;
    size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    bool const wake = !scheduled_;
    scheduled_ = true;
    lock_.unlock();
    if(evicted)
    {
        sys_->dropped_.fetch_add(1, std::memory_order_relaxed);
        sys_->dead_letter_(evicted, *this, error::mailbox_full);
    }
    if(wake)
        sys_->schedule(this);
    return send_status::ok;
}

send_status actor_cell::post_blocking(envelope* e) noexcept
{
    auto const deadline = std::chrono::steady_clock::now() + waiters_->timeout;
    std::unique_lock lk(lock_);
    while(!closed_ && size_.load(std::memory_order_relaxed) >= capacity_)
    {
        waiters_->count.fetch_add(1, std::memory_order_relaxed);
        auto st = waiters_->cv.wait_until(lk, deadline);
        waiters_->count.fetch_sub(1, std::memory_order_relaxed);
        if(st == boost::fibers::cv_status::timeout && !closed_ &&
           size_.load(std::memory_order_relaxed) >= capacity_)
        {
            lk.unlock();
            sys_->dead_letter_(e, *this, error::mailbox_full);
            return send_status::mailbox_full;
        }
    }
    if(closed_)
    {
        lk.unlock();
        sys_->dead_letter_(e, *this, error::actor_stopped);
        return send_status::stopped;
    }
    e->next_ = nullptr;
    if(tail_)
        tail_->next_ = e;
    else
        head_ = e;
    tail_ = e;
    size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    bool const wake = !scheduled_;
    scheduled_ = true;
    lk.unlock();
    if(wake)
        sys_->schedule(this);
    return send_status::ok;
}

bool actor_cell::signal(std::uint8_t flags) noexcept
{
    lock_.lock();
    if(state_.load(std::memory_order_relaxed) == cell_state::stopped || closed_)
    {
        lock_.unlock();
        return false;
    }
    sys_flags_ |= flags;
    bool const wake = !scheduled_;
    scheduled_ = true;
    lock_.unlock();
    if(wake)
        sys_->schedule(this);
    return true;
}

actor_cell::run_result actor_cell::run(std::uint32_t budget, std::uint32_t& handled) noexcept
{
    handled = 0;
    for(;;)
    {
        lock_.lock();
        std::uint8_t const flags = sys_flags_;
        sys_flags_ = 0;
        envelope* e = nullptr;
        bool from_sys = false;
        if(!flags && sys_head_)
        {
            e = sys_head_;
            sys_head_ = e->next_;
            if(!sys_head_)
                sys_tail_ = nullptr;
            from_sys = true;
        }
        else if(!flags)
        {
            if(handled >= budget)
            {
                // more mail? stay scheduled and let others run first
                bool const more = head_ != nullptr;
                if(!more)
                    scheduled_ = false;
                lock_.unlock();
                return more ? run_result::more : run_result::idle;
            }
            e = head_;
            if(!e)
            {
                scheduled_ = false;
                lock_.unlock();
                return run_result::idle;
            }
            head_ = e->next_;
            if(!head_)
                tail_ = nullptr;
            size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        }
        lock_.unlock();

        if(flags)
        {
            if(flags & flag_start)
                do_start();
            if(flags & flag_stop)
            {
                do_stop(sys_->stopping_.load(std::memory_order_acquire) ? exit_reason::shutdown
                                                                         : exit_reason::normal);
                return run_result::stopped;
            }
            if(state() == cell_state::stopped)
                return run_result::stopped;
            continue;
        }

        if(!from_sys)
        {
            if(waiters_ && waiters_->count.load(std::memory_order_relaxed) > 0)
                waiters_->cv.notify_one();
            ++handled;
        }
        behavior_->directive_ = directive::resume;
        std::string failure;
        try
        {
            e->vtable_->invoke(e, *behavior_);
        }
        catch(...)
        {
            failure = describe(std::current_exception());
            handle_failure(failure);
        }
        switch(behavior_ ? behavior_->directive_ : directive::stop)
        {
        case directive::resume:
            break;
        case directive::stop:
            if(failure.empty())
                do_stop(exit_reason::normal);
            else
                do_stop(exit_reason::failure, std::move(failure));
            return run_result::stopped;
        case directive::restart:
            do_restart();
            if(state() == cell_state::stopped)
                return run_result::stopped;
            break;
        }
    }
}

void actor_cell::handle_failure(std::string const& what) noexcept
{
    directive const action = sys_->opts_.on_failure;
    try
    {
        sys_->report_failure(*this, what, action);
    }
    catch(...)
    {
    }
    if(behavior_)
        behavior_->directive_ = action;
}

void actor_cell::do_start() noexcept
{
    state_.store(cell_state::running, std::memory_order_release);
    behavior_->directive_ = directive::resume;
    try
    {
        behavior_->pre_start();
        // an actor may decide in pre_start that it has nothing to do
        if(behavior_->directive_ == directive::stop)
            do_stop(exit_reason::normal);
    }
    catch(...)
    {
        std::string what;
        try
        {
            what = describe(std::current_exception());
            sys_->report_failure(*this, what, directive::stop);
        }
        catch(...)
        {
        }
        do_stop(exit_reason::failure, std::move(what));
    }
}

void actor_cell::close_and_drain() noexcept
{
    lock_.lock();
    closed_ = true;
    envelope* e = head_;
    head_ = tail_ = nullptr;
    envelope* sys = sys_head_;
    sys_head_ = sys_tail_ = nullptr;
    size_.store(0, std::memory_order_relaxed);
    lock_.unlock();
    discard_list(sys);
    while(e)
    {
        envelope* n = e->next_;
        sys_->dead_letter_(e, *this, error::actor_stopped);
        e = n;
    }
    if(waiters_)
        waiters_->cv.notify_all();
}

void actor_cell::do_stop(exit_reason why, std::string what) noexcept
{
    if(state() == cell_state::stopped)
        return;
    exit_reason_ = why;
    if(!what.empty())
    {
        try
        {
            exit_what_ = std::make_unique<std::string>(std::move(what));
        }
        catch(...)
        {
        }
    }
    state_.store(cell_state::stopping, std::memory_order_release);
    close_and_drain();
    if(behavior_)
    {
        try
        {
            behavior_->post_stop();
        }
        catch(...)
        {
            try
            {
                sys_->report_failure(*this, describe(std::current_exception()), directive::stop);
            }
            catch(...)
            {
            }
        }
        delete behavior_;
        behavior_ = nullptr;
    }
    if(factory_)
    {
        factory_->release();
        factory_ = nullptr;
    }
    state_.store(cell_state::stopped, std::memory_order_release);
    notify_watchers();
}

void actor_cell::do_restart() noexcept
{
    try
    {
        behavior_->post_stop();
    }
    catch(...)
    {
        try
        {
            sys_->report_failure(*this, describe(std::current_exception()), directive::restart);
        }
        catch(...)
        {
        }
    }
    delete behavior_;
    behavior_ = nullptr;
    ++restarts_;
    sys_->restarts_.fetch_add(1, std::memory_order_relaxed);
    try
    {
        set_behavior(factory_->create());
    }
    catch(...)
    {
        std::string what;
        try
        {
            what = describe(std::current_exception());
            sys_->report_failure(*this, what, directive::stop);
        }
        catch(...)
        {
        }
        do_stop(exit_reason::failure, std::move(what));
        return;
    }
    do_start();
}

} // namespace detail
} // namespace spindle
