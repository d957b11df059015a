//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_CELL_PROXY_HPP
#define SPINDLE_DETAIL_CELL_PROXY_HPP

#include <spindle/detail/config.hpp>
#include <spindle/mailbox.hpp>

namespace spindle::detail {

class actor_cell;
struct envelope;

/** The extension point for actors whose mailbox is not in this process.

    A cell made with a proxy (see `actor_cell::make_proxy`) has an id, a
    type and a name like any other, and every `actor_ref` works on it, but
    it never runs: `post` hands each envelope to the proxy, which may
    serialise it and send it elsewhere (the remote component does, over
    NATS). Core knows no transport; this interface is all it sees.

    The proxy learns of monitors through `watched`; when the far actor is
    gone it calls `actor_cell::end_proxy`, which delivers exactly one
    `down` to every local watcher.

    @par Thread safety
    Every member may be called from any thread or fiber, concurrently.
    None may block a worker thread.
*/
class cell_proxy
{
public:
    /** Takes ownership of `e` in every case: sends it on, or disposes of it
        (a dead letter through `actor_cell::dead_letter`, a pending reply
        completed with the error).

        @param self The proxy cell the message was posted to.
        @param may_block false for `try_tell` and `async_ask`.
    */
    virtual send_status post(actor_cell& self, envelope* e, bool may_block) noexcept = 0;

    /// The far actor is asked to stop (`actor_ref::stop`).
    virtual void stop(actor_cell& self) noexcept = 0;

    /// A local actor began to monitor `self`: watch the far actor's life.
    virtual void watched(actor_cell& self) noexcept = 0;

    /// The cell is being destroyed: the proxy releases what it holds for it.
    virtual void release(actor_cell& self) noexcept = 0;

protected:
    ~cell_proxy() = default;
};

} // namespace spindle::detail

#endif
