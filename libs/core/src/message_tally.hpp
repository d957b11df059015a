//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Messages handled per envelope table on one worker: the data behind
// spindle_actor_messages_total{actor,message}. Not installed.

#ifndef SPINDLE_SRC_MESSAGE_TALLY_HPP
#define SPINDLE_SRC_MESSAGE_TALLY_HPP

#include <spindle/detail/envelope.hpp>

#include <boost/config.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace spindle::detail {

/** A count per envelope table (one table per actor, message and reply
    type), written by one worker thread and read by anyone.

    Each table that is counted gets a number, once per process
    (`envelope_vtable::tally_index`, 1, 2, ...), and a registry maps the
    numbers back to the tables. A worker keeps its counts in an array
    indexed by that number, so counting a message reads the number from
    the table the runtime is about to call anyway and bumps one array
    element: no hashing, no probing, no lock, and, since only the owning
    worker writes, a relaxed load and store instead of a read-modify-write.

    A number past the array's end (a table this worker has not counted
    before, at least not with this array) takes the slow path: the array
    is copied into one large enough, published with a release store, and
    the old one is kept until the tally is destroyed. A reader holding an
    old array therefore never touches freed memory, and as the owner stops
    writing an array once it has copied it, every count a reader sees is at
    least the one any earlier read saw. If memory runs out, the message is
    simply not counted.
*/
class message_tally
{
public:
    message_tally() noexcept = default;
    ~message_tally();

    message_tally(message_tally const&) = delete;
    message_tally& operator=(message_tally const&) = delete;

    /// Counts one message of `vt`. Only the owning thread may call it.
    void count(envelope_vtable const* vt) noexcept
    {
        // numbers start at 1: an unnumbered table (0) wraps around to the
        // largest value and takes the slow path with the tables not yet
        // in the array
        std::uint32_t const i = vt->tally_index.load(std::memory_order_relaxed) - 1u;
        if(BOOST_LIKELY(i < size_))
        {
            auto& c = counts_[i];
            c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            return;
        }
        count_slow(vt);
    }

    /** Calls `f(vt, count)` for every table counted so far (count > 0).
        Any thread. A count read here is never less than one read by an
        earlier call.
    */
    template<class F>
    void for_each(F&& f) const
    {
        block const* const b = current_.load(std::memory_order_acquire);
        if(!b)
            return;
        for(std::uint32_t i = 0; i < b->size; ++i)
        {
            std::uint64_t const n = b->counts[i].load(std::memory_order_relaxed);
            if(n == 0)
                continue;
            // a number is registered before any worker can count with it;
            // should the registry's entry not be visible yet, the count
            // shows up in a later call (and so still never goes down)
            if(envelope_vtable const* const vt = table_of(i + 1))
                f(vt, n);
        }
    }

private:
    struct block
    {
        std::uint32_t size = 0;
        block* retired = nullptr; ///< the array this one replaced
        std::atomic<std::uint64_t>* counts = nullptr;
    };

    /// The table numbered `n`, or null.
    static envelope_vtable const* table_of(std::uint32_t n) noexcept;
    void count_slow(envelope_vtable const* vt) noexcept;

    std::atomic<block*> current_{nullptr}; ///< for readers
    // the owner's copy of the current array: one load less on its path
    std::atomic<std::uint64_t>* counts_ = nullptr;
    std::uint32_t size_ = 0;
};

} // namespace spindle::detail

#endif
