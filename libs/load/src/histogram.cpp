//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/load/histogram.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace spindle::load {

histogram::histogram(unsigned precision_bits, std::int64_t highest)
    : precision_bits_(precision_bits)
    , sub_count_(std::uint64_t(1) << (precision_bits > 16 ? 16 : precision_bits))
    , highest_(highest)
{
    if(precision_bits < 1 || precision_bits > 16)
        throw std::invalid_argument("histogram: precision_bits must be in [1, 16]");
    if(highest < static_cast<std::int64_t>(sub_count_))
        throw std::invalid_argument("histogram: highest must be at least 2^precision_bits");
    counts_.assign(index_of(static_cast<std::uint64_t>(highest)) + 1, 0);
}

void histogram::merge(histogram const& other)
{
    if(other.precision_bits_ != precision_bits_ || other.highest_ != highest_)
        throw std::invalid_argument("histogram::merge: another precision or range");
    if(other.count_ == 0)
        return;
    for(std::size_t i = 0; i < counts_.size(); ++i)
        counts_[i] += other.counts_[i];
    count_ += other.count_;
    saturated_ += other.saturated_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void histogram::reset() noexcept
{
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = saturated_ = 0;
    sum_ = 0;
    min_ = std::numeric_limits<std::int64_t>::max();
    max_ = 0;
}

std::int64_t histogram::bucket_low(std::size_t i) const noexcept
{
    if(i < sub_count_)
        return static_cast<std::int64_t>(i);
    std::size_t const shift = (i >> precision_bits_) - 1;
    std::uint64_t const mantissa = i - (shift << precision_bits_);
    return static_cast<std::int64_t>(mantissa << shift);
}

std::int64_t histogram::bucket_high(std::size_t i) const noexcept
{
    if(i < sub_count_)
        return static_cast<std::int64_t>(i);
    std::size_t const shift = (i >> precision_bits_) - 1;
    return bucket_low(i) + static_cast<std::int64_t>((std::uint64_t(1) << shift) - 1);
}

std::int64_t histogram::percentile(double q) const noexcept
{
    if(count_ == 0)
        return 0;
    if(!(q > 0))
        return min();
    if(q >= 100)
        return max();
    auto rank = static_cast<std::uint64_t>(std::ceil(q / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for(std::size_t i = 0; i < counts_.size(); ++i)
    {
        seen += counts_[i];
        if(seen >= rank)
        {
            std::int64_t const low = bucket_low(i);
            std::int64_t const mid = low + (bucket_high(i) - low) / 2;
            return std::clamp(mid, min(), max());
        }
    }
    return max();
}

std::vector<histogram::bucket> histogram::buckets() const
{
    std::vector<bucket> out;
    for(std::size_t i = 0; i < counts_.size(); ++i)
        if(counts_[i] != 0)
            out.push_back({bucket_low(i), bucket_high(i), counts_[i]});
    return out;
}

} // namespace spindle::load
