//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_ID_HPP
#define SPINDLE_ID_HPP

#include <spindle/detail/config.hpp>
#include <spindle/error.hpp>

#include <boost/uuid/uuid.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <string>
#include <string_view>

namespace spindle {

namespace detail {

// The non-template parts of basic_id live in the core library so that this
// header stays free of the random, string and stream machinery.

/// Returns a random (version 4) uuid from a per-thread, once-seeded generator.
SPINDLE_DECL boost::uuids::uuid generate_uuid();

/// Writes the 36-character canonical form of `u` to `out` (no terminator).
SPINDLE_DECL void uuid_to_chars(boost::uuids::uuid const& u, char* out) noexcept;

/// Parses the 36-character canonical form (hex digits in either case).
/// @return `false`, leaving `u` unchanged, when `s` is not in that form.
SPINDLE_DECL bool uuid_from_chars(std::string_view s, boost::uuids::uuid& u) noexcept;

/// Writes the canonical form of `u` to `os`, honouring its width and fill.
SPINDLE_DECL std::ostream& write_uuid(std::ostream& os, boost::uuids::uuid const& u);

/// Throws `spindle::system_error` (`error::invalid_argument`) naming `input`.
[[noreturn]] SPINDLE_DECL void throw_bad_id(std::string_view type_name, std::string_view input);

/// Mixes both halves of the uuid so that ids whose randomness sits in a few
/// bytes (hand-made or parsed ones) still spread over the buckets.
inline std::size_t hash_uuid(boost::uuids::uuid const& u) noexcept
{
    std::uint64_t lo;
    std::uint64_t hi;
    std::memcpy(&lo, u.data, 8);
    std::memcpy(&hi, u.data + 8, 8);
    std::uint64_t x = lo ^ (hi * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return static_cast<std::size_t>(x);
}

template<class Tag>
constexpr std::string_view id_type_name() noexcept
{
    if constexpr(requires { std::string_view(Tag::name); })
        return Tag::name;
    else
        return "id";
}

} // namespace detail

/** A strongly typed, 16-byte identifier backed by a UUID.

    Each `Tag` gives a distinct type: a @ref task_id is not an @ref actor_id
    and neither converts into the other, so ids cannot be mixed up at call
    sites. A default-constructed id is nil (all zero bits); @ref generate
    makes a random version 4 UUID. The text form is the canonical
    36-character lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.

    To make an id type of your own, declare a tag with a
    `static constexpr std::string_view name` (used in error messages) and use
    `basic_id<your_tag>`.

    @tparam Tag An empty type that distinguishes this id type from others.

    @par Thread safety
    Distinct objects: safe. Shared objects: safe for concurrent reads.
*/
template<class Tag>
class basic_id
{
public:
    /// The tag that distinguishes this id type.
    using tag_type = Tag;

    /// Constructs the nil id.
    constexpr basic_id() noexcept = default;

    /** Constructs an id holding `u`.

        @param u The uuid to wrap. Any value is accepted, including nil.
    */
    constexpr explicit basic_id(boost::uuids::uuid const& u) noexcept
        : uuid_(u)
    {
    }

    /** Returns a new random id.

        The id is a version 4 UUID drawn from a per-thread Mersenne Twister
        that is seeded once per thread from the operating system, so no
        system call is made per id. It is never nil.

        @return A fresh id.

        @throws boost::uuids::entropy_error If the operating system cannot
        provide a seed (only on the first call in a thread).

        @par Thread safety
        Safe to call from any thread and from fibers.
    */
    static basic_id generate()
    {
        return basic_id(detail::generate_uuid());
    }

    /** Parses the canonical 36-character form.

        Hex digits may be upper or lower case; nothing else is accepted (no
        braces, no missing dashes, no surrounding space).

        @param s The text to parse.

        @param ec Set to `error::invalid_argument` when `s` is not a UUID,
        cleared otherwise.

        @return The parsed id, or the nil id on error.

        @par Thread safety
        Safe to call from any thread.
    */
    static basic_id from_string(std::string_view s, boost::system::error_code& ec) noexcept
    {
        basic_id id;
        if(detail::uuid_from_chars(s, id.uuid_))
            ec = {};
        else
            ec = make_error_code(error::invalid_argument);
        return id;
    }

