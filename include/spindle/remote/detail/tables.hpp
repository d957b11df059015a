//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_REMOTE_DETAIL_TABLES_HPP
#define SPINDLE_REMOTE_DETAIL_TABLES_HPP

#include <spindle/actor_ref.hpp>
#include <spindle/detail/reply.hpp>
#include <spindle/remote/error.hpp>
#include <spindle/remote/message_traits.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace spindle::remote {

/** Never defined: its name is the compile error for sending `Message`
    between nodes without declaring its wire name ("invalid use of
    incomplete type 'message_needs_remote_traits<ping>'"): specialise
    `spindle::remote::message_traits<ping>` or use SPINDLE_REMOTE_MESSAGE.
*/
template<class Message>
struct message_needs_remote_traits;

namespace detail {

using spindle::detail::actor_cell;

/** What a proxy needs to send one message type (of one actor type) and to
    read its reply. Built at compile time by @ref out_table_for.
*/
struct out_entry
{
    std::type_info const* type;
    std::string_view name;
    unsigned version;
    codec encoding;
    void (*encode)(void const* msg, std::string& out);
    /// Reads a reply payload and completes the `reply_state<R>`; a payload
    /// that cannot be read completes it with `error::bad_reply`.
    void (*complete)(void* reply, std::string_view data) noexcept;
    void (*fail)(void* reply, boost::system::error_code ec) noexcept;
    void (*retain)(void* reply) noexcept;
    void (*release)(void* reply) noexcept;
    bool (*done)(void* reply) noexcept;
};

struct out_table
{
    out_entry const* entries;
    std::size_t size;
    std::type_info const* actor;

    out_entry const* find(std::type_info const& t) const noexcept
    {
        for(std::size_t i = 0; i < size; ++i)
            if(*entries[i].type == t)
                return &entries[i];
        return nullptr;
    }
};

/// Where an inbound ask's reply goes (the node publishes it).
class reply_sink
{
public:
    virtual ~reply_sink() = default;
    /// The handler's reply, encoded.
    virtual void reply(std::string_view type, unsigned version, codec c, std::string const& payload) noexcept = 0;
    /// The ask failed on this side.
    virtual void fail(boost::system::error_code ec) noexcept = 0;
};

/// What a node needs to deliver one inbound message type to an actor.
struct in_entry
{
    std::string_view name;
    unsigned version;
    codec encoding;
    /// Decodes and tells, never waiting. @throws on a payload that does not decode.
    send_status (*tell)(actor_cell* cell, std::string_view data);
    /// Decodes and asks; the reply goes to `sink`. @throws as `tell`.
    void (*ask)(actor_cell* cell, std::string_view data, std::chrono::nanoseconds timeout,
        std::shared_ptr<reply_sink> sink);
};

struct in_table
{
    in_entry const* entries;
    std::size_t size;
    std::type_info const* actor;

    in_entry const* find(std::string_view name) const noexcept
    {
        for(std::size_t i = 0; i < size; ++i)
            if(entries[i].name == name)
                return &entries[i];
        return nullptr;
    }
};

template<class M>
constexpr bool check_traits() noexcept
{
    if constexpr(!declared<M>)
        return sizeof(message_needs_remote_traits<M>) > 0;
    else
        return true;
}

template<class R>
void complete_reply(void* p, std::string_view data) noexcept
{
    auto* st = static_cast<spindle::detail::reply_state<R>*>(p);
    if constexpr(std::is_void_v<R>)
    {
        st->complete(boost::system::result<void>());
    }
    else
    {
        try
        {
            st->complete(boost::system::result<R>(decode<R>(data)));
        }
        catch(...)
        {
            st->complete(boost::system::result<R>(boost::system::in_place_error, make_error_code(error::bad_reply)));
        }
    }
}

template<class R>
void fail_reply(void* p, boost::system::error_code ec) noexcept
{
    static_cast<spindle::detail::reply_state<R>*>(p)->complete(
        boost::system::result<R>(boost::system::in_place_error, ec));
}

template<class R>
void retain_reply(void* p) noexcept
{
    intrusive_ptr_add_ref(static_cast<spindle::detail::reply_state<R>*>(p));
}

template<class R>
void release_reply(void* p) noexcept
{
    intrusive_ptr_release(static_cast<spindle::detail::reply_state<R>*>(p));
}

template<class R>
bool reply_done(void* p) noexcept
{
    return static_cast<spindle::detail::reply_state<R>*>(p)->done();
}

template<class M>
void encode_erased(void const* m, std::string& out)
{
    encode<M>(*static_cast<M const*>(m), out);
}

template<class A, class M>
using reply_t = std::remove_cvref_t<spindle::detail::handler_result_t<A, M>>;

template<class A, class M>
constexpr out_entry make_out_entry() noexcept
{
    using R = reply_t<A, M>;
    return out_entry{&typeid(M), message_traits<M>::name, version_of<M>(), encoding_of<M>(), &encode_erased<M>,
        &complete_reply<R>, &fail_reply<R>, &retain_reply<R>, &release_reply<R>, &reply_done<R>};
}

template<class A, class List>
struct out_table_of;

template<class A, class... Ms>
struct out_table_of<A, spindle::detail::type_list<Ms...>>
{
    static_assert((check_traits<Ms>() && ...));
    static_assert((check_traits<reply_t<A, Ms>>() && ...));
    static constexpr out_entry entries[sizeof...(Ms) == 0 ? 1 : sizeof...(Ms)] = {make_out_entry<A, Ms>()...};
    static constexpr out_table table{entries, sizeof...(Ms), &typeid(A)};
};

/// The outbound table of actor type `A`: one entry per declared message.
template<class A>
out_table const& out_table_for() noexcept
{
    return out_table_of<A, typename A::message_types>::table;
}

/// A reply state whose completion is published back to the asking node.
template<class R>
class sink_reply final : public spindle::detail::reply_state<R>
{
    std::shared_ptr<reply_sink> sink_;

