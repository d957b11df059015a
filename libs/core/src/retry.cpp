//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Retry policies: the delay before a retry and the check of a policy.

#include <spindle/retry.hpp>

#include <spindle/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace spindle {

std::chrono::nanoseconds retry_policy::delay(std::size_t retry, double u) const noexcept
{
    if(base_delay.count() <= 0)
        return std::chrono::nanoseconds(0);
    double const cap = static_cast<double>(std::max(max_delay, base_delay).count());
    double const m = multiplier >= 1.0 && std::isfinite(multiplier) ? multiplier : 1.0;
    double d = static_cast<double>(base_delay.count()) * std::pow(m, static_cast<double>(retry > 0 ? retry - 1 : 0));
    if(!(d <= cap))
        d = cap;
    double const j = jitter > 0.0 ? std::min(jitter, 1.0) : 0.0; // NaN reads as 0
    double const r = u > 0.0 ? std::min(u, 1.0) : 0.0;
    d *= 1.0 - j * r;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(d));
}

bool retry_policy::validate(boost::system::error_code& ec) const noexcept
{
    bool const ok = max_attempts >= 1 && base_delay.count() >= 0 && max_delay >= base_delay &&
                    multiplier >= 1.0 && std::isfinite(multiplier) && jitter >= 0.0 && jitter <= 1.0;
    if(ok)
        ec = {};
    else
        ec = error::invalid_argument;
    return ok;
}

} // namespace spindle
