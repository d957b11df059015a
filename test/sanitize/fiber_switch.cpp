//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// AddressSanitizer and ThreadSanitizer annotations for Boost.Context's
// fcontext switches, linked into every executable of a build with
// -DSPINDLE_SANITIZE=address,... or thread (cmake/SpindleSanitize.cmake;
// doc/reliability.md, "Fibers and AddressSanitizer", "ThreadSanitizer").
//
// Debian's libboost_context and libboost_fiber are built on the assembler
// back end (fcontext), which does not tell ASan when it moves a thread to
// another stack. ASan then believes every fiber runs on its thread's stack:
// when an exception is thrown on a fiber, __asan_handle_no_return cannot
// find the stack to clean and leaves the unwound frames' redzones poisoned,
// and the next function to use those addresses is reported for a
// stack-buffer-overflow that did not happen.
//
// Every switch goes through three C functions of libboost_context:
// make_fcontext (a new context on a stack), jump_fcontext and ontop_fcontext
// (switch to a context). Libboost_fiber and Spindle's own code reach them
// through the dynamic linker, so the definitions below, in the executable,
// take their place; each calls the library's own (dlsym RTLD_NEXT) between
// __sanitizer_start_switch_fiber and __sanitizer_finish_switch_fiber, the
// protocol Boost.Context's ucontext back end follows with BOOST_USE_ASAN.
// The stack a switch goes to is found from the address it resumes at: every
// stack a context is made on is recorded here; any other address is on the
// current thread's own stack (Boost.Fiber's main contexts never migrate).
//
// ThreadSanitizer keeps a shadow call stack and a vector clock per thread;
// without annotations a fiber that moves from one worker to another carries
// the first worker's identity, and a switch mixes two fibers' call stacks.
// Here every stack a context is made on gets a TSan fiber
// (__tsan_create_fiber), a thread's own stack keeps the thread's, and
// __tsan_switch_to_fiber names the one a switch goes to, immediately before
// it (the protocol of <sanitizer/tsan_interface.h>, what BOOST_USE_TSAN does
// in the ucontext back end). The switch synchronizes (its default): two
// fibers on one thread never run at once.
//
// Compiled without instrumentation (it runs half on one stack and half on
// another); the sanitizer entry points are weak, so the functions only
// forward where neither sanitizer is present.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include <dlfcn.h>
#include <pthread.h>

extern "C" {

// The sanitizer interface (<sanitizer/common_interface_defs.h>), weak.
__attribute__((weak)) void __sanitizer_start_switch_fiber(void** fake_stack_save, void const* bottom, std::size_t size);
__attribute__((weak)) void __sanitizer_finish_switch_fiber(void* fake_stack_save, void const** bottom_old, std::size_t* size_old);

// ThreadSanitizer's fiber interface (<sanitizer/tsan_interface.h>), weak.
__attribute__((weak)) void* __tsan_get_current_fiber(void);
__attribute__((weak)) void* __tsan_create_fiber(unsigned flags);
__attribute__((weak)) void __tsan_destroy_fiber(void* fiber);
__attribute__((weak)) void __tsan_switch_to_fiber(void* fiber, unsigned flags);
__attribute__((weak)) void __tsan_acquire(void* addr);
__attribute__((weak)) void __tsan_release(void* addr);

// Boost.Context's ABI (boost/context/detail/fcontext.hpp), restated so that
// this file includes no Boost header that declares them differently.
typedef void* fcontext_t;
struct transfer_t
{
    fcontext_t fctx;
    void* data;
};

transfer_t jump_fcontext(fcontext_t const to, void* vp);
fcontext_t make_fcontext(void* sp, std::size_t size, void (*fn)(transfer_t));
transfer_t ontop_fcontext(fcontext_t const to, void* vp, transfer_t (*fn)(transfer_t));

} // extern "C"

