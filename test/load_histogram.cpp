//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/load/histogram.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

using spindle::load::histogram;

namespace {

// The exact percentile of sorted samples, with the histogram's rank rule.
std::int64_t exact(std::vector<std::int64_t> const& sorted, double q)
{
    auto rank = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

void check_within(histogram const& h, std::vector<std::int64_t> samples)
{
    std::sort(samples.begin(), samples.end());
    for(double q : {1.0, 10.0, 50.0, 90.0, 95.0, 99.0, 99.9, 99.99})
    {
        double const want = static_cast<double>(exact(samples, q));
        double const got = static_cast<double>(h.percentile(q));
        BOOST_TEST_CONTEXT("q=" << q << " want=" << want << " got=" << got)
        {
            BOOST_TEST(std::abs(got - want) <= want * h.relative_error() + 1e-9);
        }
    }
    BOOST_TEST(h.min() == samples.front());
    BOOST_TEST(h.max() == samples.back());
    BOOST_TEST(h.percentile(100) == samples.back());
    BOOST_TEST(h.percentile(0) == samples.front());
}

} // namespace

BOOST_AUTO_TEST_CASE(uniform_values_within_the_stated_error)
{
    histogram h;
    BOOST_TEST(h.relative_error() == 1.0 / 256);
    std::vector<std::int64_t> all;
    for(std::int64_t v = 1; v <= 1000000; ++v)
    {
        h.record(v);
        all.push_back(v);
    }
    BOOST_TEST(h.count() == 1000000u);
    BOOST_TEST(h.mean() == 500000.5);
    check_within(h, all);
}

BOOST_AUTO_TEST_CASE(exponential_latencies_on_a_seed_within_the_stated_error)
{
    // latencies around 1 ms with a long tail, as a service has them
    std::mt19937_64 rng(42);
    std::exponential_distribution<double> d(1.0 / 1e6);
    for(unsigned bits : {3u, 5u, 7u, 10u})
    {
        histogram h(bits);
        std::vector<std::int64_t> all;
        for(int i = 0; i < 200000; ++i)
        {
            auto const v = static_cast<std::int64_t>(d(rng)) + 1000;
            h.record(v);
            all.push_back(v);
        }
        BOOST_TEST_CONTEXT("precision_bits=" << bits) { check_within(h, all); }
    }
}

BOOST_AUTO_TEST_CASE(small_values_are_exact)
{
    histogram h(7);
    for(int v = 0; v < 128; ++v)
        h.record(v);
    for(int v = 1; v <= 128; ++v)
        BOOST_TEST(h.percentile(100.0 * v / 128) == v - 1);
}

BOOST_AUTO_TEST_CASE(memory_is_bounded_by_the_range_not_the_samples)
{
    histogram h;
    std::size_t const before = h.buckets().size();
    BOOST_TEST(before == 0u);
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int64_t> d(0, std::int64_t(1) << 40);
    for(int i = 0; i < 1000000; ++i)
        h.record(d(rng));
    // at most 128 buckets per power of two, and 2^42 as the highest value
    BOOST_TEST(h.buckets().size() <= std::size_t(128) * 36);
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_clamped_and_counted)
{
    histogram h(7, 1 << 20);
    h.record(-5);
    h.record(std::int64_t(1) << 30);
    BOOST_TEST(h.count() == 2u);
    BOOST_TEST(h.min() == 0);
    BOOST_TEST(h.max() == (1 << 20));
    BOOST_TEST(h.saturated() == 1u);
    BOOST_CHECK_THROW(histogram(0), std::invalid_argument);
    BOOST_CHECK_THROW(histogram(7, 100), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(merged_halves_equal_the_whole)
{
    std::mt19937_64 rng(3);
    std::lognormal_distribution<double> d(13, 1);
    histogram a, b, whole;
    for(int i = 0; i < 100000; ++i)
    {
        auto const v = static_cast<std::int64_t>(d(rng));
        (i % 2 ? a : b).record(v);
        whole.record(v);
    }
    a.merge(b);
    BOOST_TEST(a.count() == whole.count());
    BOOST_TEST(a.min() == whole.min());
    BOOST_TEST(a.max() == whole.max());
    for(double q : {50.0, 90.0, 99.0, 99.9})
        BOOST_TEST(a.percentile(q) == whole.percentile(q));
    histogram coarse(4);
    BOOST_CHECK_THROW(a.merge(coarse), std::invalid_argument);
    a.reset();
    BOOST_TEST(a.count() == 0u);
    BOOST_TEST(a.percentile(99) == 0);
}
