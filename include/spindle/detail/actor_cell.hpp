//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_ACTOR_CELL_HPP
#define SPINDLE_DETAIL_ACTOR_CELL_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor.hpp>
#include <spindle/detail/cell_proxy.hpp>
#include <spindle/detail/envelope.hpp>
#include <spindle/detail/mailbox.hpp>
#include <spindle/detail/restart_window.hpp>
#include <spindle/detail/spinlock.hpp>
#include <spindle/enums.hpp>
#include <spindle/id.hpp>
#include <spindle/mailbox.hpp>
#include <spindle/monitor.hpp>

#include <boost/intrusive_ptr.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

namespace spindle {
class actor_base;
namespace detail {

struct system_state;
class message_tally;
template<class T>
class completion_state;
class actor_cell;

/// Creates (and re-creates, on restart) an actor's behaviour object.
struct actor_factory
{
    virtual actor_base* create() const = 0;
    /// Releases the factory itself (a no-op for the shared stateless ones).
    virtual void release() noexcept = 0;

protected:
    ~actor_factory() = default;
};

/** Supervision data of a cell, allocated only for supervisors, supervised
    children and actors the root guardian has restarted.
*/
struct cell_ext
{
    /// A supervisor's children in start order (guarded by the owner's lock).
    std::vector<boost::intrusive_ptr<actor_cell>> children;
    std::atomic<supervision_strategy> strategy{supervision_strategy::one_for_one};
    /// The root guardian's restart times of this actor (its own fiber only).
    restart_window restart_times;
    /// Acknowledgements of suspend / resume / terminate requests and of the
    /// first start (under the lock).
    std::array<std::shared_ptr<completion_state<void>>, 4> acks;
    /// Why a terminate request stops the actor (under the lock).
    exit_reason term_reason = exit_reason::shutdown;
    std::string term_what;
    /// Messages a full mailbox refused (`fail`, `block`) and dropped
    /// (`drop_newest`, `drop_oldest`): counted here, so the data exists only
    /// for actors that overflowed.
    std::atomic<std::uint64_t> refused{0};
    std::atomic<std::uint64_t> dropped{0};

    /// The supervisor's decider for this child's failures (under `decider_lock`;
    /// set after spawn, read on the child's fiber when it fails).
    spinlock decider_lock;
    std::shared_ptr<std::function<directive(std::exception_ptr)> const> decider;
    /// Why the first `pre_start` failed (written before the start acknowledgement).
    std::string start_failure;
    /// The reason given to `basic_actor_ref::stop(reason)` (under the owner's lock).
    std::string stop_what;
};

/// Where an actor is in its life.
enum class cell_state : std::uint8_t
{
    starting, ///< spawned; `pre_start` has not run yet
    running,  ///< handling messages
    stopping, ///< stop requested; `post_stop` is about to run
    stopped,  ///< gone; the mailbox is closed
    suspended ///< ended by a failure or exit; its supervisor decides (mail is kept)
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
    /// Guards the lifecycle data: `started_`, the watchers, and the
    /// acknowledgements and texts in `cell_ext` (never the mail: the
    /// mailbox has its own lock).
    spinlock lock_;
    bool started_ = false; ///< the first `pre_start` has returned
    bool watchers_notified_ = false;
    exit_reason exit_reason_ = exit_reason::normal;

public:
    std::uint16_t home_ = 0; ///< worker that ran it last
    node_type node_ = node_type::worker;

private:
    std::atomic<cell_state> state_{cell_state::starting};
    mailbox mb_;
    std::vector<boost::intrusive_ptr<actor_cell>>* watchers_ = nullptr; ///< monitors of this actor
    std::unique_ptr<std::string> exit_what_; ///< failure text, kept for late monitors

public:
    std::shared_ptr<system_state> sys_;
    actor_base* behavior_ = nullptr;
    actor_factory* factory_ = nullptr;
    /// Set only in a proxy cell (see @ref make_proxy): where its mail goes.
    cell_proxy* proxy_ = nullptr;
    std::type_info const* type_ = nullptr;
    std::unique_ptr<std::string const> name_;
    std::atomic<std::uint32_t> restarts_{0};
    std::atomic<bool> registered_{false}; ///< a name in the registry may point here
    /// The supervisor; null under the root guardian. Set before the cell is
    /// visible, released with the cell.
    boost::intrusive_ptr<actor_cell> parent_;
    std::atomic<cell_ext*> ext_{nullptr};
    actor_id id_;

    /// System flags raised in the mailbox (see `mailbox::raise`).
    static constexpr std::uint8_t flag_start = 1;
    static constexpr std::uint8_t flag_stop = 2;      ///< stop asked through a reference or by the system
    static constexpr std::uint8_t flag_terminate = 4; ///< final stop by the supervisor or shutdown
    static constexpr std::uint8_t flag_suspend = 8;   ///< end this incarnation for a restart
    static constexpr std::uint8_t flag_resume = 16;   ///< start a new incarnation

