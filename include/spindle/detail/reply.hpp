//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_REPLY_HPP
#define SPINDLE_DETAIL_REPLY_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/envelope.hpp>
#include <spindle/error.hpp>
#include <spindle/timer.hpp>

#include <boost/system/result.hpp>

#include <atomic>
#include <cstdint>
#include <utility>

namespace spindle::detail {

/** The shared state of one `ask`: completed exactly once, by the reply, by
    the timeout timer, or by the runtime when the message is dropped.

    It is reference counted because three parties may touch it in any order:
    the asking side (future or completion handler), the envelope in the
    receiver's mailbox and the timeout timer's callback. Its memory comes
    from the envelope caches (@ref envelope_allocate), like the request's.
*/
template<class R>
class reply_state
{
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<bool> done_{false};
    timer_service* timers_ = nullptr;
    timer_id timer_{};

protected:
    virtual void deliver(boost::system::result<R>&& r) noexcept = 0;

public:
    virtual ~reply_state() = default;

    static void* operator new(std::size_t size) { return envelope_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { envelope_deallocate(p, size); }

    /// Arms the timeout. Called once, before the request is posted.
    void arm(timer_service& timers, timer_id id) noexcept
    {
        timers_ = &timers;
        timer_ = id;
    }

    /** Completes with `r` unless already completed.

        @param from_timer true when the timeout timer itself completes, so the
        timer is not cancelled from inside its own callback.
        @return true if this call won.
    */
    bool complete(boost::system::result<R>&& r, bool from_timer = false) noexcept
    {
        if(done_.exchange(true, std::memory_order_acq_rel))
            return false;
        if(timers_ && !from_timer)
            timers_->cancel(timer_);
        deliver(std::move(r));
        return true;
    }

    bool done() const noexcept { return done_.load(std::memory_order_acquire); }

    friend void intrusive_ptr_add_ref(reply_state* p) noexcept
    {
        p->refs_.fetch_add(1, std::memory_order_relaxed);
    }

    friend void intrusive_ptr_release(reply_state* p) noexcept
    {
        if(p->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete p;
    }
};

} // namespace spindle::detail

#endif
