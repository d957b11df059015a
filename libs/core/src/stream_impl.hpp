//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// What the sources of streams share: stream_error.cpp (errors and names),
// stream_stage.cpp (the stages' error handling and trace spans),
// stream_state.cpp (a running stream's state), stream_actors.cpp (the
// actors that run its segments and map_parallel's lanes) and stream.cpp
// (launch). Not installed.

#ifndef SPINDLE_SRC_STREAM_IMPL_HPP
#define SPINDLE_SRC_STREAM_IMPL_HPP

#include <spindle/stream.hpp>

#include <spindle/actor.hpp>
#include <spindle/actor_ref.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <string>

namespace spindle {
class system;
namespace detail {

/// The message of `e`, for a stream's failure.
std::string describe(std::exception_ptr const& e);

/// Ends `seg` once: closes its output if it ended normally, then tells the
/// stream's state that one more segment is done.
void finish_segment(segment_base& seg, bool normal) noexcept;

/** Spawns the actor of `last` (and, through it, of the segments before
    it) and starts it; if that fails, ends them all as cancelled.
*/
bool start_segments(std::shared_ptr<segment_base> last, stream_state& st) noexcept;

/// Spawns lane `index` of map_parallel's `core`.
basic_actor_ref spawn_lane(spindle::system& sys, spawn_options const& so, boost::system::error_code& ec,
                           std::shared_ptr<par_core_base> core, std::size_t index);

} // namespace detail
} // namespace spindle

#endif
