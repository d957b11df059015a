//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_SUPERVISOR_HPP
#define SPINDLE_SUPERVISOR_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/defaults.hpp>
#include <spindle/enums.hpp>
#include <spindle/error.hpp>
#include <spindle/restart_intensity.hpp>
#include <spindle/system.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <exception>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace spindle {

class system;
class supervisor;

/** Decides what a failure of a supervised child means, from the exception
    (`std::runtime_error` with the text for a failure reported by `fail`).

    - `resume`: the child keeps its object and goes on with the next message
      (the failing message is still a dead letter);
    - `restart`: the default; the child's restart type and the supervisor's
      strategy, intensity and backoff apply;
    - `stop`: the child stops for good (as `terminate_child`), whatever its
      restart type; its spec is kept;
    - `escalate`: the supervisor gives up: it stops its children and fails
      to its own parent.

    It runs on the failing child's fiber, so it must be quick and must not
    block; one that throws counts as `restart`.
*/
using decider_type = std::function<directive(std::exception_ptr)>;

/** What a supervisor fails with when it gives up (restart intensity
    exceeded, the `escalate` strategy, or a decider's `escalate`): its parent
    decides about it as about any failure, and monitors of a supervisor that
    stopped for it read `spindle::supervisor_escalation: <why>`.
*/
class supervisor_escalation : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/** The children a supervisor has, by kind (Erlang's `count_children`). */
struct child_counts
{
    std::size_t specs = 0;       ///< child specs held, running or not
    std::size_t active = 0;      ///< children running (or restarting)
    std::size_t supervisors = 0; ///< specs whose child is a supervisor
    std::size_t workers = 0;     ///< the other specs
};

/** One child as `which_children` reports it. */
struct child_info
{
    /// The child's id in its supervisor.
    std::string id;
    /// The running child; empty when it was terminated (its spec is kept).
    basic_actor_ref ref;
    /// `starting`, `running`, `restarting` (including a backoff wait), or
    /// `stopped` when the spec is kept without a child.
    actor_state state = actor_state::stopped;
    /// Its restart type, from its spec.
    restart_type restart = restart_type::permanent;
    /// `supervisor` for a child supervisor, else `worker` or `agent`.
    node_type node = node_type::worker;
    /// The actor's demangled C++ type.
    std::string type;
};

namespace detail {
class actor_cell;
struct system_state;

/// Spawns (and re-spawns) one kind of child; shared by copies of a child_spec.
struct child_maker
{
    virtual ~child_maker() = default;
    virtual boost::intrusive_ptr<actor_cell> spawn(
        system_state& s, spawn_options const& opts, actor_cell* parent, boost::system::error_code& ec) const = 0;
    virtual std::type_info const& type() const noexcept = 0;
    virtual node_type node(spawn_options const& opts) const noexcept = 0;
};

template<class A, class... Args>
struct typed_child_maker;
} // namespace detail

/** How a supervisor starts, restarts and stops one child.

    @code
    auto spec = spindle::child_spec::of<worker>(42)      // constructor arguments, kept for restarts
                    .id("worker-1")                      // the admin calls' handle
                    .restart(spindle::restart_type::transient)
                    .shutdown(std::chrono::seconds(2))
                    .decider([](std::exception_ptr) { return spindle::directive::restart; });
    @endcode
*/
class child_spec
{
public:
    /** A child of actor type `A`, built from copies of `args` at every
        (re)start. Spawning a type that is not an actor, or with arguments
        that cannot be copied, is a compile error naming it.
    */
    template<class A, class... Args>
    static child_spec of(Args&&... args);

    /** The child's id in its supervisor (unique among its specs): the handle
        of `terminate_child`, `restart_child`, `delete_child`, `child<A>`.
        Default: the registry name if one is set, else `"child-N"`, `N`
        counting the children this supervisor incarnation was asked to
        start (from 1), so a spec's children get `child-1`, `child-2`...
    */
    child_spec& id(std::string id)
    {
        id_ = std::move(id);
        return *this;
    }

