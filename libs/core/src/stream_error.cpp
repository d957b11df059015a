//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Streams' errors: the error category of stream_error, the names of the
// backpressure strategies and error actions, the message of a stage's
// exception, and the exceptions a failed or refused stream throws.

#include <spindle/stream.hpp>

#include "stream_impl.hpp"

#include <ostream>
#include <string>

namespace spindle {

//------------------------------------------------------------------------------
// errors and names

namespace {

class stream_category_impl final : public boost::system::error_category
{
public:
    constexpr stream_category_impl() noexcept : boost::system::error_category(0x5e1d1e0c0ffee008ULL) {}

    char const* name() const noexcept override { return "spindle.stream"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    char const* message(int ev, char*, std::size_t) const noexcept override
    {
        switch(static_cast<stream_error>(ev))
        {
        case stream_error::stage_failed: return "stream stage failed";
        case stream_error::retries_exhausted: return "stream stage failed on every retry";
        case stream_error::sink_full: return "sink full";
        case stream_error::sink_closed: return "sink closed";
        }
        return "unknown stream error";
    }
};

constexpr stream_category_impl the_stream_category;

} // namespace

boost::system::error_category const& stream_category() noexcept
{
    return the_stream_category;
}

std::string_view to_string(backpressure b) noexcept
{
    switch(b)
    {
    case backpressure::block: return "block";
    case backpressure::wait: return "wait";
    case backpressure::drop: return "drop";
    case backpressure::buffer: return "buffer";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, backpressure b)
{
    return os << to_string(b);
}

std::string_view to_string(error_action a) noexcept
{
    switch(a)
    {
    case error_action::stop: return "stop";
    case error_action::skip: return "skip";
    case error_action::retry: return "retry";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, error_action a)
{
    return os << to_string(a);
}

namespace detail {

std::string describe(std::exception_ptr const& e)
{
    if(!e)
        return "unknown failure";
    try
    {
        std::rethrow_exception(e);
    }
    catch(std::exception const& x)
    {
        return x.what();
    }
    catch(...)
    {
        return "an exception not derived from std::exception";
    }
}

void throw_stream_error(boost::system::error_code ec, std::string const& what)
{
    throw_error(ec, what.c_str());
}

void throw_stream_failure(stream_state const& st)
{
    boost::throw_exception(stream_failure(st.code(), st.describe(), st.failed_stage(), st.exception()));
}

} // namespace detail

} // namespace spindle