    /** Parses the canonical 36-character form.

        @param s The text to parse.

        @return The parsed id.

        @throws spindle::system_error With `error::invalid_argument` and a
        message quoting `s` when it is not a UUID.

        @par Thread safety
        Safe to call from any thread.
    */
    static basic_id from_string(std::string_view s)
    {
        basic_id id;
        if(!detail::uuid_from_chars(s, id.uuid_))
            detail::throw_bad_id(detail::id_type_name<Tag>(), s);
        return id;
    }

    /** Returns whether this is the nil id.

        @return `true` if every bit is zero.
    */
    bool is_nil() const noexcept
    {
        return uuid_.is_nil();
    }

    /** Returns the underlying uuid.

        @return A reference to the wrapped uuid, valid as long as this id.
    */
    constexpr boost::uuids::uuid const& uuid() const noexcept
    {
        return uuid_;
    }

    /** Returns the canonical 36-character lowercase form.

        @return The text form, e.g. `"0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07"`.
    */
    std::string to_string() const
    {
        std::string s(36, '\0');
        detail::uuid_to_chars(uuid_, s.data());
        return s;
    }

    /** Writes the canonical form to a stream.

        @param os The stream; its width and fill are honoured.

        @param id The id to write.

        @return `os`.
    */
    friend std::ostream& operator<<(std::ostream& os, basic_id const& id)
    {
        return detail::write_uuid(os, id.uuid_);
    }

    /// Compares the 16 bytes of two ids.
    friend bool operator==(basic_id const& a, basic_id const& b) noexcept
    {
        return std::memcmp(a.uuid_.data, b.uuid_.data, 16) == 0;
    }

    /// Orders ids by their bytes, which is also the order of their text forms.
    friend std::strong_ordering operator<=>(basic_id const& a, basic_id const& b) noexcept
    {
        return std::memcmp(a.uuid_.data, b.uuid_.data, 16) <=> 0;
    }

    /** Returns a hash of the id, for `boost::hash` and Boost containers.

        @param id The id to hash.

        @return The same value `std::hash<basic_id>` returns.
    */
    friend std::size_t hash_value(basic_id const& id) noexcept
    {
        return detail::hash_uuid(id.uuid_);
    }

private:
    boost::uuids::uuid uuid_{};
};

/// The tags of Spindle's id types; each names its id type in error messages.
namespace tags {
/// Tag of @ref actor_id.
struct actor { static constexpr std::string_view name = "actor_id"; ///< the id type's name
};
/// Tag of @ref task_id.
struct task { static constexpr std::string_view name = "task_id"; ///< the id type's name
};
/// Tag of @ref node_id.
struct node { static constexpr std::string_view name = "node_id"; ///< the id type's name
};
/// Tag of @ref component_id.
struct component { static constexpr std::string_view name = "component_id"; ///< the id type's name
};
/// Tag of @ref tool_id.
struct tool { static constexpr std::string_view name = "tool_id"; ///< the id type's name
};
/// Tag of @ref event_id.
struct event { static constexpr std::string_view name = "event_id"; ///< the id type's name
};
/// Tag of @ref handler_id.
struct handler { static constexpr std::string_view name = "handler_id"; ///< the id type's name
};
} // namespace tags

/// Identifies an actor for its whole life, across restarts.
using actor_id = basic_id<tags::actor>;

/// Identifies an agent. An agent is an actor, so this is @ref actor_id.
using agent_id = actor_id;

/// Identifies a task submitted to an executor.
using task_id = basic_id<tags::task>;

/// Identifies a node (process) of a distributed system.
using node_id = basic_id<tags::node>;

/// Identifies a registered component.
using component_id = basic_id<tags::component>;

/// Identifies a registered tool.
using tool_id = basic_id<tags::tool>;

/// Identifies a single published event.
using event_id = basic_id<tags::event>;

/// Identifies a subscribed event handler (to unsubscribe it later).
using handler_id = basic_id<tags::handler>;

} // namespace spindle

/// Hashes Spindle ids for the standard unordered containers.
template<class Tag>
struct std::hash<spindle::basic_id<Tag>>
{
    /// @return `hash_value(id)`.
    std::size_t operator()(spindle::basic_id<Tag> const& id) const noexcept
    {
        return hash_value(id);
    }
};

#endif