    /// Registers the child under `name` (unique among live actors).
    child_spec& named(std::string name)
    {
        spawn_.name = std::move(name);
        return *this;
    }

    /// Permanent (default), transient or temporary.
    child_spec& restart(restart_type r) noexcept
    {
        restart_ = r;
        return *this;
    }

    /// How long the supervisor waits for the child to stop before it reports
    /// it (`deadline_missed`) and moves on to the next child.
    child_spec& shutdown(std::chrono::nanoseconds d) noexcept
    {
        shutdown_ = d;
        return *this;
    }

    /// The child's mailbox (default: the system's).
    child_spec& mailbox(mailbox_options const& m)
    {
        spawn_.mailbox = m;
        return *this;
    }

    /// Marks the child as an agent (or worker) for introspection.
    child_spec& node(node_type t) noexcept
    {
        spawn_.node = t;
        return *this;
    }

    /// This child's own decider (see @ref decider_type); it replaces the supervisor's.
    child_spec& decider(decider_type d)
    {
        decider_ = std::move(d);
        return *this;
    }

    /// @return The child's id within its supervisor.
    std::string const& id() const noexcept { return id_; }
    /// @return The options its actor is spawned with.
    spawn_options const& spawn() const noexcept { return spawn_; }
    /// @return Its restart type.
    restart_type restart() const noexcept { return restart_; }
    /// @return How long the supervisor waits for it to stop.
    std::chrono::nanoseconds shutdown() const noexcept { return shutdown_; }
    /// @return Its own decider (empty: the supervisor's).
    decider_type const& decider() const noexcept { return decider_; }

    /// The maker (for the runtime).
    detail::child_maker const* maker() const noexcept { return maker_.get(); }

private:
    std::shared_ptr<detail::child_maker const> maker_;
    std::string id_;
    spawn_options spawn_;
    restart_type restart_ = restart_type::permanent;
    std::chrono::nanoseconds shutdown_ = defaults::child_shutdown;
    decider_type decider_;
};

/** What a supervisor does, and the children it starts (in order). */
struct supervisor_spec
{
    /// Which children a failure restarts.
    supervision_strategy strategy = supervision_strategy::one_for_one;
    /// How many restarts, in how long, before the supervisor gives up and escalates.
    restart_intensity intensity{};
    /// The delay before restarts; none by default (`restart_backoff::base` is 0).
    restart_backoff backoff{};
    /// Decides what each child's failure means (see @ref decider_type);
    /// empty: every failure is `restart`. A child spec's own decider wins.
    decider_type decider;
    /// Started in order when the supervisor starts (and after its own restart).
    std::vector<child_spec> children;
    /// Runs last when the supervisor stops, after every child has stopped.
    std::function<void()> on_stop;

    /** Checks the whole spec: `intensity.window > 0`, `intensity.max_restarts
        >= 0`, the backoff (`base >= 0`, `max >= base`, `multiplier >= 1`,
        `0 <= random_factor <= 1`, `reset_after >= 0`), and every child
        (a spec made by `child_spec::of`, `shutdown >= 0`, ids unique, names
        unique).

        @param what Set to the offending field and value, e.g.
        `"intensity.window must be > 0 (got 0 ns)"`; cleared if valid.
        @return `invalid_argument`, or success.
    */
    SPINDLE_DECL boost::system::error_code validate(std::string& what) const;

    /** Throwing form of `validate`: a supervisor's constructor calls it.
        @throws spindle::system_error `invalid_argument`, its text naming the field.
    */
    SPINDLE_DECL void validate() const;
};

namespace detail {
struct sup_start_child
{
    child_spec spec;
};
struct sup_terminate_child
{
    actor_id id;        ///< by reference (when `child_id` is empty)
    std::string child_id;
};
struct sup_which_children
{
};
struct sup_restart_child
{
    std::string child_id;
};
struct sup_delete_child
{
    std::string child_id;
};
struct sup_count_children
{
};
struct sup_child_infos
{
};
/// The reply to `sup_start_child` and `sup_restart_child`: the child, or why it could not start.
struct sup_started
{
    basic_actor_ref ref;
    boost::system::error_code ec;
    std::string reason;
};
struct sup_state;
} // namespace detail

