//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_REMOTE_HPP
#define SPINDLE_REMOTE_HPP

// Actors across processes and machines over NATS (link spindle::remote).
#include <spindle/remote/error.hpp>
#include <spindle/remote/message_traits.hpp>
#include <spindle/remote/node.hpp>

#endif