namespace {

using jump_fn = transfer_t (*)(fcontext_t, void*);
using make_fn = fcontext_t (*)(void*, std::size_t, void (*)(transfer_t));
using ontop_fn = transfer_t (*)(fcontext_t, void*, transfer_t (*)(transfer_t));
using entry_fn = void (*)(transfer_t);

template<class F>
F real(char const* name) noexcept
{
    void* const f = ::dlsym(RTLD_NEXT, name);
    if(f == nullptr)
    {
        std::fprintf(stderr, "spindle sanitizer fibers: %s not found after the executable (%s)\n", name, ::dlerror());
        std::abort();
    }
    return reinterpret_cast<F>(f);
}

/// Whether ThreadSanitizer is present (its fiber interface is).
bool tsan() noexcept
{
    return __tsan_create_fiber != nullptr && __tsan_switch_to_fiber != nullptr && __tsan_destroy_fiber != nullptr
        && __tsan_get_current_fiber != nullptr;
}

struct stack_range
{
    std::uintptr_t low;
    entry_fn entry;   // the function a new context starts in, until it starts
    void* tsan_fiber; // its ThreadSanitizer fiber (TSan builds)
};

/// Every stack a context was made on, by its (exclusive) high end.
struct registry
{
    std::mutex m;
    std::map<std::uintptr_t, stack_range> stacks;

    void add(std::uintptr_t low, std::uintptr_t high, entry_fn fn)
    {
        void* const fiber = tsan() ? __tsan_create_fiber(0) : nullptr;
        std::lock_guard<std::mutex> lk(m);
        // a stack's memory may have held another, since freed: forget it
        for(auto it = stacks.upper_bound(low); it != stacks.end() && it->second.low < high;)
        {
            if(it->second.tsan_fiber != nullptr)
                __tsan_destroy_fiber(it->second.tsan_fiber);
            it = stacks.erase(it);
        }
        stacks[high] = stack_range{low, fn, fiber};
    }

    /// The TSan fiber of the stack holding `p`, or null if none holds it.
    void* tsan_fiber(std::uintptr_t p)
    {
        std::lock_guard<std::mutex> lk(m);
        auto it = stacks.upper_bound(p);
        if(it == stacks.end() || it->second.low > p)
            return nullptr;
        return it->second.tsan_fiber;
    }

    /// The stack holding `p`: [low, high), and its pending entry (taken).
    bool find(std::uintptr_t p, std::uintptr_t& low, std::uintptr_t& high, entry_fn* take_entry)
    {
        std::lock_guard<std::mutex> lk(m);
        auto it = stacks.upper_bound(p);
        if(it == stacks.end() || it->second.low > p)
            return false;
        low = it->second.low;
        high = it->first;
        if(take_entry != nullptr)
        {
            *take_entry = it->second.entry;
            it->second.entry = nullptr;
        }
        return true;
    }
};

registry& stacks()
{
    static registry* r = new registry; // never destroyed: switches run until the end
    return *r;
}

// Made before main, so before any other thread: this file is not
// instrumented, and TSan would not see the static's guard order the
// registry's construction before another thread's first use of it.
[[maybe_unused]] registry& made_at_start = stacks();

void thread_stack(std::uintptr_t& low, std::uintptr_t& high) noexcept
{
    thread_local std::uintptr_t t_low = 0;
    thread_local std::uintptr_t t_high = 0;
    if(t_high == 0)
    {
        pthread_attr_t attr;
        void* addr = nullptr;
        std::size_t size = 0;
        if(::pthread_getattr_np(::pthread_self(), &attr) == 0)
        {
            ::pthread_attr_getstack(&attr, &addr, &size);
            ::pthread_attr_destroy(&attr);
        }
        t_low = reinterpret_cast<std::uintptr_t>(addr);
        t_high = t_low + size;
    }
    low = t_low;
    high = t_high;
}

/// Whether to announce switches: ASan is present, and
/// SPINDLE_SANITIZER_FIBERS=0 is not set (it turns the announcements off, to
/// see what ASan reports without them).
bool announce() noexcept
{
    static bool const on = [] {
        char const* v = std::getenv("SPINDLE_SANITIZER_FIBERS");
        return __sanitizer_start_switch_fiber != nullptr && __sanitizer_finish_switch_fiber != nullptr
            && !(v != nullptr && v[0] == '0' && v[1] == '\0');
    }();
    return on;
}

/// The thread's own TSan fiber: the one it started on. The first switch a
/// thread makes leaves its own stack (a context made on a stack never runs
/// on a thread before that thread switched to it), so it is current then.
void* thread_tsan_fiber() noexcept
{
    thread_local void* const own = __tsan_get_current_fiber();
    return own;
}

/// Announces a switch to the context `to` (ASan: the next stack; TSan: the
/// next fiber, immediately before the switch, as TSan asks).
void start_switch(void** fake_stack_save, fcontext_t to) noexcept
{
    if(tsan())
    {
        void* const own = thread_tsan_fiber();
        void* const next = stacks().tsan_fiber(reinterpret_cast<std::uintptr_t>(to));
        __tsan_switch_to_fiber(next != nullptr ? next : own, 0);
        return;
    }
    if(!announce())
        return;
    std::uintptr_t low = 0;
    std::uintptr_t high = 0;
    if(!stacks().find(reinterpret_cast<std::uintptr_t>(to), low, high, nullptr))
        thread_stack(low, high);
    __sanitizer_start_switch_fiber(fake_stack_save, reinterpret_cast<void const*>(low), high - low);
}

void finish_switch(void* fake_stack_save) noexcept
{
    if(announce())
        __sanitizer_finish_switch_fiber(fake_stack_save, nullptr, nullptr);
}

/// Where every new context starts: completes the switch that started it,
/// then runs the function it was made with.
void context_entry(transfer_t t)
{
    finish_switch(nullptr);
    char here = 0;
    std::uintptr_t low = 0;
    std::uintptr_t high = 0;
    entry_fn fn = nullptr;
    if(!stacks().find(reinterpret_cast<std::uintptr_t>(&here), low, high, &fn) || fn == nullptr)
    {
        std::fprintf(stderr, "spindle sanitizer fibers: a context started on a stack never made\n");
        std::abort();
    }
    fn(t);
}

} // namespace

