//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/ordered_mutex.hpp>

#include <boost/fiber/context.hpp>
#include <boost/fiber/fss.hpp>

#include <algorithm>
#include <vector>

namespace spindle {

namespace {

using held_list = std::vector<ordered_mutex const*>;

// The mutexes the running fiber holds, in locking order.
//
// Fibers keep theirs in fiber-specific storage, which follows a fiber when
// a scheduler migrates it and is freed when the fiber ends. A plain
// thread's main context never frees its fiber-specific storage, so threads
// use a thread_local instead.
boost::fibers::fiber_specific_ptr<held_list>& held_slot()
{
    static auto* slot = new boost::fibers::fiber_specific_ptr<held_list>(); // fibers may outlive statics
    return *slot;
}

held_list* current_held(bool create)
{
    boost::fibers::context* const ctx = boost::fibers::context::active();
    if(ctx->is_context(boost::fibers::type::main_context))
    {
        thread_local held_list thread_list;
        return &thread_list;
    }
    auto& slot = held_slot();
    held_list* h = slot.get();
    if(!h && create)
    {
        h = new held_list();
        slot.reset(h);
    }
    return h;
}

void const* current_fiber() noexcept
{
    return boost::fibers::context::active();
}

boost::system::error_code order_error() noexcept
{
    return make_error_code(boost::system::errc::resource_deadlock_would_occur);
}

} // namespace

ordered_mutex::ordered_mutex(std::string name, unsigned level) : name_(std::move(name)), level_(level) {}

bool ordered_mutex::lock_impl(detail::wait_deadline const& dl, std::stop_token const& st, bool wait,
                              boost::system::error_code& ec, std::string* what)
{
    held_list& held = *current_held(true);
    for(ordered_mutex const* m : held)
    {
        if(m == this || m->level_ >= level_)
        {
            ec = order_error();
            if(what)
            {
                if(m == this)
                    *what = "spindle::ordered_mutex: \"" + name_ + "\" (level " + std::to_string(level_) +
                            ") is already held by this fiber";
                else
                    *what = "spindle::ordered_mutex: lock order violation: locking \"" + name_ + "\" (level " +
                            std::to_string(level_) + ") while holding \"" + m->name_ + "\" (level " +
                            std::to_string(m->level_) + ")";
            }
            return false;
        }
    }
    ec = {};
    held.reserve(held.size() + 1); // the push_back after locking must not throw
    void const* const me = current_fiber();
    std::unique_lock<detail::spinlock> lk(lock_);
    if(!owner_)
    {
        owner_ = me;
        lk.unlock();
        held.push_back(this);
        return true;
    }
    if(!wait)
        return false;
    detail::wait_node n;
    n.lock_ = &lock_;
    n.payload_ = const_cast<void*>(me);
    waiters_.push_back(n);
    // `done` means unlock() made this fiber the owner
    if(detail::park(lk, n, dl, st) != detail::wake_status::done)
        return false;
    held.push_back(this);
    return true;
}

bool ordered_mutex::lock_or_throw(detail::wait_deadline const& dl, std::stop_token const& st, bool wait,
                                  char const* op)
{
    boost::system::error_code ec;
    std::string what;
    bool const locked = lock_impl(dl, st, wait, ec, &what);
    if(ec)
        detail::throw_error(ec, what.empty() ? op : what.c_str());
    return locked;
}

void ordered_mutex::lock()
{
    lock_or_throw(detail::wait_deadline::never(), {}, true, "spindle::ordered_mutex::lock");
}

void ordered_mutex::lock(boost::system::error_code& ec)
{
    lock_impl(detail::wait_deadline::never(), {}, true, ec, nullptr);
}

void ordered_mutex::lock(std::stop_token st, boost::system::error_code& ec)
{
    if(!lock_impl(detail::wait_deadline::never(), st, true, ec, nullptr) && !ec)
        ec = error::cancelled;
}

void ordered_mutex::lock(std::stop_token st)
{
    if(!lock_or_throw(detail::wait_deadline::never(), st, true, "spindle::ordered_mutex::lock"))
        detail::throw_error(error::cancelled, "spindle::ordered_mutex::lock");
}

bool ordered_mutex::try_lock()
{
    return lock_or_throw(detail::wait_deadline::never(), {}, false, "spindle::ordered_mutex::try_lock");
}

bool ordered_mutex::try_lock(boost::system::error_code& ec)
{
    return lock_impl(detail::wait_deadline::never(), {}, false, ec, nullptr);
}

bool ordered_mutex::try_lock_for(std::chrono::nanoseconds d, std::stop_token st)
{
    return lock_or_throw(detail::wait_deadline::after(d), st, true, "spindle::ordered_mutex::try_lock_for");
}

bool ordered_mutex::try_lock_until(std::chrono::steady_clock::time_point deadline, std::stop_token st)
{
    return lock_or_throw(detail::wait_deadline::at(deadline), st, true, "spindle::ordered_mutex::try_lock_until");
}

bool ordered_mutex::try_lock_for(timer_service& timers, std::chrono::nanoseconds d, std::stop_token st)
{
    return lock_or_throw(detail::wait_deadline::after(timers, d), st, true,
                         "spindle::ordered_mutex::try_lock_for");
}

bool ordered_mutex::try_lock_until(timer_service& timers, timer_service::time_point deadline, std::stop_token st)
{
    return lock_or_throw(detail::wait_deadline::at(timers, deadline), st, true,
                         "spindle::ordered_mutex::try_lock_until");
}

bool ordered_mutex::try_lock_for(std::chrono::nanoseconds d, std::stop_token st, boost::system::error_code& ec)
{
    return lock_impl(detail::wait_deadline::after(d), st, true, ec, nullptr);
}

bool ordered_mutex::try_lock_for(timer_service& timers, std::chrono::nanoseconds d, std::stop_token st,
                                 boost::system::error_code& ec)
{
    return lock_impl(detail::wait_deadline::after(timers, d), st, true, ec, nullptr);
}

void ordered_mutex::unlock(boost::system::error_code& ec) noexcept
{
    void const* const me = current_fiber();
    {
        detail::wake_batch next; // woken after the lock is released
        std::lock_guard<detail::spinlock> lk(lock_);
        if(owner_ != me)
        {
            ec = make_error_code(boost::system::errc::operation_not_permitted);
            return;
        }
        if(detail::wait_node* n = waiters_.front())
        {
            owner_ = n->payload_;
            next.complete(*n, detail::wake_status::done);
        }
        else
        {
            owner_ = nullptr;
        }
    }
    ec = {};
    if(held_list* held = current_held(false)) // exists: this fiber locked the mutex
    {
        auto it = std::find(held->rbegin(), held->rend(), this);
        if(it != held->rend())
            held->erase(std::next(it).base());
    }
}

void ordered_mutex::unlock()
{
    boost::system::error_code ec;
    unlock(ec);
    if(ec)
        detail::throw_error(ec, ("spindle::ordered_mutex::unlock: \"" + name_ + "\" is not held by this fiber").c_str());
}

bool ordered_mutex::held() const noexcept
{
    void const* const me = current_fiber();
    std::lock_guard<detail::spinlock> lk(lock_);
    return owner_ == me;
}

} // namespace spindle
