//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The vocabulary of streams: the defaults are the design's, the error
// category names its errors, the enums print, and stream_failure carries
// the failed stage.

#include <spindle/stream_options.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>

BOOST_AUTO_TEST_SUITE(stream_options)

BOOST_AUTO_TEST_CASE(defaults_are_the_designs)
{
    spindle::buffer_options const b;
    BOOST_TEST(b.capacity == 1000u);
    BOOST_TEST(b.capacity == spindle::defaults::stream_buffer_size);
    BOOST_TEST(b.wait == std::chrono::milliseconds(100));
    BOOST_TEST(b.threshold == 0.8);
    BOOST_TEST(b.strategy == spindle::backpressure::block);

    spindle::stage_options const s;
    BOOST_TEST(s.name.empty());
    BOOST_TEST(s.on_error == spindle::error_action::stop);
    BOOST_TEST(!s.buffer.has_value());
    BOOST_TEST(s.retry.max_attempts == 3u);

    spindle::stream_options const o;
    BOOST_TEST(o.fuse);
    BOOST_TEST(o.name.empty());
    BOOST_TEST(o.buffer.capacity == 1000u);
}

BOOST_AUTO_TEST_CASE(errors_have_a_category_and_messages)
{
    boost::system::error_code ec = spindle::stream_error::sink_full;
    BOOST_TEST(std::string(ec.category().name()) == "spindle.stream");
    BOOST_TEST(ec.message() == "sink full");
    BOOST_TEST(make_error_code(spindle::stream_error::stage_failed).message() == "stream stage failed");
    BOOST_TEST(make_error_code(spindle::stream_error::retries_exhausted).message() ==
               "stream stage failed on every retry");
    BOOST_TEST(make_error_code(spindle::stream_error::sink_closed).message() == "sink closed");
    BOOST_TEST(ec != make_error_code(spindle::error::mailbox_full)); // a category of its own
    BOOST_TEST(boost::system::error_code(99, spindle::stream_category()).message() == "unknown stream error");
}

BOOST_AUTO_TEST_CASE(enums_print)
{
    BOOST_TEST(spindle::to_string(spindle::backpressure::block) == "block");
    BOOST_TEST(spindle::to_string(spindle::backpressure::wait) == "wait");
    BOOST_TEST(spindle::to_string(spindle::backpressure::drop) == "drop");
    BOOST_TEST(spindle::to_string(spindle::backpressure::buffer) == "buffer");
    BOOST_TEST(spindle::to_string(spindle::error_action::stop) == "stop");
    BOOST_TEST(spindle::to_string(spindle::error_action::skip) == "skip");
    BOOST_TEST(spindle::to_string(spindle::error_action::retry) == "retry");
    std::ostringstream os;
    os << spindle::backpressure::drop;
    BOOST_TEST(os.str() == "drop");
}

BOOST_AUTO_TEST_CASE(a_stream_failure_names_the_stage)
{
    auto cause = std::make_exception_ptr(std::runtime_error("bad number"));
    spindle::stream_failure const f(spindle::stream_error::stage_failed,
                                    "stream 'lines': stage 'parse' failed: bad number", "parse", cause);
    BOOST_TEST(f.stage() == "parse");
    BOOST_TEST(f.code() == make_error_code(spindle::stream_error::stage_failed));
    BOOST_TEST(std::string(f.what()).rfind("stream 'lines': stage 'parse' failed: bad number", 0) == 0);
    BOOST_CHECK_THROW(std::rethrow_exception(f.cause()), std::runtime_error);
    spindle::system_error const& base = f; // catchable as any Spindle error
    BOOST_TEST(base.code() == make_error_code(spindle::stream_error::stage_failed));
}

BOOST_AUTO_TEST_SUITE_END()
