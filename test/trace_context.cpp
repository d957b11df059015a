//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/context.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/system/system_error.hpp>

#include <string>

using spindle::trace::error;
using spindle::trace::parse_traceparent;
using spindle::trace::trace_state;

namespace {

boost::system::error_code parse_error(std::string const& h)
{
    boost::system::error_code ec;
    (void)parse_traceparent(h, ec);
    return ec;
}

} // namespace

// The examples of W3C Trace Context ("traceparent Header Field Values")
BOOST_AUTO_TEST_CASE(spec_examples_parse)
{
    auto const ctx = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    BOOST_TEST(ctx.trace.to_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
    BOOST_TEST(ctx.span.to_hex() == "00f067aa0ba902b7");
    BOOST_TEST(ctx.sampled());
    BOOST_TEST(ctx.remote);
    auto const off = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    BOOST_TEST(!off.sampled());
    auto const other = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    BOOST_TEST(spindle::trace::format_traceparent(other) == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    // unknown flags are accepted in version 00 but not passed on
    auto const flags = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09");
    BOOST_TEST(flags.sampled());
    BOOST_TEST(spindle::trace::format_traceparent(flags) == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

BOOST_AUTO_TEST_CASE(spec_invalid_values_are_rejected)
{
    // version ff is forbidden
    BOOST_TEST(parse_error("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") == spindle::trace::make_error_code(error::bad_traceparent_version));
    // all-zero ids
    BOOST_TEST(parse_error("00-00000000000000000000000000000000-b7ad6b7169203331-01") == spindle::trace::make_error_code(error::zero_trace_id));
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01") == spindle::trace::make_error_code(error::zero_span_id));
    // upper-case hex
    BOOST_TEST(parse_error("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") == spindle::trace::make_error_code(error::bad_traceparent));
    // bad lengths
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319cc-b7ad6b7169203331-01") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("") == spindle::trace::make_error_code(error::bad_traceparent));
    // non-hex characters, wrong separators
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01") == spindle::trace::make_error_code(error::bad_traceparent));
    // version 00 must end after the flags
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-will-be-like") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.") == spindle::trace::make_error_code(error::bad_traceparent));
    // the throwing form names the problem
    BOOST_CHECK_THROW(parse_traceparent("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), boost::system::system_error);
}

// "Versioning of traceparent": a higher version is parsed as far as version 00 goes
BOOST_AUTO_TEST_CASE(future_versions)
{
    boost::system::error_code ec;
    auto ctx = parse_traceparent("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-will-be-like", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(ctx.sampled());
    BOOST_TEST(ctx.trace.to_hex() == "0af7651916cd43dd8448eb211c80319c");
    ctx = parse_traceparent("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", ec);
    BOOST_TEST(!ec);
    // only the sampled flag of a future version is kept
    ctx = parse_traceparent("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(ctx.flags == 0x01);
    BOOST_TEST(parse_error("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.what-the-future-will-be-like") == spindle::trace::make_error_code(error::bad_traceparent));
    BOOST_TEST(parse_error("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331") == spindle::trace::make_error_code(error::bad_traceparent));
}

BOOST_AUTO_TEST_CASE(tracestate_valid)
{
    auto st = trace_state::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    BOOST_TEST(st.members().size() == 2u);
    BOOST_TEST(*st.get("congo") == "t61rcWkgMzE");
    BOOST_TEST(st.to_header() == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    // optional white space and empty list-members
    st = trace_state::parse(" rojo=1 ,\t,congo=2\t, ");
    BOOST_TEST(st.to_header() == "rojo=1,congo=2");
    // multi-tenant keys; a tenant may start with a digit
    st = trace_state::parse("fw529a3039@dt=1,1tenant@sys=2,a*/_-b=3");
    BOOST_TEST(st.members().size() == 3u);
    // a value may contain spaces inside
    st = trace_state::parse("foo=a b");
    BOOST_TEST(*st.get("foo") == "a b");
    // the longest key and value
    std::string const key256 = "a" + std::string(255, 'b');
    std::string const value256(256, 'v');
    BOOST_TEST(trace_state::parse(key256 + "=" + value256).members().size() == 1u);
    // exactly 32 members
    std::string h;
    for(int i = 0; i < 32; ++i)
        h += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
    BOOST_TEST(trace_state::parse(h).members().size() == 32u);
}

BOOST_AUTO_TEST_CASE(tracestate_invalid)
{
    auto err = [](std::string const& h) {
        boost::system::error_code ec;
        auto st = trace_state::parse(h, ec);
        BOOST_TEST(st.empty());
        return ec;
    };
    BOOST_TEST(err("FOO=1") == spindle::trace::make_error_code(error::bad_tracestate));           // upper-case key
    BOOST_TEST(err("1foo=1") == spindle::trace::make_error_code(error::bad_tracestate));          // simple key must start lcalpha
    BOOST_TEST(err("foo@1sys=1") == spindle::trace::make_error_code(error::bad_tracestate));      // system-id must start lcalpha
    BOOST_TEST(err("foo@abcdefghijklmno=1") == spindle::trace::make_error_code(error::bad_tracestate)); // system-id over 14
    BOOST_TEST(err("foo=bar=baz") == spindle::trace::make_error_code(error::bad_tracestate));     // '=' in a value
    BOOST_TEST(err("foo=") == spindle::trace::make_error_code(error::bad_tracestate));            // empty value
    BOOST_TEST(err("foo") == spindle::trace::make_error_code(error::bad_tracestate));             // no '='
    BOOST_TEST(err("foo=1,foo=2") == spindle::trace::make_error_code(error::bad_tracestate));     // duplicate key
    BOOST_TEST(err("foo=\x7f") == spindle::trace::make_error_code(error::bad_tracestate));        // not printable
    BOOST_TEST(err("a" + std::string(256, 'b') + "=1") == spindle::trace::make_error_code(error::bad_tracestate)); // key over 256
    BOOST_TEST(err("foo=" + std::string(257, 'v')) == spindle::trace::make_error_code(error::bad_tracestate));     // value over 256
    std::string h;
    for(int i = 0; i < 33; ++i)
        h += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
    BOOST_TEST(err(h) == spindle::trace::make_error_code(error::tracestate_too_long));
}

BOOST_AUTO_TEST_CASE(tracestate_set_moves_to_front_and_caps)
{
    auto st = trace_state::parse("a=1,b=2,c=3");
    boost::system::error_code ec;
    st.set("c", "4", ec);
    BOOST_TEST(!ec);
    BOOST_TEST(st.to_header() == "c=4,a=1,b=2");
    st.set("Bad", "x", ec);
    BOOST_TEST(ec == spindle::trace::make_error_code(error::bad_tracestate));
    std::string h;
    for(int i = 0; i < 32; ++i)
        h += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
    st = trace_state::parse(h);
    st.set("new", "1", ec);
    BOOST_TEST(st.members().size() == 32u);
    BOOST_TEST(st.members().front().first == "new");
    BOOST_TEST(!st.get("k31"));
}

BOOST_AUTO_TEST_CASE(extract_drops_only_a_bad_tracestate)
{
    auto ctx = spindle::trace::extract("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "a=1,A=2");
    BOOST_REQUIRE(ctx);
    BOOST_TEST(ctx->state.empty());
    ctx = spindle::trace::extract("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "a=1");
    BOOST_REQUIRE(ctx);
    BOOST_TEST(ctx->state.to_header() == "a=1");
    BOOST_TEST(!spindle::trace::extract("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "a=1"));
}

BOOST_AUTO_TEST_CASE(random_ids_are_valid_and_distinct)
{
    auto const a = spindle::trace::trace_id::random(), b = spindle::trace::trace_id::random();
    BOOST_TEST(a.valid());
    BOOST_TEST(!(a == b));
    BOOST_TEST(spindle::trace::span_id::random().valid());
    BOOST_TEST(!spindle::trace::trace_id::from_hex("00000000000000000000000000000000"));
    BOOST_TEST(spindle::trace::trace_id::from_hex(a.to_hex()).value().to_hex() == a.to_hex());
}
