//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_LOAD_HISTOGRAM_HPP
#define SPINDLE_LOAD_HISTOGRAM_HPP

#include <spindle/detail/config.hpp>

#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

namespace spindle::load {

/** A log-linear (HDR-style) histogram of non-negative integer values,
    latencies in nanoseconds for the load runner.

    Values below `2^precision_bits` get a bucket each; above, every power
    of two is split into `2^precision_bits` equal buckets. A reported
    value (a percentile, the mean of a bucket) is the middle of its bucket,
    so it is within `relative_error() = 2^-(precision_bits + 1)` of a value
    that was recorded: 0.39% at the default precision of 7 bits. `min`,
    `max`, `count` and `mean` are exact.

    Memory is bounded by the range, not by the number of samples: at the
    default precision and a highest value of 2^42 ns (73 minutes), 4,736
    counters (37 KB), allocated at construction. Values above `highest` are
    recorded as `highest` and counted by `saturated()`; negative values as 0.

    Histograms of equal precision and range merge exactly (`merge`), so
    per-step histograms add up to per-scenario and total ones.

    @par Thread safety
    Distinct objects: safe. Shared objects: unsafe (record from one thread,
    merge afterwards).
*/
class histogram
{
public:
    /// The default precision: 128 buckets per power of two.
    static constexpr unsigned default_precision_bits = 7;
    /// The default highest value: 2^42 ns, about 73 minutes.
    static constexpr std::int64_t default_highest = std::int64_t(1) << 42;

    /** Creates an empty histogram.

        @param precision_bits Buckets per power of two, as a power of two
        (1 to 16).
        @param highest The highest value kept exactly in range (at least
        `2^precision_bits`).
        @throws std::invalid_argument if either is out of range.
    */
    SPINDLE_DECL explicit histogram(unsigned precision_bits = default_precision_bits,
        std::int64_t highest = default_highest);

    /** Records one value.

        @param v The value; clamped to [0, highest].
    */
    void record(std::int64_t v) noexcept
    {
        if(v < 0)
            v = 0;
        if(v > highest_) [[unlikely]]
        {
            v = highest_;
            ++saturated_;
        }
        ++counts_[index_of(static_cast<std::uint64_t>(v))];
        ++count_;
        sum_ += static_cast<double>(v);
        if(v < min_)
            min_ = v;
        if(v > max_)
            max_ = v;
    }

    /** Adds every value recorded in `other`.

        @throws std::invalid_argument if `other` has another precision or range.
    */
    SPINDLE_DECL void merge(histogram const& other);

    /// Forgets every value (keeps the memory).
    SPINDLE_DECL void reset() noexcept;

    /// @return How many values were recorded.
    std::uint64_t count() const noexcept { return count_; }
    /// @return The smallest value recorded (0 when empty).
    std::int64_t min() const noexcept { return count_ ? min_ : 0; }
    /// @return The largest value recorded (0 when empty).
    std::int64_t max() const noexcept { return count_ ? max_ : 0; }
    /// @return The exact mean of the recorded values (0 when empty).
    double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
    /// @return How many values were above `highest` (recorded as `highest`).
    std::uint64_t saturated() const noexcept { return saturated_; }

    /** The value below or at which `q` percent of the values fall.

        @param q A percentage in [0, 100]; 0 gives `min()`, 100 `max()`.
        @return The middle of the bucket holding the value of rank
        `ceil(q / 100 * count())`, clamped to [min(), max()]; 0 when empty.
    */
    SPINDLE_DECL std::int64_t percentile(double q) const noexcept;

    /// @return The bound on a reported value's relative error, 2^-(precision_bits+1).
    double relative_error() const noexcept { return 1.0 / static_cast<double>(std::uint64_t(2) << precision_bits_); }

    /// @return The precision this histogram was created with.
    unsigned precision_bits() const noexcept { return precision_bits_; }
    /// @return The highest value in range.
    std::int64_t highest() const noexcept { return highest_; }

    /// A non-empty bucket, for plots.
    struct bucket
    {
        std::int64_t low;    ///< smallest value of the bucket
        std::int64_t high;   ///< largest value of the bucket
        std::uint64_t count; ///< values recorded in it
    };

    /// @return The non-empty buckets, lowest first.
    SPINDLE_DECL std::vector<bucket> buckets() const;

private:
    std::size_t index_of(std::uint64_t v) const noexcept
    {
        if(v < sub_count_)
            return static_cast<std::size_t>(v);
        unsigned const shift = static_cast<unsigned>(std::bit_width(v)) - 1 - precision_bits_;
        return (static_cast<std::size_t>(shift) << precision_bits_) + static_cast<std::size_t>(v >> shift);
    }
    std::int64_t bucket_low(std::size_t i) const noexcept;
    std::int64_t bucket_high(std::size_t i) const noexcept;

    unsigned precision_bits_;
    std::uint64_t sub_count_;
    std::int64_t highest_;
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t saturated_ = 0;
    double sum_ = 0;
    std::int64_t min_ = std::numeric_limits<std::int64_t>::max();
    std::int64_t max_ = 0;
};

} // namespace spindle::load

#endif
