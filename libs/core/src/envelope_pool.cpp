//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Per-thread caches of freed envelope memory, so that a message costs no
// call into the global allocator on the common path (a malloc/free pair was
// a quarter of ping-pong's instructions). See envelope.hpp.

#include <spindle/detail/envelope.hpp>

#include <cstddef>
#include <new>

namespace spindle::detail {

namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t classes = 16; // up to 256 bytes
/// Blocks a thread keeps per size class; more go back to the allocator, so
/// a thread that only receives cannot hoard what senders allocated.
/// (At most 16 classes x 128 blocks: 272 KB in the worst case, a few
/// blocks in practice.)
constexpr std::uint32_t cache_limit = 128;
#if defined(__SANITIZE_ADDRESS__) || defined(SPINDLE_NO_ENVELOPE_CACHE)
/// Under AddressSanitizer every envelope goes to the allocator, so a use
/// after free is caught rather than hidden in a cache.
constexpr bool caching = false;
#else
constexpr bool caching = true;
#endif

struct free_block
{
    free_block* next;
};

/** One thread's cache: plain data, zero-initialised, so that reaching it
    costs one thread-pointer-relative load (initial-exec TLS, no guard).
*/
struct thread_cache
{
    free_block* head[classes];
    std::uint32_t count[classes];
    /// 0 not yet used, 1 in use (the drain below is registered), 2 drained
    /// (the thread is exiting: everything goes straight to the allocator).
    std::uint8_t state;
};

__attribute__((tls_model("initial-exec"))) thread_local thread_cache tl_cache;

/// Frees a block of `size` bytes: the sized form where the compiler offers
/// it (GCC always; Clang only with -fsized-deallocation, which libstdc++
/// checks through __cpp_sized_deallocation).
inline void free_block_of(void* p, [[maybe_unused]] std::size_t size) noexcept
{
#if defined(__cpp_sized_deallocation)
    ::operator delete(p, size);
#else
    ::operator delete(p);
#endif
}

void drain(thread_cache& c) noexcept
{
    for(std::size_t i = 0; i < classes; ++i)
    {
        for(free_block* b = c.head[i]; b;)
        {
            free_block* n = b->next;
            free_block_of(b, (i + 1) * granule);
            b = n;
        }
        c.head[i] = nullptr;
        c.count[i] = 0;
    }
}

/// Gives a thread's cache back to the allocator when the thread exits.
struct cache_guard
{
    ~cache_guard()
    {
        tl_cache.state = 2;
        drain(tl_cache);
    }
};

void register_thread() noexcept
{
    try
    {
        static thread_local cache_guard guard; // its destructor runs at thread exit
        (void)guard;
        tl_cache.state = 1;
    }
    catch(...)
    {
        tl_cache.state = 2; // cannot register a drain: do not cache on this thread
    }
}

} // namespace

void* envelope_allocate(std::size_t size)
{
    std::size_t const k = (size + granule - 1) / granule - 1;
    if(caching && k < classes)
    {
        thread_cache& c = tl_cache;
        if(free_block* b = c.head[k])
        {
            c.head[k] = b->next;
            --c.count[k];
            return b;
        }
        return ::operator new((k + 1) * granule);
    }
    return ::operator new(size);
}

void envelope_deallocate(void* p, std::size_t size) noexcept
{
    std::size_t const k = (size + granule - 1) / granule - 1;
    if(caching && k < classes)
    {
        thread_cache& c = tl_cache;
        if(c.state != 1) [[unlikely]]
        {
            if(c.state == 0)
                register_thread();
            if(c.state != 1)
            {
                free_block_of(p, (k + 1) * granule);
                return;
            }
        }
        if(c.count[k] < cache_limit)
        {
            auto* b = static_cast<free_block*>(p);
            b->next = c.head[k];
            c.head[k] = b;
            ++c.count[k];
            return;
        }
        free_block_of(p, (k + 1) * granule);
        return;
    }
    free_block_of(p, size);
}

} // namespace spindle::detail
