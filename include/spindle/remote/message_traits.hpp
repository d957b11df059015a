//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_REMOTE_MESSAGE_TRAITS_HPP
#define SPINDLE_REMOTE_MESSAGE_TRAITS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/remote/detail/json_parse.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace spindle::remote {

/** How a message travels: the payload's encoding, named on the wire in the
    `Spindle-Codec` header.
*/
enum class codec : std::uint8_t
{
    /// Boost.JSON: `boost::json::value_from` / `value_to` (write
    /// `tag_invoke` overloads, or describe the type with Boost.Describe).
    /// Readable by any NATS client; the default.
    json,
    /// The object's bytes, for trivially copyable types: the fast option,
    /// readable only by the same type on the same architecture.
    binary
};

/** What a message type is on the wire. Sending a type between nodes needs
    this specialised (or `SPINDLE_REMOTE_MESSAGE`); otherwise the
    compile error names `message_traits<M>` and says what to declare.

    @code
    template<>
    struct spindle::remote::message_traits<ping>
    {
        static constexpr std::string_view name = "demo.ping"; // unique, stable
        static constexpr unsigned version = 1;                 // bump on change
        static constexpr codec encoding = codec::json;
    };
    @endcode
*/
template<class M>
struct message_traits
{
    /// Marks the primary template: no traits declared.
    static constexpr bool undeclared = true;
};

namespace detail {

template<class M>
concept declared = !requires { message_traits<M>::undeclared; };

template<class M>
constexpr codec encoding_of() noexcept
{
    if constexpr(requires { message_traits<M>::encoding; })
        return message_traits<M>::encoding;
    else
        return codec::json;
}

template<class M>
constexpr unsigned version_of() noexcept
{
    if constexpr(requires { message_traits<M>::version; })
        return message_traits<M>::version;
    else
        return 1;
}

/// Encodes `m` with its codec into `out` (replacing its contents).
template<class M>
void encode(M const& m, std::string& out)
{
    if constexpr(encoding_of<M>() == codec::binary)
    {
        static_assert(std::is_trivially_copyable_v<M>,
            "codec::binary needs a trivially copyable message type");
        out.assign(reinterpret_cast<char const*>(&m), sizeof(M));
    }
    else
    {
        out = boost::json::serialize(boost::json::value_from(m));
    }
}

/** Decodes a payload as `M`.

    @throws std::exception naming what is wrong (bad JSON, a missing field,
    a wrong size).
*/
template<class M>
M decode(std::string_view data)
{
    if constexpr(encoding_of<M>() == codec::binary)
    {
        if(data.size() != sizeof(M))
            throw std::invalid_argument(
                "binary payload of " + std::to_string(data.size()) + " bytes, expected " + std::to_string(sizeof(M)));
        M m;
        std::memcpy(static_cast<void*>(&m), data.data(), sizeof(M));
        return m;
    }
    else
    {
        boost::system::error_code ec;
        // doubles read back exactly as they were sent (json_parse.hpp)
        auto jv = parse_exact(data, ec);
        if(ec)
            throw std::invalid_argument("malformed JSON: " + ec.message());
        return boost::json::value_to<M>(jv);
    }
}

} // namespace detail

/// The reply of a handler returning nothing.
template<>
struct message_traits<void>
{
    static constexpr std::string_view name = "void"; ///< the wire name
    static constexpr unsigned version = 1;           ///< the wire version
};

#define SPINDLE_REMOTE_BUILTIN_(T, N)                                                                                  \
    template<>                                                                                                         \
    struct message_traits<T>                                                                                           \
    {                                                                                                                  \
        static constexpr std::string_view name = N;                                                                    \
        static constexpr unsigned version = 1;                                                                         \
    };

SPINDLE_REMOTE_BUILTIN_(bool, "bool")
SPINDLE_REMOTE_BUILTIN_(int, "int32")
SPINDLE_REMOTE_BUILTIN_(unsigned, "uint32")
SPINDLE_REMOTE_BUILTIN_(long, "int64")
SPINDLE_REMOTE_BUILTIN_(unsigned long, "uint64")
SPINDLE_REMOTE_BUILTIN_(long long, "int64")
SPINDLE_REMOTE_BUILTIN_(unsigned long long, "uint64")
SPINDLE_REMOTE_BUILTIN_(double, "double")
SPINDLE_REMOTE_BUILTIN_(std::string, "string")

#undef SPINDLE_REMOTE_BUILTIN_

} // namespace spindle::remote

/** Declares how `Type` travels between nodes: wire name `Name` (a string
    literal, unique in the deployment), version `Version`, JSON codec.
    Use at namespace scope, outside any namespace.
*/
#define SPINDLE_REMOTE_MESSAGE(Type, Name, Version)                                                                    \
    template<>                                                                                                         \
    struct spindle::remote::message_traits<Type>                                                                       \
    {                                                                                                                  \
        static constexpr std::string_view name = Name;                                                                 \
        static constexpr unsigned version = Version;                                                                   \
        static constexpr ::spindle::remote::codec encoding = ::spindle::remote::codec::json;                           \
    }

/// Like @ref SPINDLE_REMOTE_MESSAGE, with the binary codec (trivially copyable types).
#define SPINDLE_REMOTE_MESSAGE_BINARY(Type, Name, Version)                                                             \
    template<>                                                                                                         \
    struct spindle::remote::message_traits<Type>                                                                       \
    {                                                                                                                  \
        static constexpr std::string_view name = Name;                                                                 \
        static constexpr unsigned version = Version;                                                                   \
        static constexpr ::spindle::remote::codec encoding = ::spindle::remote::codec::binary;                         \
    }

#endif