extern "C" {

fcontext_t make_fcontext(void* sp, std::size_t size, void (*fn)(transfer_t))
{
    static make_fn const make = real<make_fn>("make_fcontext");
    auto const high = reinterpret_cast<std::uintptr_t>(sp);
    stacks().add(high - size, high, fn);
    return make(sp, size, &context_entry);
}

transfer_t jump_fcontext(fcontext_t const to, void* vp)
{
    static jump_fn const jump = real<jump_fn>("jump_fcontext");
    void* fake_stack = nullptr;
    start_switch(&fake_stack, to);
    transfer_t const t = jump(to, vp);
    finish_switch(fake_stack); // back on this stack
    return t;
}

transfer_t ontop_fcontext(fcontext_t const to, void* vp, transfer_t (*fn)(transfer_t))
{
    static ontop_fn const ontop = real<ontop_fn>("ontop_fcontext");
    void* fake_stack = nullptr;
    start_switch(&fake_stack, to);
    transfer_t const t = ontop(to, vp, fn);
    finish_switch(fake_stack);
    return t;
}

} // extern "C"

#if defined(SPINDLE_TSAN_FIBER_MUTEXES)
/* Boost.Fiber's mutexes, as ThreadSanitizer must see them. Their lock and
   unlock are compiled into libboost_fiber.so, which Debian builds without
   TSan: TSan sees neither their atomics nor a lock, so everything a fiber
   mutex guards (a boost::fibers::promise's state, for one) is reported as
   a race between the fibers that take it. Every call of these members
   goes through the dynamic linker (the headers declare them, the library
   defines them), so the definitions below take their place: each calls
   the library's own and tells TSan what it did, a release before unlock
   and an acquire after lock, on the mutex's address. They are declared by
   their mangled names (Itanium ABI: `this` is the first argument), so
   that this file needs no Boost header. */
namespace {

using lock_fn = void (*)(void*);
using try_fn = bool (*)(void*);
using until_fn = bool (*)(void*, void const*);

void acquired(void* m) noexcept
{
    if(__tsan_acquire != nullptr)
        __tsan_acquire(m);
}

void releasing(void* m) noexcept
{
    if(__tsan_release != nullptr)
        __tsan_release(m);
}

} // namespace

