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
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace spindle {

class system;
class supervisor;

namespace detail {
class actor_cell;
struct system_state;

/// Spawns (and re-spawns) one kind of child; shared by copies of a child_spec.
struct child_maker
{
    virtual ~child_maker() = default;
    virtual boost::intrusive_ptr<actor_cell> spawn(
        system_state& s, spawn_options const& opts, actor_cell* parent, boost::system::error_code& ec) const = 0;
};

template<class A, class... Args>
struct typed_child_maker;
} // namespace detail

/** How a supervisor starts, restarts and stops one child.

    @code
    auto spec = spindle::child_spec::of<worker>(42)      // constructor arguments, kept for restarts
                    .named("worker-1")
                    .restart(spindle::restart_type::transient)
                    .shutdown(std::chrono::seconds(2));
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

    spawn_options const& spawn() const noexcept { return spawn_; }
    restart_type restart() const noexcept { return restart_; }
    std::chrono::nanoseconds shutdown() const noexcept { return shutdown_; }

    /// The maker (for the runtime).
    detail::child_maker const* maker() const noexcept { return maker_.get(); }

private:
    std::shared_ptr<detail::child_maker const> maker_;
    spawn_options spawn_;
    restart_type restart_ = restart_type::permanent;
    std::chrono::nanoseconds shutdown_ = defaults::child_shutdown;
};

/** What a supervisor does, and the children it starts (in order). */
struct supervisor_spec
{
    supervision_strategy strategy = supervision_strategy::one_for_one;
    restart_intensity intensity{};
    restart_backoff backoff{};
    /// Started in order when the supervisor starts (and after its own restart).
    std::vector<child_spec> children;
    /// Runs last when the supervisor stops, after every child has stopped.
    std::function<void()> on_stop;
};

namespace detail {
struct sup_start_child
{
    child_spec spec;
};
struct sup_terminate_child
{
    actor_id id;
};
struct sup_which_children
{
};
/// The reply to `sup_start_child`: the child, or why it could not start.
struct sup_started
{
    basic_actor_ref ref;
    boost::system::error_code ec;
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
    failure only, temporary ones never. The restarted child keeps its id and
    every `actor_ref` to it; messages queued meanwhile stay and are handled
    in order by the new incarnation; the message whose handler failed goes
    to dead letters (`handler_failed`), so one bad message cannot loop.

    More than `intensity.max_restarts` restarts within `intensity.window`
    make the supervisor stop its children and escalate: it fails, and its
    own parent decides (the root guardian restarts it within its limit).

    Stopping a supervisor stops its children in reverse start order, each
    subtree finishing (or missing its `shutdown` deadline, reported as a
    `deadline_missed` event) before the next, then runs `on_stop`.

    Spawn one with `system::spawn<supervisor>(spec)` or as a child with
    `child_spec::of<supervisor>(spec)`; drive it through @ref supervisor_ref.
*/
class SPINDLE_DECL supervisor final
    : public actor<supervisor, detail::sup_start_child, detail::sup_terminate_child, detail::sup_which_children>
{
public:
    /// For introspection and `spawn`: this actor is a supervisor.
    static constexpr node_type spindle_node_type = node_type::supervisor;

    explicit supervisor(supervisor_spec spec);
    ~supervisor() override;

    void pre_start() override;
    void post_stop() override;

    /// Starts a child now (after those already running).
    detail::sup_started on(detail::sup_start_child const& m);
    /// Stops a child for good. @return false if it is not a child.
    bool on(detail::sup_terminate_child const& m);
    /// The children, in start order.
    std::vector<basic_actor_ref> on(detail::sup_which_children);

    /// The spec it was built from.
    supervisor_spec const& spec() const noexcept;

private:
    friend struct detail::sup_state;
    std::unique_ptr<detail::sup_state> st_;
};

/** A handle to a supervisor: start, list and stop its children.

    The calls are asks: from a fiber they park it, from a plain thread they
    block it, up to the system's ask timeout.
*/
class SPINDLE_DECL supervisor_ref
{
    actor_ref<supervisor> ref_;

public:
    supervisor_ref() noexcept = default;
    explicit supervisor_ref(actor_ref<supervisor> r) noexcept : ref_(std::move(r)) {}

    /** Starts a child under this supervisor.

        @param ec `actor_stopped` (supervisor gone), `name_taken`,
        `system_stopped`, `ask_timeout`.
        @return The child's reference; typed with `child<A>` or by
        constructing `actor_ref<A>(r.cell())`.
    */
    basic_actor_ref start_child(child_spec const& spec, boost::system::error_code& ec) const;
    /// Throwing form of `start_child`.
    basic_actor_ref start_child(child_spec const& spec) const;

    /// Starts a child and returns its typed reference.
    template<class A, class... Args>
    actor_ref<A> start(Args&&... args) const
    {
        return actor_ref<A>(boost::intrusive_ptr<detail::actor_cell>(
            start_child(child_spec::of<A>(std::forward<Args>(args)...)).cell()));
    }

    /// Stops one child for good (not restarted). @return false if it was not a child.
    bool terminate_child(basic_actor_ref const& child, boost::system::error_code& ec) const;
    /// Throwing form of `terminate_child`.
    bool terminate_child(basic_actor_ref const& child) const;

    /// The children in start order (empty and `ec` set if the supervisor is gone).
    std::vector<basic_actor_ref> children(boost::system::error_code& ec) const;
    /// Throwing form of `children`.
    std::vector<basic_actor_ref> children() const;

    /// The child at `index` in start order, typed.
    /// @throws spindle::system_error `unknown_actor` if out of range or not an `A`.
    template<class A>
    actor_ref<A> child(std::size_t index) const
    {
        auto all = children();
        if(index >= all.size() || all[index].type() != typeid(A))
            detail::throw_error(error::unknown_actor, "spindle::supervisor_ref::child");
        return actor_ref<A>(boost::intrusive_ptr<detail::actor_cell>(all[index].cell()));
    }

    /// The supervisor's own reference.
    actor_ref<supervisor> const& ref() const noexcept { return ref_; }
    actor_id id() const noexcept { return ref_.id(); }
    bool alive() const noexcept { return ref_.alive(); }
    /// Stops the supervisor (children first, in reverse start order).
    void stop() const noexcept { ref_.stop(); }
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

} // namespace spindle

#endif

