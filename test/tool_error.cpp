//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The error category of the tool bus: its name, a message and a metric
// label for every code, and the conversions users rely on.

#include <spindle/tools/error.hpp>

#include <boost/test/unit_test.hpp>

#include <set>
#include <sstream>
#include <string>

namespace tools = spindle::tools;
using tools::tool_error;

BOOST_AUTO_TEST_CASE(every_code_has_a_message_and_a_name)
{
    BOOST_TEST(tools::tool_category().name() == std::string("spindle.tools"));
    std::set<std::string> names, messages;
    for(int v = static_cast<int>(tool_error::not_found); v <= static_cast<int>(tool_error::depth_exceeded); ++v)
    {
        auto const e = static_cast<tool_error>(v);
        boost::system::error_code const ec = e; // is_error_code_enum
        BOOST_TEST(&ec.category() == &tools::tool_category());
        BOOST_TEST(ec.message().find("unknown") == std::string::npos);
        BOOST_TEST(tools::to_string(e) != "unknown");
        names.insert(std::string(tools::to_string(e)));
        messages.insert(ec.message());
    }
    BOOST_TEST(names.size() == 11u, "names are distinct");
    BOOST_TEST(messages.size() == 11u, "messages are distinct");
    BOOST_TEST(tools::to_string(tool_error::access_denied) == "access_denied");
    BOOST_TEST(tools::to_string(static_cast<tool_error>(99)) == "unknown");
    std::ostringstream os;
    os << tool_error::invalid_params;
    BOOST_TEST(os.str() == "invalid_params");
    BOOST_TEST(tools::make_error_code(tool_error::not_found).value() == 1);
    BOOST_TEST(tools::make_error_code(tool_error::not_found) != spindle::make_error_code(spindle::error::mailbox_full));
}