    void deliver(boost::system::result<R>&& r) noexcept override
    {
        if(!r)
        {
            sink_->fail(r.error());
            return;
        }
        std::string payload;
        try
        {
            if constexpr(!std::is_void_v<R>)
                encode<R>(*r, payload);
        }
        catch(...)
        {
            sink_->fail(make_error_code(error::encode_failed));
            return;
        }
        sink_->reply(message_traits<R>::name, version_of<R>(), encoding_of<R>(), payload);
    }

public:
    explicit sink_reply(std::shared_ptr<reply_sink> s) noexcept : sink_(std::move(s)) {}
};

template<class A, class M>
send_status tell_erased(actor_cell* cell, std::string_view data)
{
    M m = decode<M>(data);
    return cell->post(new spindle::detail::tell_envelope<A, M>(std::move(m)), false);
}

template<class A, class M>
void ask_erased(actor_cell* cell, std::string_view data, std::chrono::nanoseconds timeout,
    std::shared_ptr<reply_sink> sink)
{
    using R = reply_t<A, M>;
    M m = decode<M>(data);
    auto* st = new sink_reply<R>(std::move(sink));
    spindle::detail::send_ask<A, M>(cell, std::move(m), timeout, st, false);
}

template<class A, class M>
constexpr in_entry make_in_entry() noexcept
{
    return in_entry{message_traits<M>::name, version_of<M>(), encoding_of<M>(), &tell_erased<A, M>, &ask_erased<A, M>};
}

template<class A, class List>
struct in_table_of;

template<class A, class... Ms>
struct in_table_of<A, spindle::detail::type_list<Ms...>>
{
    static_assert((check_traits<Ms>() && ...));
    static_assert((check_traits<reply_t<A, Ms>>() && ...));
    static constexpr in_entry entries[sizeof...(Ms) == 0 ? 1 : sizeof...(Ms)] = {make_in_entry<A, Ms>()...};
    static constexpr in_table table{entries, sizeof...(Ms), &typeid(A)};
};

/// The inbound table of actor type `A`: one entry per declared message.
template<class A>
in_table const& in_table_for() noexcept
{
    return in_table_of<A, typename A::message_types>::table;
}

/** Encodes a reference for the wire (see `tag_invoke` for `actor_ref`):
    a local actor is exported by the node doing the encoding.

    @throws std::logic_error outside a node's encoding.
*/
SPINDLE_DECL boost::json::value encode_ref(spindle::detail::actor_cell* cell, in_table const& in);

/** Decodes a reference from the wire into a local cell or a proxy.

    @throws std::invalid_argument for a malformed address, std::logic_error
    outside a node's decoding.
*/
SPINDLE_DECL boost::intrusive_ptr<spindle::detail::actor_cell> decode_ref(
    boost::json::value const& jv, std::type_info const& type, out_table const& out);

} // namespace detail
} // namespace spindle::remote

namespace spindle {

/** An `actor_ref` inside a message travels as an address; the receiving
    side gets a reference that reaches the same actor. Only valid while a
    node encodes or decodes a message.
*/
template<class X>
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, actor_ref<X> const& r)
{
    jv = remote::detail::encode_ref(r.cell(), remote::detail::in_table_for<X>());
}

template<class X>
actor_ref<X> tag_invoke(boost::json::value_to_tag<actor_ref<X>>, boost::json::value const& jv)
{
    return actor_ref<X>(remote::detail::decode_ref(jv, typeid(X), remote::detail::out_table_for<X>()));
}

} // namespace spindle

#endif
