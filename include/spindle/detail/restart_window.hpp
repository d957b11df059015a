//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_RESTART_WINDOW_HPP
#define SPINDLE_DETAIL_RESTART_WINDOW_HPP

#include <spindle/detail/config.hpp>

#include <chrono>
#include <cstddef>
#include <vector>

namespace spindle {
namespace detail {

/** The restarts of the last `window`, for a restart intensity (at most N
    restarts within a window).

    Times are recorded in order (the clock never goes back), so the
    expired ones are always a prefix: they are skipped by moving an index
    and compacted away only when they make up half of the storage. Each
    recorded time is thus moved at most a constant number of times, and a
    failure costs amortised O(1) however many restarts the window holds
    (erasing the expired times on every failure was quadratic).
*/
class restart_window
{
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// Forgets the times older than `window` before `now`. @return how many remain.
    std::size_t expire(time_point now, std::chrono::nanoseconds window) noexcept
    {
        while(first_ < times_.size() && now - times_[first_] >= window)
            ++first_;
        if(first_ > 0 && first_ * 2 >= times_.size())
        {
            moved_ += times_.size() - first_;
            times_.erase(times_.begin(), times_.begin() + static_cast<std::ptrdiff_t>(first_));
            first_ = 0;
        }
        return size();
    }

    /// Records a restart at `t` (not before the last one recorded).
    void record(time_point t) { times_.push_back(t); }

    /// The restarts recorded and not expired.
    std::size_t size() const noexcept { return times_.size() - first_; }

    /// Times moved by compactions so far: at most the number recorded
    /// (the bound that makes a failure amortised O(1); tests check it).
    std::size_t moved() const noexcept { return moved_; }

    /// Forgets every time.
    void clear() noexcept
    {
        times_.clear();
        first_ = 0;
    }

private:
    std::vector<time_point> times_;
    std::size_t first_ = 0; ///< the expired prefix ends here
    std::size_t moved_ = 0;
};

} // namespace detail
} // namespace spindle

#endif
