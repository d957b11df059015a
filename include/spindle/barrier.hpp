//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_BARRIER_HPP
#define SPINDLE_BARRIER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/wait_queue.hpp>
#include <spindle/error.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stop_token>

namespace spindle {

/** A reusable barrier for a fixed group of fibers (or plain threads).

    Each phase, every participant calls @ref arrive_and_wait; the last to
    arrive runs the completion function (if any) while the others are still
    held, then all are released and the next phase begins.

    `boost::fibers::barrier` already does this much and is the right choice
    when nothing more is needed. This one adds what it lacks: a completion
    function (as `std::barrier` has), @ref arrive_and_drop for a participant
    that leaves the group, and waits that honour a `std::stop_token`: a
    participant told to stop withdraws its arrival and returns, so the group
    is not left waiting for a phase that can no longer complete (the phase
    then needs another arrival).

    @par Example
    @code
    spindle::barrier step(workers, [&] { ++generation; });
    for(;;) {
        compute(part);
        step.arrive_and_wait(token);   // throws error::cancelled when told to stop
    }
    @endcode

    @par Thread safety
    All members may be called concurrently from any fiber or thread, except
    the destructor: no call may be in progress when the barrier is destroyed.
    A participant may arrive at the next phase only after its wait for the
    previous one has returned.
*/
class barrier
{
public:
    /// The function the last arrival of each phase runs.
    using completion_type = std::function<void()>;

    /** Constructs a barrier for `participants` participants.

        @param participants The number of arrivals that complete a phase.
        @param completion Run by the last arrival of each phase, before the
        others are released; it may block fiber-style. Empty for none.
        @throws spindle::system_error with `error::invalid_argument` if
        `participants` is zero.
    */
    SPINDLE_DECL explicit barrier(std::size_t participants, completion_type completion = {});

    /// Not copyable: participants refer to one barrier by identity.
    barrier(barrier const&) = delete;
    /// Not copyable: participants refer to one barrier by identity.
    barrier& operator=(barrier const&) = delete;

    /** Arrives and waits for the phase to complete.

        Parks the calling fiber; blocks a plain thread.

        @return True for exactly one participant per phase: the one whose
        arrival completed it (and ran the completion function).
        @throws spindle::system_error with `error::invalid_argument` if every
        participant has dropped out; whatever the completion function
        throws, from the participant that ran it (the phase completes
        regardless).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL bool arrive_and_wait();

    /** Arrives and waits for the phase to complete or a stop request.

        @param st The stop token. When a stop is requested before the phase
        completes, the arrival is withdrawn: the phase still needs as many
        arrivals as before this call.
        @param ec Set to `error::cancelled` if the stop request ended the
        wait, `error::invalid_argument` if every participant has dropped
        out (nothing happens then); cleared otherwise.
        @return True for the participant whose arrival completed the phase.
        @throws Whatever the completion function throws (see above).

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL bool arrive_and_wait(std::stop_token st, boost::system::error_code& ec);

    /** Arrives and waits for the phase to complete or a stop request.

        @param st The stop token; on stop the arrival is withdrawn.
        @return True for the participant whose arrival completed the phase.
        @throws spindle::system_error with `error::cancelled` if the stop
        request ended the wait, `error::invalid_argument` if every
        participant has dropped out; whatever the completion function throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL bool arrive_and_wait(std::stop_token st);

    /** Arrives for the current phase without waiting and leaves the group:
        later phases expect one participant less.

        @return True if this arrival completed the phase (and ran the
        completion function).
        @throws spindle::system_error with `error::invalid_argument` if no
        participant is left; whatever the completion function throws.

        @par Thread safety
        Safe to call concurrently with every member but the destructor.
    */
    SPINDLE_DECL bool arrive_and_drop();

    /** Returns the number of arrivals a phase needs now.

        @par Thread safety
        Safe to call concurrently (the value may be stale on return).
    */
    SPINDLE_DECL std::size_t participants() const noexcept;

    /** Returns how many phases have completed.

        @par Thread safety
        Safe to call concurrently (the value may be stale on return).
    */
    SPINDLE_DECL std::uint64_t phase() const noexcept;

private:
    bool arrive(bool wait, bool drop, std::stop_token const& st, boost::system::error_code& ec);
    static void on_give_up(detail::wait_node& n, detail::wake_batch&) noexcept;

    mutable detail::spinlock lock_;
    detail::wait_queue waiters_;
    completion_type completion_;
    std::size_t participants_;
    std::size_t remaining_;
    std::uint64_t phase_ = 0;
};

} // namespace spindle

#endif