/** An actor that starts children, watches them and restarts them by its
    strategy (the design of Erlang/OTP's supervisor).

    - **one_for_one**: restart the child that ended;
    - **one_for_all**: stop every other child (reverse start order), then
      restart all in start order;
    - **rest_for_one**: the same for the ended child and those started
      after it;
    - **escalate**: restart nothing; stop all children and fail to the parent.

    A child "ends" when a handler or `pre_start` throws (failure), or when
    it stops itself or is stopped through a reference (normal exit).
    Permanent children are restarted after either, transient ones after a
    failure only, temporary ones never — not even as bystanders of a
    one_for_all or rest_for_one restart: they are stopped and removed.
    A decider (per supervisor or per child spec) may turn a failure into
    `resume`, `stop` or `escalate` instead. The restarted child keeps its
    id and every `actor_ref` to it; messages queued meanwhile stay and are
    handled in order by the new incarnation; the message whose handler
    failed goes to dead letters (`handler_failed`), so one bad message
    cannot loop.

    Restarts run beside the supervisor's own calls: while children stop and
    start again (in order, each `pre_start` returning before the next
    child's begins) the supervisor keeps answering `children`,
    `terminate_child` and the other calls, and a child being restarted
    reads `restarting` in `inspect` and `which_children`.

    More than `intensity.max_restarts` restarts within `intensity.window`
    make the supervisor stop its children and escalate: it fails, and its
    own parent decides (the root guardian restarts it within its limit).

    Stopping a supervisor stops its children in reverse start order, each
    subtree finishing (or missing its `shutdown` deadline, reported as a
    `deadline_missed` event) before the next, then runs `on_stop`.

    Spawn one with `system::spawn<supervisor>(spec)` or as a child with
    `child_spec::of<supervisor>(spec)`; drive it through @ref supervisor_ref.
    The spec is checked first (`supervisor_spec::validate`): a bad one
    throws `spindle::system_error` (`invalid_argument`) from the spawn.
*/
class SPINDLE_DECL supervisor final
    : public actor<supervisor, detail::sup_start_child, detail::sup_terminate_child, detail::sup_which_children,
                   detail::sup_restart_child, detail::sup_delete_child, detail::sup_count_children,
                   detail::sup_child_infos>
{
public:
    /// For introspection and `spawn`: this actor is a supervisor.
    static constexpr node_type spindle_node_type = node_type::supervisor;

    /// @throws spindle::system_error `invalid_argument` if `spec` is not valid.
    explicit supervisor(supervisor_spec spec);
    ~supervisor() override;

    void pre_start() override;
    void post_stop() override;

    /// Starts a child now (after those already running).
    detail::sup_started on(detail::sup_start_child const& m);
    /// Stops a child (its spec is kept). @return false if it is not a running child.
    bool on(detail::sup_terminate_child const& m);
    /// The running children, in start order.
    std::vector<basic_actor_ref> on(detail::sup_which_children);
    /// Starts a terminated child again from its kept spec.
    detail::sup_started on(detail::sup_restart_child const& m);
    /// Forgets a terminated child's spec (the reply's `ec` says why not).
    detail::sup_started on(detail::sup_delete_child const& m);
    /// Counts the children (see `supervisor_ref::count_children`).
    child_counts on(detail::sup_count_children);
    /// Describes the children (see `supervisor_ref::which_children`).
    std::vector<child_info> on(detail::sup_child_infos);

    /// The spec it was built from.
    supervisor_spec const& spec() const noexcept;

private:
    friend struct detail::sup_state;
    std::unique_ptr<detail::sup_state> st_;
};

