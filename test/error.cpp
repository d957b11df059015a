//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/error.hpp>

#include <boost/test/unit_test.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

// Every code, in declaration order (they are contiguous from 1).
constexpr spindle::error all_errors[] = {
    spindle::error::mailbox_full,
    spindle::error::actor_stopped,
    spindle::error::ask_timeout,
    spindle::error::unknown_actor,
    spindle::error::name_taken,
    spindle::error::system_stopped,
    spindle::error::handler_failed,
    spindle::error::no_reply,
    spindle::error::timer_not_found,
    spindle::error::cancelled,
    spindle::error::invalid_argument,
    spindle::error::transport_failed,
    spindle::error::message_dropped,
    spindle::error::start_failed,
    spindle::error::child_running,
};

constexpr int last_value = static_cast<int>(spindle::error::child_running);

} // namespace

BOOST_AUTO_TEST_CASE(category_is_named_spindle)
{
    BOOST_TEST(std::string(spindle::error_category().name()) == "spindle");
}

BOOST_AUTO_TEST_CASE(every_code_has_a_distinct_message)
{
    auto const& cat = spindle::error_category();
    std::string const unknown = cat.message(0); // 0 means success, not a Spindle error
    std::set<std::string> seen;
    for(auto e : all_errors)
    {
        auto const msg = make_error_code(e).message();
        BOOST_TEST_CONTEXT("code " << static_cast<int>(e))
        {
            BOOST_TEST(!msg.empty());
            BOOST_TEST(msg != unknown);
            BOOST_TEST(seen.insert(msg).second, "message \"" << msg << "\" is used twice");
        }
    }
    BOOST_TEST(seen.size() == std::size(all_errors));
    // A code added after child_running must be added to this test (and
    // be given a message).
    BOOST_TEST(cat.message(last_value + 1) == unknown);
    BOOST_TEST(static_cast<int>(all_errors[0]) == 1);
    BOOST_TEST(std::size(all_errors) == static_cast<std::size_t>(last_value));
}

BOOST_AUTO_TEST_CASE(the_char_buffer_message_matches_the_string_one)
{
    char buffer[64];
    for(auto e : all_errors)
    {
        auto const ec = make_error_code(e);
        BOOST_TEST(std::string(ec.category().message(ec.value(), buffer, sizeof buffer)) == ec.message());
    }
}

BOOST_AUTO_TEST_CASE(make_error_code_and_implicit_conversion_agree)
{
    for(auto e : all_errors)
    {
        boost::system::error_code const made = make_error_code(e);
        boost::system::error_code const converted = e;
        BOOST_TEST(made.value() == static_cast<int>(e));
        BOOST_TEST(&made.category() == &spindle::error_category());
        BOOST_TEST(made.failed());
        BOOST_TEST(static_cast<bool>(made));
        BOOST_TEST(made == converted);
    }
}

BOOST_AUTO_TEST_CASE(comparisons)
{
    boost::system::error_code const ec = spindle::error::ask_timeout;
    BOOST_TEST((ec == spindle::error::ask_timeout));
    BOOST_TEST((ec != spindle::error::no_reply));
    BOOST_TEST((ec != boost::system::error_code()));

    // The same value in another category is another error.
    boost::system::error_code const generic(static_cast<int>(spindle::error::ask_timeout),
                                            boost::system::generic_category());
    BOOST_TEST((generic != spindle::error::ask_timeout));

    // A default error_code (success) equals no Spindle error.
    boost::system::error_code const ok;
    for(auto e : all_errors)
        BOOST_TEST((ok != e));
}

BOOST_AUTO_TEST_CASE(converts_to_std_error_code)
{
    boost::system::error_code const ec = spindle::error::name_taken;
    std::error_code const sec = ec;
    BOOST_TEST(sec.value() == ec.value());
    BOOST_TEST(sec.message() == ec.message());
    BOOST_TEST(std::string(sec.category().name()) == "spindle");
    BOOST_TEST((sec == std::error_code(boost::system::error_code(spindle::error::name_taken))));
    BOOST_TEST((sec != std::error_code(boost::system::error_code(spindle::error::unknown_actor))));
}

BOOST_AUTO_TEST_CASE(throw_error_throws_system_error_with_code_and_text)
{
    boost::system::error_code const ec = spindle::error::name_taken;
    bool caught = false;
    try
    {
        spindle::detail::throw_error(ec, "register \"worker\"");
    }
    catch(spindle::system_error const& e)
    {
        caught = true;
        BOOST_TEST((e.code() == spindle::error::name_taken));
        std::string const what = e.what();
        BOOST_TEST(what.find("register \"worker\"") != std::string::npos, "what() = " << what);
        BOOST_TEST(what.find(ec.message()) != std::string::npos, "what() = " << what);
    }
    BOOST_TEST(caught);

    // Users who only know the standard library can still catch it.
    BOOST_CHECK_THROW(spindle::detail::throw_error(spindle::error::cancelled, "wait"), std::runtime_error);
}
