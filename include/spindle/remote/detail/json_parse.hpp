//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_REMOTE_DETAIL_JSON_PARSE_HPP
#define SPINDLE_REMOTE_DETAIL_JSON_PARSE_HPP

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace spindle::remote::detail {

/** Boost.JSON's parse, but every floating-point number converted from its
    text with `std::from_chars` (correctly rounded).

    Boost.JSON 1.81 converts numbers with a fast algorithm that is not
    correctly rounded: about one double in ten that `serialize` writes (the
    shortest text that round-trips) reads back one unit in the last place
    off, so a message's double would change between two nodes (found by
    test/fuzz/remote_wire.cpp). Later Boost.JSON versions have
    `parse_options::numbers = number_precision::precise` for this.
*/
class exact_number_handler
{
    boost::json::value_stack st_;
    std::string number_; // a number's text split across parts

public:
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    using error_code = boost::json::error_code;
    using string_view = boost::json::string_view;

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code&) { return true; }
    bool on_object_end(std::size_t n, error_code&) { st_.push_object(n); return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t n, error_code&) { st_.push_array(n); return true; }
    bool on_key_part(string_view s, std::size_t, error_code&) { st_.push_chars(s); return true; }
    bool on_key(string_view s, std::size_t, error_code&) { st_.push_key(s); return true; }
    bool on_string_part(string_view s, std::size_t, error_code&) { st_.push_chars(s); return true; }
    bool on_string(string_view s, std::size_t, error_code&) { st_.push_string(s); return true; }
    bool on_number_part(string_view s, error_code&) { number_.append(s.data(), s.size()); return true; }
    bool on_int64(std::int64_t i, string_view, error_code&) { number_.clear(); st_.push_int64(i); return true; }
    bool on_uint64(std::uint64_t u, string_view, error_code&) { number_.clear(); st_.push_uint64(u); return true; }
    bool on_double(double d, string_view s, error_code& ec)
    {
        number_.append(s.data(), s.size());
        double exact = 0;
        auto const r = std::from_chars(number_.data(), number_.data() + number_.size(), exact);
        number_.clear();
        if(r.ec == std::errc())
            d = exact;
        else if(std::isinf(d))
        {
            // 1e999: no double holds it, and an infinity could not be
            // encoded again (JSON has none); an underflow keeps Boost's 0
            ec = boost::json::error::exponent_overflow;
            return false;
        }
        st_.push_double(d);
        return true;
    }
    bool on_bool(bool b, error_code&) { st_.push_bool(b); return true; }
    bool on_null(error_code&) { st_.push_null(); return true; }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }

    void reset() { st_.reset(); number_.clear(); }
    boost::json::value release() { return st_.release(); }
};

/** Parses one complete JSON text with exact floating-point conversion.

    @param s The text.
    @param ec Set on a syntax error (then the result is null).
    @return The value.
*/
inline boost::json::value parse_exact(std::string_view s, boost::json::error_code& ec)
{
    boost::json::basic_parser<exact_number_handler> p{boost::json::parse_options()};
    p.handler().reset();
    auto const n = p.write_some(false, s.data(), s.size(), ec);
    if(!ec && n != s.size())
        ec = boost::json::error::extra_data; // as boost::json::parse: one value, then only whitespace
    if(ec)
        return nullptr;
    return p.handler().release();
}

} // namespace spindle::remote::detail

#endif