/** A handle to a supervisor: start, list, stop, restart and delete its
    children (the admin calls of Erlang/OTP's supervisor).

    The calls are asks: from a fiber they park it, from a plain thread they
    block it, up to the system's ask timeout. Each has an `error_code&` form
    and a throwing form.
*/
class SPINDLE_DECL supervisor_ref
{
    actor_ref<supervisor> ref_;

public:
    /// An empty handle.
    supervisor_ref() noexcept = default;
    /// Wraps a supervisor's reference (`spawn_supervisor` returns one already).
    explicit supervisor_ref(actor_ref<supervisor> r) noexcept : ref_(std::move(r)) {}

    /** Starts a child under this supervisor, after those already there, and
        waits until its first `pre_start` has returned.

        @param spec The child's spec (made by `child_spec::of`).
        @param ec `start_failed` (the constructor or the first `pre_start`
        threw: the child is not kept), `name_taken` (its id or registry
        name is in use), `invalid_argument` (a spec not made by
        `child_spec::of`, or an empty handle), `actor_stopped` (supervisor
        gone), `system_stopped`, `ask_timeout`.
        @param reason Set to what went wrong, naming the actor type and the
        exception, e.g. `"my_worker: pre_start threw std::runtime_error: no disk"`.
        @return The child's reference, empty on error.
    */
    basic_actor_ref start_child(child_spec const& spec, boost::system::error_code& ec, std::string& reason) const;
    /// As above, without the reason.
    basic_actor_ref start_child(child_spec const& spec, boost::system::error_code& ec) const;
    /** Throwing form of `start_child`.
        @throws spindle::system_error with the code, its text naming the type and the exception.
    */
    basic_actor_ref start_child(child_spec const& spec) const;

    /** Starts a child of type `A` and returns its typed reference: either
        from constructor arguments (`start_child<worker>(42)`) or from a spec
        of that type (`start_child<worker>(child_spec::of<worker>(42).id("w"))`).
        @throws spindle::system_error as `start_child`; `invalid_argument` if
        the spec is of another type.
    */
    template<class A, class... Args>
    actor_ref<A> start_child(Args&&... args) const;

    /// Older name of `start_child<A>(args...)`.
    template<class A, class... Args>
    actor_ref<A> start(Args&&... args) const
    {
        return start_child<A>(std::forward<Args>(args)...);
    }

    /** Stops one child; its spec stays until `delete_child` (a temporary
        child's spec is dropped at once), so `restart_child` can start it again.
        @return false if it was not a running child.
    */
    bool terminate_child(basic_actor_ref const& child, boost::system::error_code& ec) const;
    /// Throwing form of `terminate_child`.
    bool terminate_child(basic_actor_ref const& child) const;
    /// The same by child id.
    bool terminate_child(std::string_view id, boost::system::error_code& ec) const;
    /// Throwing form of `terminate_child(id)`.
    bool terminate_child(std::string_view id) const;

    /** Starts a terminated child again from its kept spec (a new actor, with a new id).
        @param id The child's id.
        @return The new actor's reference, empty on error.
        @param ec `unknown_actor` (no such id), `child_running`, or as `start_child`.
    */
    basic_actor_ref restart_child(std::string_view id, boost::system::error_code& ec) const;
    /// Throwing form of `restart_child`.
    basic_actor_ref restart_child(std::string_view id) const;

    /** Forgets a terminated child's spec.
        @param id The child's id.
        @param ec `unknown_actor` (no such id) or `child_running` (terminate it first).
    */
    void delete_child(std::string_view id, boost::system::error_code& ec) const;
    /// Throwing form of `delete_child`.
    void delete_child(std::string_view id) const;

    /// The specs, running children, supervisors and workers.
    child_counts count_children(boost::system::error_code& ec) const;
    /// Throwing form of `count_children`.
    child_counts count_children() const;

    /// Every child spec, in start order, with its child and state.
    std::vector<child_info> which_children(boost::system::error_code& ec) const;
    /// Throwing form of `which_children`.
    std::vector<child_info> which_children() const;

