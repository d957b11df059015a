//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_LOAD_HPP
#define SPINDLE_LOAD_HPP

/// spindle::load: load tests (link target `spindle::load`). See doc/load-and-chaos.md.
#include <spindle/load/config.hpp>
#include <spindle/load/histogram.hpp>
#include <spindle/load/runner.hpp>

#endif
