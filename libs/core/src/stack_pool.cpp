//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/stack_pool.hpp>

#include <spindle/error.hpp>

#include <boost/assert.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <new>
#include <thread>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SPINDLE_STACK_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPINDLE_STACK_POOL_ASAN 1
#endif
#endif
#if defined(SPINDLE_STACK_POOL_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace spindle {

namespace {

/// Under AddressSanitizer: clears the poison a fiber left on the stack
/// below `h` (its header) before the stack is cached or unmapped.
/// Boost.Context's fcontext switches are not announced to ASan, so when a
/// fiber's frames are left by an exception (a forced unwind at shutdown,
/// a handler that threw) their redzones stay poisoned; the next fiber to
/// get this stack would be reported for touching them. No-op otherwise.
inline void unpoison_stack([[maybe_unused]] void* h, [[maybe_unused]] std::size_t usable) noexcept
{
#if defined(SPINDLE_STACK_POOL_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(h) - usable, usable);
#endif
}

// Largest accepted stack: anything bigger is a configuration mistake, and
// the bound keeps the page rounding below from overflowing.
constexpr std::size_t max_stack_size = std::size_t(1) << 30;

std::size_t page_size() noexcept
{
    long const p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<std::size_t>(p) : 4096;
}

std::size_t round_up(std::size_t n, std::size_t page) noexcept
{
    return (n + page - 1) / page * page;
}

boost::system::error_code last_system_error() noexcept
{
    return {errno, boost::system::system_category()};
}

// ---------------------------------------------------------------------------
// Guard page registry.
//
// The fault handler must tell our guard pages from any other bad address
// without locks or allocation, so the guard ranges of all pools live in
// fixed segments of atomic slots that are only ever added, never freed.
// Registration happens once per mmap (not per allocation) and is rare.

struct guard_slot
{
    // Lowest address of the guard page; 0 = free, `claimed` = being filled.
    std::atomic<std::uintptr_t> low{0};
    std::atomic<std::size_t> guard_bytes{0};
    std::atomic<std::size_t> stack_bytes{0};
};

constexpr std::uintptr_t claimed = 1;
constexpr std::size_t slots_per_segment = 1024;

struct guard_segment
{
    guard_slot slots[slots_per_segment];
    // Slots in use, so that registration can skip full segments.
    std::atomic<std::size_t> used{0};
    guard_segment* next = nullptr; // immutable once published
};

static_assert(std::atomic<std::uintptr_t>::is_always_lock_free,
    "the fault handler reads guard ranges lock-free");
static_assert(std::atomic<std::size_t>::is_always_lock_free,
    "the fault handler reads guard ranges lock-free");

// Constant-initialised, so usable before any static constructor runs.
constinit std::atomic<guard_segment*> g_segments{nullptr};

void fill_slot(guard_slot& s, std::uintptr_t low, std::size_t guard, std::size_t stack) noexcept
{
    s.guard_bytes.store(guard, std::memory_order_relaxed);
    s.stack_bytes.store(stack, std::memory_order_relaxed);
    // Publishes the sizes to the fault handler, which loads `low` with acquire.
    s.low.store(low, std::memory_order_release);
}

struct guard_ref
{
    guard_segment* segment;
    guard_slot* slot;
};

guard_ref register_guard(std::uintptr_t low, std::size_t guard, std::size_t stack)
{
    for(guard_segment* seg = g_segments.load(std::memory_order_acquire); seg; seg = seg->next)
    {
        if(seg->used.load(std::memory_order_relaxed) >= slots_per_segment)
            continue;
        for(guard_slot& s : seg->slots)
        {
            std::uintptr_t expected = 0;
            if(s.low.load(std::memory_order_relaxed) == 0 &&
               s.low.compare_exchange_strong(expected, claimed, std::memory_order_acquire,
                   std::memory_order_relaxed))
            {
                seg->used.fetch_add(1, std::memory_order_relaxed);
                fill_slot(s, low, guard, stack);
                return {seg, &s};
            }
        }
    }
    // Every segment is full: add one, with our slot filled before it is published.
    auto* seg = new guard_segment;
    seg->used.store(1, std::memory_order_relaxed);
    fill_slot(seg->slots[0], low, guard, stack);
    seg->next = g_segments.load(std::memory_order_relaxed);
    while(!g_segments.compare_exchange_weak(
        seg->next, seg, std::memory_order_release, std::memory_order_relaxed))
    {
    }
    return {seg, &seg->slots[0]};
}

void unregister_guard(guard_ref ref) noexcept
{
    ref.slot->low.store(0, std::memory_order_release);
    ref.segment->used.fetch_sub(1, std::memory_order_relaxed);
}

// Async-signal-safe: atomic loads only.
bool find_guard(std::uintptr_t addr, std::uintptr_t& stack_low, std::size_t& stack_bytes) noexcept
{
    for(guard_segment* seg = g_segments.load(std::memory_order_acquire); seg; seg = seg->next)
    {
        for(guard_slot& s : seg->slots)
        {
            std::uintptr_t const low = s.low.load(std::memory_order_acquire);
            if(low <= claimed || addr < low)
                continue;
            std::size_t const guard = s.guard_bytes.load(std::memory_order_relaxed);
            if(addr - low < guard)
            {
                stack_low = low + guard;
                stack_bytes = s.stack_bytes.load(std::memory_order_relaxed);
                return true;
            }
        }
    }
    return false;
}

// ---------------------------------------------------------------------------
// Fault handler.
} // namespace

