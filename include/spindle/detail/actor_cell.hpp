//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_ACTOR_CELL_HPP
#define SPINDLE_DETAIL_ACTOR_CELL_HPP

#include <spindle/detail/config.hpp>
#include <spindle/detail/envelope.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/id.hpp>
#include <spindle/mailbox.hpp>
#include <spindle/monitor.hpp>

#include <boost/intrusive_ptr.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

namespace spindle {
class actor_base;
namespace detail {

struct system_state;
struct mailbox_waiters;

/// Creates (and re-creates, on restart) an actor's behaviour object.
struct actor_factory
{
    virtual actor_base* create() const = 0;
    /// Releases the factory itself (a no-op for the shared stateless ones).
    virtual void release() noexcept = 0;

protected:
    ~actor_factory() = default;
};

/// Where an actor is in its life.
enum class cell_state : std::uint8_t
{
    starting, ///< spawned; `pre_start` has not run yet
    running,  ///< handling messages
    stopping, ///< stop requested; `post_stop` is about to run
    stopped   ///< gone; the mailbox is closed
};

/** The runtime's side of one actor: mailbox, scheduling state and identity.

    The cell outlives the behaviour object (which a restart replaces) and is
    reference counted: every `actor_ref` holds one reference, and the system
    holds one while the actor is alive, so a running handler's cell cannot
    vanish under it.

    An idle actor is this cell plus its behaviour object: no fiber, no stack.
*/
class SPINDLE_DECL actor_cell
{
public:
    // --- scheduling (touched by the runtime; grouped for locality) ---
    actor_cell* run_next_ = nullptr; ///< link in a worker's run queue
    actor_cell* live_prev_ = nullptr; ///< links in the system's live list
    actor_cell* live_next_ = nullptr;

private:
    std::atomic<std::uint32_t> refs_{1};
    spinlock lock_; ///< guards everything below up to `sys_`
    bool scheduled_ = false; ///< queued on a worker or running
    bool closed_ = false;    ///< no more user messages accepted
    std::uint8_t sys_flags_ = 0;

public:
    std::uint16_t home_ = 0; ///< worker that ran it last

private:
    std::atomic<cell_state> state_{cell_state::starting};
    std::atomic<std::uint32_t> size_{0}; ///< queued user messages (written under lock_)
    std::uint32_t capacity_ = 0;
    overflow_policy policy_ = overflow_policy::fail;
    envelope* head_ = nullptr;
    envelope* tail_ = nullptr;
    envelope* sys_head_ = nullptr; ///< system messages (down notices): first, never bounded
    envelope* sys_tail_ = nullptr;
    mailbox_waiters* waiters_ = nullptr; ///< only for overflow_policy::block
    std::vector<boost::intrusive_ptr<actor_cell>>* watchers_ = nullptr; ///< monitors of this actor
    bool watchers_notified_ = false;
    exit_reason exit_reason_ = exit_reason::normal;
    std::unique_ptr<std::string> exit_what_; ///< failure text, kept for late monitors

public:
    std::shared_ptr<system_state> sys_;
    actor_base* behavior_ = nullptr;
    actor_factory* factory_ = nullptr;
    std::type_info const* type_ = nullptr;
    std::unique_ptr<std::string const> name_;
    std::uint32_t restarts_ = 0;
    std::atomic<bool> registered_{false}; ///< a name in the registry may point here
    actor_id id_;

    /// System-message flags carried beside the mailbox.
    static constexpr std::uint8_t flag_start = 1;
    static constexpr std::uint8_t flag_stop = 2;

    actor_cell(std::shared_ptr<system_state> sys, mailbox_options const& mb);
    ~actor_cell();

    actor_cell(actor_cell const&) = delete;
    actor_cell& operator=(actor_cell const&) = delete;

    /** Posts a user message.

        Takes ownership of `e` in every case: on failure it is discarded (a
        pending reply fails) and counted as a dead letter.

        @param may_block false for `try_tell`: never wait under `block`.
    */
    send_status post(envelope* e, bool may_block) noexcept;

    /** Posts a system message (a down notice): ahead of user mail, outside
        the capacity, never dropped. Takes ownership of `e`; discarded if
        the actor has stopped.
    */
    void post_system(envelope* e) noexcept;

    /** Adds `watcher` as a monitor of this actor; if this actor has already
        stopped, posts the down notice to `watcher` at once instead.
    */
    void add_watcher(actor_cell* watcher);

    /// Removes one registration of `watcher`.
    void remove_watcher(actor_cell* watcher) noexcept;

    /// Raises system flags (start, stop) and schedules the actor if idle.
    /// @return false if the actor has already stopped.
    bool signal(std::uint8_t flags) noexcept;

    /// What an activation left behind.
    enum class run_result : std::uint8_t
    {
        idle,   ///< mailbox empty; the next message schedules the actor again
        more,   ///< budget used up with mail left: schedule again
        stopped ///< the actor stopped: the runtime retires the cell
    };

    /** Runs one activation: system flags first, then up to `budget` messages.
        Called only by a worker's runner.

        @param handled Set to the number of user messages handled.
    */
    run_result run(std::uint32_t budget, std::uint32_t& handled) noexcept;

    /// Installs the behaviour object (the cell owns it from now on).
    void set_behavior(actor_base* b) noexcept;

    cell_state state() const noexcept { return state_.load(std::memory_order_acquire); }

    /// Queued user messages (a racy snapshot, for introspection).
    std::uint32_t depth() const noexcept
    {
        return size_.load(std::memory_order_relaxed);
    }

    std::string const* name() const noexcept { return name_.get(); }

    friend void intrusive_ptr_add_ref(actor_cell* c) noexcept
    {
        c->refs_.fetch_add(1, std::memory_order_relaxed);
    }

    friend void intrusive_ptr_release(actor_cell* c) noexcept
    {
        if(c->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete c;
    }

private:
    void handle_failure(std::string const& what) noexcept;
    void do_start() noexcept;
    void do_stop(exit_reason why, std::string what = {}) noexcept;
    void notify_watchers() noexcept;
    void do_restart() noexcept;
    void close_and_drain() noexcept;
    send_status post_blocking(envelope* e) noexcept;
};

} // namespace detail
} // namespace spindle

#endif
