//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_REMOTE_DETAIL_FRAME_HPP
#define SPINDLE_REMOTE_DETAIL_FRAME_HPP

#include <spindle/detail/config.hpp>

#include <string>
#include <string_view>

namespace spindle::remote::detail {

/** Writes the binary frame (doc/remote.md): what a Spindle node sends for a
    message of the binary codec instead of headers, so that neither side
    builds a header table for it. JSON payloads never start with a NUL.

    `\0SPN` | name length (1 byte) | name | version (4 bytes, little endian) | payload

    (A node also sends `\0SPT` frames, which carry a trace context between
    the version and the payload: see doc/remote.md. This function writes the
    untraced form.)

    @param out Receives the frame (its contents replaced).
    @param name The message type's name: shorter than 256 bytes.
    @param version The message type's version.
    @param payload The encoded message.
*/
SPINDLE_DECL void append_frame(std::string& out, std::string_view name, unsigned version, std::string_view payload);

/** Reads a binary frame, untraced (`\0SPN`) or traced (`\0SPT`, whose
    trace context is skipped); anything else (a JSON payload, a truncated frame)
    is not one. Exposed for the wire fuzzer (test/fuzz/remote_wire.cpp).

    @param d The message data, as received.
    @param name Receives the type name (a view into `d`).
    @param version Receives the version.
    @param payload Receives the payload (a view into `d`).
    @return Whether `d` is a complete frame; if not, the outputs are unspecified.
*/
SPINDLE_DECL bool parse_frame(
    std::string_view d, std::string_view& name, unsigned& version, std::string_view& payload) noexcept;

} // namespace spindle::remote::detail

#endif