    /// The supervision data, created on first use (thread-safe).
    cell_ext& ext();
    cell_ext* ext_if() const noexcept { return ext_.load(std::memory_order_acquire); }

    /** Asks for a suspend, resume or terminate, with an acknowledgement the
        caller may wait for (completed when done).

        @return null if the actor has already stopped.
    */
    std::shared_ptr<completion_state<void>> request(
        std::uint8_t flag, exit_reason why = exit_reason::shutdown, std::string what = {});

    /** An acknowledgement completed when the first `pre_start` has returned
        (or the actor stopped); null if that already happened.
    */
    std::shared_ptr<completion_state<void>> await_start();

    /// The children of a supervisor, copied under the lock.
    std::vector<boost::intrusive_ptr<actor_cell>> children() const;

    /// Replaces the children list (the supervisor, on its fiber).
    void set_children(std::vector<boost::intrusive_ptr<actor_cell>> c);

    /// True while suspended (waiting for the supervisor).
    bool suspended() const noexcept;

    actor_cell(std::shared_ptr<system_state> sys, mailbox_options const& mb);

    /** Makes a proxy cell: an actor of type `type` whose mailbox is
        elsewhere. It is never scheduled and never in the system's live
        list; `post` hands every message to `proxy`, which the cell owns
        until its `release`.

        @param sys The local system (its clock times asks sent through it).
        @param id The far actor's id.
        @param name Its name, empty for none.
    */
    static boost::intrusive_ptr<actor_cell> make_proxy(system_state& sys, cell_proxy* proxy,
        actor_id const& id, std::type_info const& type, std::string const& name);

    /** Ends a proxy cell: the far actor is gone (or unreachable). The cell
        reads as stopped from now on, and every local watcher gets exactly
        one `down` with `why` and `what`. Later calls do nothing.
    */
    void end_proxy(exit_reason why, std::string what) noexcept;

    /** Closes the mailbox of an actor abandoned by a shutdown (its handler
        never returned): later sends fail as to a stopped actor, and its
        queued messages become dead letters now.
    */
    void abandon() noexcept;

    /** Disposes of a message that cannot be delivered: counted and
        reported as a dead letter of this actor, a pending reply completed
        with `reason`.
    */
    void dead_letter(envelope* e, error reason) noexcept;

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
        @param tally The running worker's count per message type, where
        each user message is counted.
    */
    run_result run(std::uint32_t budget, std::uint32_t& handled, message_tally& tally) noexcept;

    /// Installs the behaviour object (the cell owns it from now on).
    void set_behavior(actor_base* b) noexcept;

    cell_state state() const noexcept { return state_.load(std::memory_order_acquire); }

    /// Queued user messages (a racy snapshot, for introspection).
    std::uint32_t depth() const noexcept { return mb_.depth(); }

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
    directive root_decide(std::string const& what) noexcept;
    void end_incarnation(directive reported) noexcept;
    /// A fresh behaviour from the factory; false (and `what`) if it threw.
    bool recreate(std::string& what) noexcept;
    void exit_to_parent(exit_reason why, std::string what, directive decided = directive::restart) noexcept;
    void do_suspend() noexcept;
    void do_resume() noexcept;
    void post_exit_again(std::string what) noexcept;
    void complete_ack(std::size_t slot) noexcept;
    void do_start() noexcept;
    void do_stop(exit_reason why, std::string what = {}) noexcept;
    void notify_watchers() noexcept;
    void do_restart() noexcept;
    void close_and_drain() noexcept;
    /// Dead letters (`actor_stopped`) for a list of user messages.
    void dead_letter_list(envelope* e) noexcept;
    /// A full mailbox refuses `e` (fail, block): counted, a dead letter.
    send_status refuse(envelope* e) noexcept;
    /// A full mailbox drops `e` (drop_newest, drop_oldest): counted, a dead letter.
    send_status drop(envelope* e) noexcept;

    // --- supervision lifecycle helpers ---
    /// Ends the incarnation and builds a fresh one in place (root guardian);
    /// false if the actor stopped or waits for its supervisor instead.
    bool renew() noexcept;
    /// What this supervised child's decider says about its failure (`ep`,
    /// or `what` for a reported one); `restart` without a decider.
    directive decide_failure(std::exception_ptr ep, std::string const& what) noexcept;

    /** What follows a handler that threw, reported a failure or asked for
        something other than `resume` (the rare path of @ref run).
        @return true if the actor stopped.
    */
    bool after_handler(std::exception_ptr thrown, bool from_sys, std::type_info const* mtype,
                       actor_id const& sender) noexcept;

public:
    /** Asks the actor to stop with `what` as the reason its monitors see.
        @return false if the actor has already stopped.
    */
    bool stop_with(std::string what) noexcept;
};

} // namespace detail
} // namespace spindle

#endif
