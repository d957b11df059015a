//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TRACE_SAMPLER_HPP
#define SPINDLE_TRACE_SAMPLER_HPP

#include <spindle/detail/config.hpp>
#include <spindle/trace/span.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace spindle::trace {

/// A sampler's verdict (OpenTelemetry `SamplingResult.Decision`).
enum class sampling_decision
{
    drop,              ///< not recorded, `sampled` flag clear
    record_only,       ///< recorded, `sampled` flag clear
    record_and_sample  ///< recorded, `sampled` flag set
};

/** Decides whether a new span is recorded (OpenTelemetry `Sampler`).

    @par Thread safety
    `should_sample` is called concurrently from any thread.
*/
class sampler
{
public:
    virtual ~sampler() = default;

    /** @param parent the parent's context, null for a root span.
        @param trace the new span's trace id (the parent's, or a new one).
        @param name the span name.
        @param kind the span kind.
    */
    virtual sampling_decision should_sample(span_context const* parent, trace_id const& trace,
        std::string_view name, span_kind kind) const noexcept = 0;

    /// The spec's description, e.g. `TraceIdRatioBased{0.010000}`.
    virtual std::string description() const = 0;
};

/// Records and samples every span.
SPINDLE_DECL std::shared_ptr<sampler const> always_on();
/// Records no span.
SPINDLE_DECL std::shared_ptr<sampler const> always_off();

/** Samples a fraction `ratio` of traces, deterministically by trace id:
    the id's lower 8 bytes, read big-endian and shifted right by one, are
    compared with `ratio` × 2^63 (the algorithm of OpenTelemetry's
    reference SDKs), so every process given the same ratio agrees.

    @throws boost::system::system_error (`error::bad_option`) if `ratio` is
    not in [0, 1].
*/
SPINDLE_DECL std::shared_ptr<sampler const> trace_id_ratio(double ratio);

/** Follows the parent's decision; `root` decides for root spans.

    A remote parent (from a header) that was sampled uses
    `remote_sampled`, one that was not uses `remote_not_sampled`; likewise
    for local parents. The defaults are the spec's: always-on for sampled
    parents, always-off for the others.
*/
SPINDLE_DECL std::shared_ptr<sampler const> parent_based(std::shared_ptr<sampler const> root,
    std::shared_ptr<sampler const> remote_sampled = always_on(),
    std::shared_ptr<sampler const> remote_not_sampled = always_off(),
    std::shared_ptr<sampler const> local_sampled = always_on(),
    std::shared_ptr<sampler const> local_not_sampled = always_off());

/** The sampler `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` name:
    `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`,
    `parentbased_always_off`, `parentbased_traceidratio`. An empty name is
    the spec's default, `parentbased_always_on`; a missing or unparsable
    ratio is 1.0, as the spec says.

    @param name The sampler's name.
    @param arg The ratio, for the `*traceidratio` samplers.
    @param ec `error::bad_option` for an unknown name.
    @return The sampler, or null on error.
*/
SPINDLE_DECL std::shared_ptr<sampler const> sampler_from_name(
    std::string_view name, std::string_view arg, boost::system::error_code& ec);

} // namespace spindle::trace

#endif
