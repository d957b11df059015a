//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_ENVELOPE_HPP
#define SPINDLE_DETAIL_ENVELOPE_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/trace_hooks.hpp>
#include <spindle/error.hpp>
#include <spindle/id.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <typeinfo>

namespace spindle {
class actor_base;
namespace detail {

struct envelope;

/** What the runtime can do with a queued message without knowing its type.

    One static table exists per (actor, message, reply) combination, so an
    envelope carries a single pointer of overhead beside the queue link.
    Tables are constant-initialised (`constinit`); only `tally_index` is
    ever written.
*/
struct envelope_vtable
{
    /// Runs the handler on `self`, then destroys the envelope. If the handler
    /// throws, a pending reply fails with `error::handler_failed`, the envelope
    /// is destroyed and the exception propagates to the runtime.
    void (*invoke)(envelope* e, actor_base& self);

    /// Destroys the envelope unhandled; a pending reply fails with `reason`.
    void (*discard)(envelope* e, error reason) noexcept;

    /// The message type, for dead letters and diagnostics.
    std::type_info const* type;

    /// The receiving actor's type for user messages, counted per (actor,
    /// message) type in `spindle_actor_messages_total`; null for the
    /// runtime's internal notices (death watch, supervision), not counted.
    std::type_info const* actor;

    /// The table's number in the workers' message counts, given to it by
    /// the first worker that counts one of its messages; 0 until then.
    mutable std::atomic<std::uint32_t> tally_index{0};

    /// The message object inside the envelope (user messages only), for a
    /// proxy cell that serialises it (see `cell_proxy`); null elsewhere.
    void* (*payload)(envelope* e) noexcept = nullptr;

    /// An ask's `reply_state<R>*` (R is the handler's reply type), null for a
    /// tell. A proxy that takes the reply over adds its own reference first.
    void* (*reply)(envelope* e) noexcept = nullptr;

    /// Destroys the envelope without completing its reply (after a proxy
    /// took the reply over); null where no proxy may receive the envelope.
    void (*destroy)(envelope* e) noexcept = nullptr;

    /// False for a message of the runtime's own machinery (see
    /// `traced_message_v`): sending it captures no trace context and
    /// handling it makes no span.
    bool traced = true;
};

/** False for a message type that declares `using spindle_untraced = void;`:
    one of a component's own machinery (an executor lane's wake-up), whose
    handling is not a step of any request. The work it triggers carries
    its own trace contexts (a task's is captured when it is submitted), so
    a span per such message would only be noise in every trace. */
template<class M>
inline constexpr bool traced_message_v = !requires { typename M::spindle_untraced; };

/** Memory for an envelope of `size` bytes: from the calling thread's
    cache of freed envelopes of its size class (16-byte classes up to 256
    bytes), else from the global allocator. Never returns null (throws
    `std::bad_alloc` like `operator new`).
*/
SPINDLE_DECL void* envelope_allocate(std::size_t size);

/** Returns an envelope's memory to the calling thread's cache (bounded per
    size class; beyond it, and for large envelopes, to the global
    allocator). Any thread may free what another allocated.
*/
SPINDLE_DECL void envelope_deallocate(void* p, std::size_t size) noexcept;

/** A queued message: an intrusive link, its table, the sender, the trace
    context, then the typed payload.

    Envelopes are allocated through @ref envelope_allocate (class-specific
    `operator new`), so sending a message does not call the global
    allocator on the common path. Every envelope type derives from this one
    and is deleted through its own type (the tables' `invoke`, `discard`
    and `destroy`), which gives the sized `operator delete` its size.
*/
struct envelope
{
    static void* operator new(std::size_t size) { return envelope_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { envelope_deallocate(p, size); }

    envelope* next_ = nullptr;
    envelope_vtable const* vtable_ = nullptr;
    /// The actor whose handler sent it (set when it is posted), nil if it
    /// was sent from outside any handler: reported with a dead letter.
    actor_id sender_{};
    /// The sender's trace context (set when it is posted while tracing is
    /// on, see trace_hooks.hpp), null otherwise.
    trace_carrier* trace_ = nullptr;

    envelope() = default;
    envelope(envelope const&) = delete;
    envelope& operator=(envelope const&) = delete;
    ~envelope()
    {
        if(trace_) [[unlikely]]
            trace_->release(trace_);
    }
};

} // namespace detail
} // namespace spindle

#endif