extern "C" {

#define SPINDLE_FIBER_MUTEX(len, name)                                                                   \
    void _ZN5boost6fibers##len##name##4lockEv(void* self)                                                \
    {                                                                                                    \
        static lock_fn const f = real<lock_fn>("_ZN5boost6fibers" #len #name "4lockEv");                 \
        f(self);                                                                                         \
        acquired(self);                                                                                  \
    }                                                                                                    \
    bool _ZN5boost6fibers##len##name##8try_lockEv(void* self)                                            \
    {                                                                                                    \
        static try_fn const f = real<try_fn>("_ZN5boost6fibers" #len #name "8try_lockEv");               \
        bool const ok = f(self);                                                                         \
        if(ok)                                                                                           \
            acquired(self);                                                                              \
        return ok;                                                                                       \
    }                                                                                                    \
    void _ZN5boost6fibers##len##name##6unlockEv(void* self)                                              \
    {                                                                                                    \
        static lock_fn const f = real<lock_fn>("_ZN5boost6fibers" #len #name "6unlockEv");               \
        releasing(self);                                                                                 \
        f(self);                                                                                         \
    }

SPINDLE_FIBER_MUTEX(5, mutex)
SPINDLE_FIBER_MUTEX(15, recursive_mutex)
SPINDLE_FIBER_MUTEX(11, timed_mutex)
SPINDLE_FIBER_MUTEX(21, recursive_timed_mutex)

#undef SPINDLE_FIBER_MUTEX

// try_lock_until_(std::chrono::steady_clock::time_point const&)
#define SPINDLE_FIBER_TIMED(len, name)                                                                   \
    bool _ZN5boost6fibers##len##name##15try_lock_until_ERKNSt6chrono10time_pointINS2_3_V212steady_clockENS2_8durationIlSt5ratioILl1ELl1000000000EEEEEE( \
        void* self, void const* tp)                                                                      \
    {                                                                                                    \
        static until_fn const f = real<until_fn>("_ZN5boost6fibers" #len #name                           \
            "15try_lock_until_ERKNSt6chrono10time_pointINS2_3_V212steady_clockENS2_8durationIlSt5ratioILl1ELl1000000000EEEEEE"); \
        bool const ok = f(self, tp);                                                                     \
        if(ok)                                                                                           \
            acquired(self);                                                                              \
        return ok;                                                                                       \
    }

SPINDLE_FIBER_TIMED(11, timed_mutex)
SPINDLE_FIBER_TIMED(21, recursive_timed_mutex)

#undef SPINDLE_FIBER_TIMED

/* A fiber that waits gives up a Boost.Fiber spinlock inside the library:
   context::suspend(lk) and context::wait_until(tp, lk, waker) unlock `lk`
   (a std::unique_lock<detail::spinlock_ttas>) after the fiber is queued
   and before it switches away, in code TSan does not see. The lock is
   taken again in headers, instrumented (an acquiring exchange on the
   spinlock's state, its first member). A release on the spinlock's
   address before the call is the unlock TSan misses. */
void _ZN5boost6fibers7context7suspendERSt11unique_lockINS0_6detail13spinlock_ttasEE(void* self, void* lk)
{
    using fn = void (*)(void*, void*);
    static fn const f = real<fn>("_ZN5boost6fibers7context7suspendERSt11unique_lockINS0_6detail13spinlock_ttasEE");
    releasing(*static_cast<void**>(lk)); // unique_lock's first member: the mutex
    f(self, lk);
}

bool _ZN5boost6fibers7context10wait_untilERKNSt6chrono10time_pointINS2_3_V212steady_clockENS2_8durationIlSt5ratioILl1ELl1000000000EEEEEERSt11unique_lockINS0_6detail13spinlock_ttasEEONS0_5wakerE(
    void* self, void const* tp, void* lk, void* waker)
{
    using fn = bool (*)(void*, void const*, void*, void*);
    static fn const f = real<fn>(
        "_ZN5boost6fibers7context10wait_untilERKNSt6chrono10time_pointINS2_3_V212steady_clockENS2_8durationIlSt5rati"
        "oILl1ELl1000000000EEEEEERSt11unique_lockINS0_6detail13spinlock_ttasEEONS0_5wakerE");
    releasing(*static_cast<void**>(lk));
    return f(self, tp, lk, waker);
}

} // extern "C"
#endif
