//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_SPINLOCK_HPP
#define SPINDLE_DETAIL_SPINLOCK_HPP

#include <spindle/detail/config.hpp>

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
# include <immintrin.h>
#endif

namespace spindle::detail {

/// Tells the CPU we are spinning (saves power, helps the sibling hyper-thread).
inline void spin_pause() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

/** Waits until `done()` holds for a wait expected to last a few
    instructions: spins briefly, then yields the CPU, so that a thread the
    OS preempted in the middle of its work can finish it (on an
    oversubscribed machine a pure spin would burn whole time slices).
*/
template<class Pred>
void spin_until(Pred done) noexcept
{
    for(unsigned spins = 0; !done(); ++spins)
    {
        if(spins < 64)
            spin_pause();
        else
            std::this_thread::yield();
    }
}

/** A one-byte test-and-test-and-set lock for critical sections of a few
    instructions (a queue push or pop).

    It is never held across a fiber suspension, so a fiber holding it cannot
    be descheduled while another fiber on the same thread spins for it.
*/
class spinlock
{
    std::atomic<bool> locked_{false};

public:
    void lock() noexcept
    {
        for(unsigned spins = 0;; ++spins)
        {
            if(!locked_.exchange(true, std::memory_order_acquire))
                return;
            while(locked_.load(std::memory_order_relaxed))
            {
                if(++spins < 64)
                    spin_pause();
                else
                    std::this_thread::yield(); // holder was preempted by the OS
            }
        }
    }

    bool try_lock() noexcept
    {
        return !locked_.load(std::memory_order_relaxed) &&
               !locked_.exchange(true, std::memory_order_acquire);
    }

    void unlock() noexcept { locked_.store(false, std::memory_order_release); }
};

} // namespace spindle::detail

#endif
