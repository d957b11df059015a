//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TEST_STREAM_SUPPORT_HPP
#define SPINDLE_TEST_STREAM_SUPPORT_HPP

// Option builders shared by the stream suites (GCC 12 warns about
// designated initializers that leave fields out, under -Wextra), and the
// accounting check every finished stream must pass.

#include <spindle/metrics.hpp>
#include <spindle/stream.hpp>
#include <spindle/system.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace stream_test {

/// 0, 1, ..., n - 1 in a vector: a source for the suites that also run in
/// the Clang sanitizer build, where std::views::iota cannot be used (Clang
/// 14 cannot compile libstdc++ 12's iota_view).
template<class T>
std::vector<T> iota_vec(T n)
{
    std::vector<T> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), T(0));
    return v;
}

/// Stage options with a name.
inline spindle::stage_options named(std::string name)
{
    spindle::stage_options o;
    o.name = std::move(name);
    return o;
}

/// Stage options with an error action (and a name, a retry policy).
inline spindle::stage_options on_error(spindle::error_action a, std::string name = {},
                                       spindle::retry_policy retry = {})
{
    spindle::stage_options o;
    o.name = std::move(name);
    o.on_error = a;
    o.retry = retry;
    return o;
}

/// Buffer options.
inline spindle::buffer_options buffer(std::size_t capacity,
                                      spindle::backpressure strategy = spindle::backpressure::block)
{
    spindle::buffer_options b;
    b.capacity = capacity;
    b.strategy = strategy;
    return b;
}

/// Stage options asking for an input buffer.
inline spindle::stage_options buffered(spindle::buffer_options b, std::string name = {})
{
    spindle::stage_options o;
    o.name = std::move(name);
    o.buffer = b;
    return o;
}

/// Stream options.
inline spindle::stream_options stream_named(std::string name, bool fuse = true,
                                            spindle::buffer_options b = spindle::buffer_options())
{
    spindle::stream_options o;
    o.name = std::move(name);
    o.fuse = fuse;
    o.buffer = b;
    return o;
}

/** The value of one series in `sys`'s metrics registry, or -1 if absent.

    @param labels In any order.
*/
inline double metric_value(spindle::system& sys, std::string const& name, spindle::metrics::labels_type labels)
{
    std::sort(labels.begin(), labels.end());
    for(auto const& f : sys.metrics().snapshot())
        if(f.name == name)
            for(auto const& sample : f.samples)
                if(sample.labels == labels)
                    return sample.value;
    return -1;
}

/** Checks the per-item accounting of a stream that completed: what entered
    the stream went out, was filtered, dropped or failed; and what each
    stage received (or created) it passed on, filtered or failed (its drops
    happen before it, in its input buffer).
*/
inline void check_accounting(spindle::stream_stats const& s)
{
    BOOST_TEST(s.in == s.out + s.filtered + s.dropped + s.errors);
    BOOST_TEST(s.discarded == 0u); // a completed stream discards nothing
    std::uint64_t dropped = 0;
    for(auto const& st : s.stages)
    {
        BOOST_TEST(st.in + st.created == st.out + st.filtered + st.errors, "stage " << st.name);
        dropped += st.dropped;
    }
    BOOST_TEST(dropped == s.dropped);
}

/** Checks the accounting of a stream that ended, however it ended: what
    entered went out, was filtered, dropped, failed, or was discarded by the
    end; and per stage, what reached it (what the stage before passed on;
    for the source, what it produced) or what it created, likewise.
*/
inline void check_end_accounting(spindle::stream_stats const& s)
{
    BOOST_TEST(!s.running);
    BOOST_TEST(s.in == s.out + s.filtered + s.dropped + s.errors + s.discarded);
    std::uint64_t reached = 0;
    std::uint64_t discarded = 0;
    for(std::size_t i = 0; i < s.stages.size(); ++i)
    {
        auto const& st = s.stages[i];
        if(i == 0)
            reached = st.in;
        BOOST_TEST(reached + st.created == st.out + st.filtered + st.dropped + st.errors + st.discarded,
                   "stage " << st.name);
        reached = st.out;
        discarded += st.discarded;
    }
    BOOST_TEST(discarded == s.discarded);
}

} // namespace stream_test

#endif
