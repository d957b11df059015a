//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_IMPL_SYSTEM_HPP
#define SPINDLE_IMPL_SYSTEM_HPP

#include <atomic>
#include <cstdint>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace spindle {

/// Never defined: the compile error for spawning a type that is not a `spindle::actor`.
template<class T>
struct type_is_not_a_spindle_actor;

/// Never defined: the compile error for an actor that declares `Message` without an `on(Message)` handler.
template<class Actor, class Message>
struct actor_has_no_handler_for;

/// Never defined: the compile error for spawn arguments that cannot be copied (a restart re-uses them).
template<class Actor>
struct actor_spawn_arguments_must_be_copyable;

namespace detail {

SPINDLE_DECL boost::intrusive_ptr<actor_cell> lookup_cell(system_state& s, std::string_view name) noexcept;

template<class A, class M>
concept has_handler = handles<A, M>;

template<class A, class... Ms>
constexpr bool all_handlers(type_list<Ms...>)
{
    return (has_handler<A, Ms> && ...);
}

// Names only the first message without a handler: one error line.
template<class A, class M, class... Rest>
void report_missing_handler(type_list<M, Rest...>)
{
    if constexpr(!has_handler<A, M>)
        (void)sizeof(actor_has_no_handler_for<A, M>);
    else
        report_missing_handler<A>(type_list<Rest...>{});
}

template<class A>
struct default_factory final : actor_factory
{
    actor_base* create() const override { return new A(); }
    void release() noexcept override {}
    static default_factory instance;
};

template<class A>
default_factory<A> default_factory<A>::instance;

template<class A, class... Args>
struct args_factory final : actor_factory
{
    std::tuple<Args...> args_;

    template<class... U>
    explicit args_factory(U&&... u) : args_(std::forward<U>(u)...)
    {
    }

    actor_base* create() const override
    {
        return std::apply([](Args const&... a) { return new A(a...); }, args_);
    }

    void release() noexcept override { delete this; }
};

template<class A>
constexpr node_type node_of(spawn_options const& opts) noexcept
{
    if constexpr(requires { A::spindle_node_type; })
        return A::spindle_node_type;
    else
        return opts.node;
}

template<class A, class... Args>
actor_ref<A> spawn(system_state& s, spawn_options const& opts, actor_cell* parent, boost::system::error_code& ec, Args&&... args)
{
    if constexpr(!std::is_base_of_v<actor_base, A> || !requires { typename A::message_types; })
    {
        (void)sizeof(type_is_not_a_spindle_actor<A>);
        return {};
    }
    else if constexpr(!(std::is_copy_constructible_v<std::decay_t<Args>> && ...))
    {
        (void)sizeof(actor_spawn_arguments_must_be_copyable<A>);
        return {};
    }
    else if constexpr(!all_handlers<A>(typename A::message_types{}))
    {
        report_missing_handler<A>(typename A::message_types{});
        return {};
    }
    else
    {
        actor_factory* f;
        if constexpr(sizeof...(Args) == 0)
            f = &default_factory<A>::instance;
        else
            f = new args_factory<A, std::decay_t<Args>...>(std::forward<Args>(args)...);
        return actor_ref<A>(spawn_cell(s, opts, f, typeid(A), parent, node_of<A>(opts), ec));
    }
}

template<class A>
struct periodic_send
{
    actor_ref<A> to;
    std::shared_ptr<timer_id> self;
};

} // namespace detail

template<class A, class... Args>
actor_ref<A> system::spawn(Args&&... args)
{
    return spawn_with<A>(spawn_options{}, std::forward<Args>(args)...);
}

template<class A, class... Args>
actor_ref<A> system::spawn_with(spawn_options const& opts, Args&&... args)
{
    boost::system::error_code ec;
    auto r = detail::spawn<A>(*state_, opts, nullptr, ec, std::forward<Args>(args)...);
    if(ec)
        detail::throw_error(ec, "spindle::system::spawn");
    return r;
}

template<class A, class... Args>
actor_ref<A> system::spawn_with(spawn_options const& opts, boost::system::error_code& ec, Args&&... args)
{
    return detail::spawn<A>(*state_, opts, nullptr, ec, std::forward<Args>(args)...);
}

template<class A>
actor_ref<A> system::lookup(std::string_view name, boost::system::error_code& ec) const
{
    auto c = detail::lookup_cell(*state_, name);
    if(!c || *c->type_ != typeid(A))
    {
        ec = error::unknown_actor;
        return {};
    }
    ec = {};
    return actor_ref<A>(std::move(c));
}

template<class A>
actor_ref<A> system::lookup(std::string_view name) const
{
    boost::system::error_code ec;
    auto r = lookup<A>(name, ec);
    if(ec)
        detail::throw_error(ec, "spindle::system::lookup");
    return r;
}

template<class A, class M>
timer_id system::send_after(actor_ref<A> const& to, std::chrono::nanoseconds delay, M msg)
{
    return timers().start(delay, [to, m = std::move(msg)]() mutable { to.tell(std::move(m)); });
}

template<class A, class M>
timer_id system::send_periodically(actor_ref<A> const& to, std::chrono::nanoseconds period, M msg)
{
    // a tick that finds the actor stopped cancels its own timer; the id is
    // published after start, so a tick before that leaves it to the next one
    auto self = std::make_shared<std::atomic<std::uint64_t>>(0);
    auto& t = timers();
    auto id = t.start_periodic(period, period, [to, self, m = std::move(msg), &t]() {
        if(to.tell(M(m)) == send_status::stopped)
            if(auto v = self->load(std::memory_order_acquire))
                t.cancel(timer_id(v));
    });
    self->store(id.value(), std::memory_order_release);
    return id;
}

} // namespace spindle

#endif
