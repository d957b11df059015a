//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/sampler.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/system/system_error.hpp>

using namespace spindle::trace;

namespace {

trace_id id(char const* hex)
{
    return trace_id::from_hex(hex).value();
}

sampling_decision decide(sampler const& s, span_context const* parent, trace_id const& t)
{
    return s.should_sample(parent, t, "x", span_kind::internal);
}

span_context parent_ctx(bool sampled, bool remote)
{
    span_context p;
    p.trace = id("0af7651916cd43dd8448eb211c80319c");
    p.span = span_id::from_hex("b7ad6b7169203331").value();
    p.flags = sampled ? trace_flags::sampled : 0;
    p.remote = remote;
    return p;
}

constexpr auto yes = sampling_decision::record_and_sample;
constexpr auto no = sampling_decision::drop;

} // namespace

BOOST_AUTO_TEST_CASE(constant_samplers)
{
    auto const t = id("0af7651916cd43dd8448eb211c80319c");
    BOOST_TEST((decide(*always_on(), nullptr, t) == yes));
    BOOST_TEST((decide(*always_off(), nullptr, t) == no));
    BOOST_TEST(always_on()->description() == "AlwaysOnSampler");
    BOOST_TEST(always_off()->description() == "AlwaysOffSampler");
}

// The lower 8 bytes, big-endian, shifted right by one, against ratio * 2^63.
BOOST_AUTO_TEST_CASE(trace_id_ratio_on_fixed_ids)
{
    auto const quarter = trace_id_ratio(0.25); // bound 2^61
    // lower half 0x3ffffffffffffffe >> 1 = 2^61 - 1: sampled
    BOOST_TEST((decide(*quarter, nullptr, id("ffffffffffffffff3ffffffffffffffe")) == yes));
    // lower half 0x4000000000000000 >> 1 = 2^61: not sampled
    BOOST_TEST((decide(*quarter, nullptr, id("00000000000000014000000000000000")) == no));
    // the upper half does not matter
    BOOST_TEST((decide(*quarter, nullptr, id("00000000000000010000000000000001")) == yes));
    BOOST_TEST((decide(*quarter, nullptr, id("ffffffffffffffff0000000000000001")) == yes));
    // the lowest bit is shifted out
    BOOST_TEST((decide(*quarter, nullptr, id("00000000000000013fffffffffffffff")) == yes));
    // the parent does not matter to this sampler
    auto const p = parent_ctx(false, false);
    BOOST_TEST((decide(*quarter, &p, id("00000000000000010000000000000001")) == yes));

    BOOST_TEST((decide(*trace_id_ratio(1.0), nullptr, id("ffffffffffffffffffffffffffffffff")) == yes));
    BOOST_TEST((decide(*trace_id_ratio(0.0), nullptr, id("00000000000000010000000000000001")) == no));
    BOOST_TEST(quarter->description() == "TraceIdRatioBased{0.250000}");
    BOOST_CHECK_THROW(trace_id_ratio(1.5), boost::system::system_error);
    BOOST_CHECK_THROW(trace_id_ratio(-0.1), boost::system::system_error);
}

// About the proportion: 1% of 20 000 random ids, within a wide band.
BOOST_AUTO_TEST_CASE(trace_id_ratio_samples_about_its_ratio)
{
    auto const s = trace_id_ratio(0.01);
    int sampled = 0;
    for(int i = 0; i < 20000; ++i)
        sampled += decide(*s, nullptr, trace_id::random()) == yes;
    BOOST_TEST(sampled > 100);
    BOOST_TEST(sampled < 400);
}

// The spec's table: parent absent -> root; remote/local x sampled/not.
BOOST_AUTO_TEST_CASE(parent_based_combinations)
{
    auto const t = id("0af7651916cd43dd8448eb211c80319c");
    auto const rs = parent_ctx(true, true), rn = parent_ctx(false, true);
    auto const ls = parent_ctx(true, false), ln = parent_ctx(false, false);

    auto const def = parent_based(always_off());
    BOOST_TEST((decide(*def, nullptr, t) == no));
    BOOST_TEST((decide(*def, &rs, t) == yes));
    BOOST_TEST((decide(*def, &rn, t) == no));
    BOOST_TEST((decide(*def, &ls, t) == yes));
    BOOST_TEST((decide(*def, &ln, t) == no));
    BOOST_TEST((decide(*parent_based(always_on()), nullptr, t) == yes));

    // every delegate is used for its own case only
    auto const inverted = parent_based(always_on(), always_off(), always_on(), always_off(), always_on());
    BOOST_TEST((decide(*inverted, nullptr, t) == yes));
    BOOST_TEST((decide(*inverted, &rs, t) == no));
    BOOST_TEST((decide(*inverted, &rn, t) == yes));
    BOOST_TEST((decide(*inverted, &ls, t) == no));
    BOOST_TEST((decide(*inverted, &ln, t) == yes));

    // an invalid parent counts as none
    span_context invalid;
    BOOST_TEST((decide(*inverted, &invalid, t) == yes));
    BOOST_TEST((decide(*def, &invalid, t) == no));

    BOOST_TEST(def->description().starts_with("ParentBased{root:AlwaysOffSampler"));
}

BOOST_AUTO_TEST_CASE(from_environment_names)
{
    boost::system::error_code ec;
    auto const t = id("0000000000000001ffffffffffffffff");
    auto s = sampler_from_name("", "", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(s->description().starts_with("ParentBased{root:AlwaysOnSampler"));
    s = sampler_from_name("always_off", "", ec);
    BOOST_TEST((decide(*s, nullptr, t) == no));
    s = sampler_from_name("traceidratio", "0.5", ec);
    BOOST_TEST(s->description() == "TraceIdRatioBased{0.500000}");
    BOOST_TEST((decide(*s, nullptr, t) == no));
    s = sampler_from_name("parentbased_traceidratio", "nonsense", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(s->description().starts_with("ParentBased{root:TraceIdRatioBased{1.000000}"));
    s = sampler_from_name("parentbased_always_off", "", ec);
    BOOST_TEST((decide(*s, nullptr, t) == no));
    s = sampler_from_name("sometimes", "", ec);
    BOOST_TEST(ec == spindle::trace::make_error_code(error::bad_option));
    BOOST_TEST(!s);
}
