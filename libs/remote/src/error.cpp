//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/remote/error.hpp>

namespace spindle::remote {

namespace {
class category_impl final : public boost::system::error_category
{
public:
    constexpr category_impl() noexcept : boost::system::error_category(0x5370696e646c6552ULL) {}

    char const* name() const noexcept override { return "spindle.remote"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    char const* message(int ev, char*, std::size_t) const noexcept override
    {
        switch(static_cast<error>(ev))
        {
        case error::not_connected: return "node not connected to NATS";
        case error::connection_lost: return "NATS connection lost while the ask was in flight";
        case error::payload_too_large: return "message larger than the NATS server's max_payload";
        case error::unknown_type: return "receiver does not know the message type";
        case error::version_mismatch: return "message type version mismatch";
        case error::decode_failed: return "message could not be decoded";
        case error::encode_failed: return "message could not be encoded";
        case error::node_lost: return "node lost (missed heartbeats)";
        case error::bad_reply: return "malformed reply";
        case error::nats_failed: return "NATS client error";
        }
        return "unknown spindle.remote error";
    }
};
constexpr category_impl the_category;
} // namespace

boost::system::error_category const& error_category() noexcept
{
    return the_category;
}

} // namespace spindle::remote