namespace detail {
std::atomic<overflow_describer> g_overflow_describer{nullptr};
} // namespace detail

namespace {

// Written once, before our handler is installed, and only read afterwards.
struct sigaction g_prev_segv;
struct sigaction g_prev_bus;
std::mutex g_install_mutex;
bool g_installed = false;

char* append(char* out, char const* s) noexcept
{
    while(*s)
        *out++ = *s++;
    return out;
}

char* append_number(char* out, std::uintmax_t v, unsigned base) noexcept
{
    char digits[32];
    int n = 0;
    do
    {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while(v != 0);
    while(n > 0)
        *out++ = digits[--n];
    return out;
}

void write_all(char const* p, std::size_t n) noexcept
{
    while(n > 0)
    {
        ssize_t const w = ::write(STDERR_FILENO, p, n);
        if(w < 0)
        {
            if(errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void restore_default(int sig) noexcept
{
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(sig, &dfl, nullptr);
}

// For a fault raised by the kernel, returning after restoring the default
// action runs the faulting instruction again, which then kills the process
// with the original signal, context and core dump. A signal sent by
// kill(2) does not repeat by itself, so it is raised again (it stays
// blocked, and so pending, until this handler returns).
void die_by_default(int sig, siginfo_t* info) noexcept
{
    restore_default(sig);
    if(info == nullptr || info->si_code <= 0)
        ::raise(sig);
}

void on_fault(int sig, siginfo_t* info, void* uctx)
{
    int const saved_errno = errno;
    std::uintptr_t stack_low = 0;
    std::size_t stack_bytes = 0;
    if(info != nullptr && info->si_code > 0 &&
       find_guard(reinterpret_cast<std::uintptr_t>(info->si_addr), stack_low, stack_bytes))
    {
        char buf[640];
        char* p = append(buf, "spindle: fiber stack overflow (stack of ");
        p = append_number(p, stack_bytes, 10);
        p = append(p, " bytes at 0x");
        p = append_number(p, stack_low, 16);
        p = append(p, ")");
        // the runtime names the actor whose handler ran on the stack
        if(auto describe = detail::g_overflow_describer.load(std::memory_order_acquire))
            p = describe(p, buf + sizeof buf - 2);
        p = append(p, "\n");
        write_all(buf, static_cast<std::size_t>(p - buf));
        die_by_default(sig, info);
        return;
    }

    struct sigaction const& prev = sig == SIGBUS ? g_prev_bus : g_prev_segv;
    errno = saved_errno;
    if(prev.sa_flags & SA_SIGINFO)
    {
        prev.sa_sigaction(sig, info, uctx);
    }
    else if(prev.sa_handler == SIG_DFL)
    {
        die_by_default(sig, info);
    }
    else if(prev.sa_handler == SIG_IGN)
    {
        // The kernel never lets a fault be ignored (it would repeat forever):
        // it forces the default action, and so do we. kill(2) is ignored.
        if(info != nullptr && info->si_code > 0)
            restore_default(sig);
    }
    else
    {
        prev.sa_handler(sig);
    }
}

// The calling thread's alternate signal stack, if Spindle made it.
struct alt_stack
{
    char* mapping = nullptr;
    std::size_t mapping_size = 0;
    std::size_t guard = 0;
    bool prepared = false;

    ~alt_stack()
    {
        if(mapping == nullptr)
            return;
        stack_t cur = {};
        if(::sigaltstack(nullptr, &cur) == 0 && cur.ss_sp == mapping + guard)
        {
            stack_t off = {};
            off.ss_flags = SS_DISABLE;
            ::sigaltstack(&off, nullptr);
        }
        ::munmap(mapping, mapping_size);
    }
};

thread_local alt_stack t_alt_stack;

} // namespace

// ---------------------------------------------------------------------------
// stack_pool

namespace {

// Bookkeeping at the top of every stack; the `sp` handed out points at it.
struct stack_header
{
    stack_header* next;  // free list link while cached
    guard_ref guard;     // null slot without a guard page
    stack_pool const* owner;
};

} // namespace

static_assert(sizeof(stack_header) <= 64, "stack_header must fit the reserved header");

std::shared_ptr<stack_pool> stack_pool::create(stack_pool_options const& opts)
{
    boost::system::error_code ec;
    auto pool = create(opts, ec);
    if(ec)
        detail::throw_error(ec, "spindle::stack_pool::create: stack_size must be in [1, 1 GiB]");
    return pool;
}

std::shared_ptr<stack_pool> stack_pool::create(
    stack_pool_options const& opts, boost::system::error_code& ec)
{
    if(opts.stack_size == 0 || opts.stack_size > max_stack_size)
    {
        ec = error::invalid_argument;
        return nullptr;
    }
    ec = {};
    return std::shared_ptr<stack_pool>(new stack_pool(opts, page_size()));
}

stack_pool::stack_pool(stack_pool_options const& opts, std::size_t page) noexcept
    : stack_size_(round_up(opts.stack_size, page))
    , mapping_size_(stack_size_ + (opts.guard_page ? page : 0))
    , max_cached_(opts.max_cached)
    , page_size_(page)
    , guard_(opts.guard_page)
{
    static_assert(header_size == 64);
}

stack_pool::~stack_pool()
{
    BOOST_ASSERT(stats_.in_use == 0);
    trim();
}

void stack_pool::lock_() const noexcept
{
    // Held only for a few pointer and counter updates, never across a
    // syscall, so a brief spin beats putting a worker thread to sleep.
    for(unsigned spins = 0;;)
    {
        if(!locked_.exchange(true, std::memory_order_acquire))
            return;
        while(locked_.load(std::memory_order_relaxed))
        {
            if(++spins < 64)
            {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            }
            else
            {
                std::this_thread::yield();
            }
        }
    }
}

void stack_pool::unlock_() const noexcept
{
    locked_.store(false, std::memory_order_release);
}

stack_pool_stats stack_pool::stats() const noexcept
{
    lock_();
    stack_pool_stats const s = stats_;
    unlock_();
    return s;
}

void* stack_pool::acquire_()
{
    lock_();
    if(free_ != nullptr)
    {
        auto* h = static_cast<stack_header*>(free_);
        free_ = h->next;
        --stats_.cached;
        ++stats_.reused;
        stats_.peak_in_use = std::max(stats_.peak_in_use, ++stats_.in_use);
        unlock_();
        return h;
    }
    // Count the new stack now so the counters stay consistent; undone on failure.
    ++stats_.allocated;
    stats_.peak_in_use = std::max(stats_.peak_in_use, ++stats_.in_use);
    unlock_();

    auto undo = [this] {
        lock_();
        --stats_.allocated;
        --stats_.in_use;
        unlock_();
    };

    void* const base = ::mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if(base == MAP_FAILED)
    {
        undo();
        throw std::bad_alloc();
    }
    guard_ref guard{nullptr, nullptr};
    if(guard_)
    {
        if(::mprotect(base, page_size_, PROT_NONE) != 0)
        {
            ::munmap(base, mapping_size_);
            undo();
            throw std::bad_alloc();
        }
        try
        {
            guard = register_guard(reinterpret_cast<std::uintptr_t>(base), page_size_, stack_size_);
        }
        catch(...)
        {
            ::munmap(base, mapping_size_);
            undo();
            throw;
        }
    }
    void* const top = static_cast<char*>(base) + mapping_size_;
    return new(static_cast<char*>(top) - header_size) stack_header{nullptr, guard, this};
}

namespace {

void unmap_stack(stack_header* h, std::size_t mapping_size, std::size_t header_size) noexcept
{
    if(h->guard.slot != nullptr)
        unregister_guard(h->guard);
    char* const top = reinterpret_cast<char*>(h) + header_size;
    unpoison_stack(h, mapping_size - header_size);
    ::munmap(top - mapping_size, mapping_size);
}

} // namespace

void stack_pool::release_(void* sp) noexcept
{
    BOOST_ASSERT(sp != nullptr);
    auto* h = static_cast<stack_header*>(sp);
    BOOST_ASSERT_MSG(h->owner == this, "stack returned to a pool that did not allocate it");
    unpoison_stack(h, mapping_size_ - header_size);
    lock_();
    --stats_.in_use;
    if(stats_.cached < max_cached_)
    {
        h->next = static_cast<stack_header*>(free_);
        free_ = h;
        ++stats_.cached;
        unlock_();
        return;
    }
    --stats_.allocated;
    unlock_();
    unmap_stack(h, mapping_size_, header_size);
}

void stack_pool::trim() noexcept
{
    lock_();
    auto* h = static_cast<stack_header*>(free_);
    free_ = nullptr;
    stats_.allocated -= stats_.cached;
    stats_.cached = 0;
    unlock_();
    while(h != nullptr)
    {
        stack_header* const next = h->next;
        unmap_stack(h, mapping_size_, header_size);
        h = next;
    }
}

void stack_pool::prepare_thread(boost::system::error_code& ec) noexcept
{
    ec = {};
    alt_stack& alt = t_alt_stack;
    if(alt.prepared)
        return;
    stack_t cur = {};
    if(::sigaltstack(nullptr, &cur) != 0)
    {
        ec = last_system_error();
        return;
    }
    if(!(cur.ss_flags & SS_DISABLE))
    {
        // Someone (a sanitizer, the program) already gave this thread one.
        alt.prepared = true;
        return;
    }
    std::size_t const page = page_size();
    std::size_t size = 64 * 1024;
#if defined(_SC_SIGSTKSZ)
    long const wanted = ::sysconf(_SC_SIGSTKSZ);
    if(wanted > 0)
        size = std::max(size, static_cast<std::size_t>(wanted));
#endif
    size = round_up(size, page);
    // A guard page here too: a handler overflowing this stack must not
    // scribble over whatever is mapped below it.
    std::size_t const mapping_size = size + page;
    void* const base = ::mmap(nullptr, mapping_size, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if(base == MAP_FAILED)
    {
        ec = last_system_error();
        return;
    }
    char* const mapping = static_cast<char*>(base);
    stack_t ss = {};
    ss.ss_sp = mapping + page;
    ss.ss_size = size;
    ss.ss_flags = 0;
    if(::mprotect(mapping, page, PROT_NONE) != 0 || ::sigaltstack(&ss, nullptr) != 0)
    {
        ec = last_system_error();
        ::munmap(mapping, mapping_size);
        return;
    }
    alt.mapping = mapping;
    alt.mapping_size = mapping_size;
    alt.guard = page;
    alt.prepared = true;
}

void stack_pool::prepare_thread()
{
    boost::system::error_code ec;
    prepare_thread(ec);
    if(ec)
        detail::throw_error(ec, "spindle::stack_pool::prepare_thread");
}

void stack_pool::install_overflow_handler(boost::system::error_code& ec) noexcept
{
    prepare_thread(ec);
    if(ec)
        return;
    std::lock_guard<std::mutex> lock(g_install_mutex);
    if(g_installed)
        return;
    struct sigaction sa = {};
    sa.sa_sigaction = &on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    // Save the previous handlers first: the handler reads them as soon as
    // it is installed.
    if(::sigaction(SIGSEGV, nullptr, &g_prev_segv) != 0 ||
       ::sigaction(SIGBUS, nullptr, &g_prev_bus) != 0)
    {
        ec = last_system_error();
        return;
    }
    if(::sigaction(SIGSEGV, &sa, nullptr) != 0)
    {
        ec = last_system_error();
        return;
    }
    if(::sigaction(SIGBUS, &sa, nullptr) != 0)
    {
        ec = last_system_error();
        ::sigaction(SIGSEGV, &g_prev_segv, nullptr);
        return;
    }
    g_installed = true;
}

void stack_pool::install_overflow_handler()
{
    boost::system::error_code ec;
    install_overflow_handler(ec);
    if(ec)
        detail::throw_error(ec, "spindle::stack_pool::install_overflow_handler");
}

} // namespace spindle