    /// The running children in start order (empty and `ec` set if the supervisor is gone).
    std::vector<basic_actor_ref> children(boost::system::error_code& ec) const;
    /// Throwing form of `children`.
    std::vector<basic_actor_ref> children() const;

    /// The running child at `index` in start order, typed.
    /// @throws spindle::system_error `unknown_actor` if out of range or not an `A`.
    template<class A>
    actor_ref<A> child(std::size_t index) const
    {
        auto all = children();
        if(index >= all.size() || all[index].type() != typeid(A))
            detail::throw_error(error::unknown_actor, "spindle::supervisor_ref::child");
        return actor_ref<A>(boost::intrusive_ptr<detail::actor_cell>(all[index].cell()));
    }

    /// The running child with id `id`, typed.
    /// @throws spindle::system_error `unknown_actor` if there is none or it is not an `A`.
    template<class A>
    actor_ref<A> child(std::string_view id) const
    {
        for(auto const& c : which_children())
            if(c.id == id && c.ref && c.ref.type() == typeid(A))
                return actor_ref<A>(boost::intrusive_ptr<detail::actor_cell>(c.ref.cell()));
        detail::throw_error(error::unknown_actor, "spindle::supervisor_ref::child");
    }

    /// The supervisor's own reference.
    actor_ref<supervisor> const& ref() const noexcept { return ref_; }
    /// @return The supervisor's actor id.
    actor_id id() const noexcept { return ref_.id(); }
    /// @return True while the supervisor runs.
    bool alive() const noexcept { return ref_.alive(); }
    /// Stops the supervisor (children first, in reverse start order).
    void stop() const noexcept { ref_.stop(); }
    /// @return True unless the handle is empty.
    explicit operator bool() const noexcept { return static_cast<bool>(ref_); }
};

// --- implementation ---

namespace detail {

template<class A, class... Args>
struct typed_child_maker final : child_maker
{
    std::tuple<Args...> args_;

    template<class... U>
    explicit typed_child_maker(U&&... u) : args_(std::forward<U>(u)...)
    {
    }

    boost::intrusive_ptr<actor_cell> spawn(
        system_state& s, spawn_options const& opts, actor_cell* parent, boost::system::error_code& ec) const override;

    std::type_info const& type() const noexcept override { return typeid(A); }
    node_type node(spawn_options const& opts) const noexcept override { return node_of<A>(opts); }
};

} // namespace detail

template<class A, class... Args>
child_spec child_spec::of(Args&&... args)
{
    child_spec c;
    c.maker_ = std::make_shared<detail::typed_child_maker<A, std::decay_t<Args>...> const>(std::forward<Args>(args)...);
    return c;
}

namespace detail {

template<class A, class... Args>
boost::intrusive_ptr<actor_cell> typed_child_maker<A, Args...>::spawn(
    system_state& s, spawn_options const& opts, actor_cell* parent, boost::system::error_code& ec) const
{
    auto r = std::apply([&](Args const&... a) { return detail::spawn<A>(s, opts, parent, ec, a...); }, args_);
    return boost::intrusive_ptr<actor_cell>(r.cell());
}

} // namespace detail

template<class A, class... Args>
actor_ref<A> supervisor_ref::start_child(Args&&... args) const
{
    child_spec spec;
    if constexpr(sizeof...(Args) == 1 && (std::is_same_v<std::decay_t<Args>, child_spec> && ...))
    {
        spec = child_spec(std::forward<Args>(args)...);
        if(!spec.maker() || spec.maker()->type() != typeid(A))
            detail::throw_error(error::invalid_argument, "spindle::supervisor_ref::start_child: the spec is of another type");
    }
    else
        spec = child_spec::of<A>(std::forward<Args>(args)...);
    return actor_ref<A>(boost::intrusive_ptr<detail::actor_cell>(start_child(spec).cell()));
}

} // namespace spindle

#endif

