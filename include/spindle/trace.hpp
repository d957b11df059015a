//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_HPP
#define SPINDLE_TRACE_HPP

/// spindle::trace: W3C Trace Context, spans, sampling and OTLP export
/// (link spindle::trace).

#include <spindle/trace/context.hpp>
#include <spindle/trace/error.hpp>
#include <spindle/trace/exporter.hpp>
#include <spindle/trace/recent.hpp>
#include <spindle/trace/sampler.hpp>
#include <spindle/trace/span.hpp>
#include <spindle/trace/tracing.hpp>

#endif
