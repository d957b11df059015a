//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include "message_tally.hpp"

#include <algorithm>
#include <bit>
#include <new>

namespace spindle::detail {

namespace {

/** Numbers of envelope tables, process-wide, and the tables they name.

    Numbers are handed out in order from 1; number n lives in segment
    bit_width(n) - 1, which holds 2^k entries, allocated on first use and
    never freed (a few bytes per message type of the program). Lookups take
    no lock.
*/
struct table_registry
{
    static constexpr unsigned segments = 32;
    std::atomic<std::uint32_t> next{1};
    std::atomic<std::atomic<envelope_vtable const*>*> segment[segments] = {};

    static unsigned segment_of(std::uint32_t n) noexcept { return static_cast<unsigned>(std::bit_width(n)) - 1; }

    std::atomic<envelope_vtable const*>* entry(std::uint32_t n, bool create) noexcept
    {
        unsigned const k = segment_of(n);
        auto* seg = segment[k].load(std::memory_order_acquire);
        if(!seg && create)
        {
            std::size_t const size = std::size_t(1) << k;
            auto* fresh = new(std::nothrow) std::atomic<envelope_vtable const*>[size];
            if(!fresh)
                return nullptr;
            for(std::size_t i = 0; i < size; ++i)
                fresh[i].store(nullptr, std::memory_order_relaxed);
            if(segment[k].compare_exchange_strong(seg, fresh, std::memory_order_acq_rel))
                seg = fresh;
            else
                delete[] fresh; // another thread installed one: seg is it
        }
        return seg ? seg + (n - (std::uint32_t(1) << k)) : nullptr;
    }

    /// The number of `vt`, given now if it has none; 0 if memory ran out.
    std::uint32_t number(envelope_vtable const* vt) noexcept
    {
        std::uint32_t n = vt->tally_index.load(std::memory_order_acquire);
        if(n != 0)
            return n;
        std::uint32_t const fresh = next.fetch_add(1, std::memory_order_relaxed);
        if(fresh >= (std::uint32_t(1) << (segments - 1)))
            return 0; // two billion message types: stop numbering
        auto* e = entry(fresh, true);
        if(!e)
            return 0;
        // registered before the number is published: a worker counts with
        // a number only after it has read it from the table
        e->store(vt, std::memory_order_release);
        if(vt->tally_index.compare_exchange_strong(n, fresh, std::memory_order_acq_rel))
            return fresh;
        // another worker numbered it first: this number stays unused (its
        // entry names the same table, and no count ever goes there)
        return n;
    }
};

constinit table_registry registry;

} // namespace

envelope_vtable const* message_tally::table_of(std::uint32_t n) noexcept
{
    auto* e = registry.entry(n, false);
    return e ? e->load(std::memory_order_acquire) : nullptr;
}

message_tally::~message_tally()
{
    block* b = current_.load(std::memory_order_relaxed);
    while(b)
    {
        block* const older = b->retired;
        delete[] b->counts;
        delete b;
        b = older;
    }
}

void message_tally::count_slow(envelope_vtable const* vt) noexcept
{
    std::uint32_t const n = registry.number(vt);
    if(n == 0)
        return; // out of memory: this message goes uncounted
    std::uint32_t const i = n - 1;
    if(i >= size_)
    {
        // grow to a power of two that holds i (at least 16)
        std::uint32_t const size = std::max<std::uint32_t>(16, std::bit_ceil(i + 1));
        auto* b = new(std::nothrow) block;
        if(!b)
            return;
        b->counts = new(std::nothrow) std::atomic<std::uint64_t>[size];
        if(!b->counts)
        {
            delete b;
            return;
        }
        b->size = size;
        // only this thread writes the old array, so the copies are exact;
        // from now on the counts grow in the new one only
        for(std::uint32_t j = 0; j < size; ++j)
            b->counts[j].store(j < size_ ? counts_[j].load(std::memory_order_relaxed) : 0,
                               std::memory_order_relaxed);
        b->retired = current_.load(std::memory_order_relaxed); // readers may still be reading it
        current_.store(b, std::memory_order_release);
        counts_ = b->counts;
        size_ = size;
    }
    auto& c = counts_[i];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

} // namespace spindle::detail
