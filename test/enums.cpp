//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/enums.hpp>
#include <spindle/http/health_status.hpp>

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

using namespace spindle;

static_assert(std::is_same_v<std::underlying_type_t<event_type>, std::uint8_t>);
static_assert(std::is_same_v<std::underlying_type_t<node_type>, std::uint8_t>);
static_assert(std::is_same_v<std::underlying_type_t<supervision_strategy>, std::uint8_t>);
static_assert(std::is_same_v<std::underlying_type_t<circuit_state>, std::uint8_t>);
static_assert(std::is_same_v<std::underlying_type_t<health_status>, std::uint8_t>);
static_assert(std::is_same_v<std::underlying_type_t<overflow_policy>, std::uint8_t>);
static_assert(to_string(circuit_state::half_open) == "half_open", "usable in constant expressions");

namespace {

// Every enumerator with the name users see in logs, metrics and JSON.
template<class E>
using table = std::vector<std::pair<E, std::string_view>>;

table<event_type> const event_types = {
    {event_type::actor_started, "actor_started"},
    {event_type::actor_stopped, "actor_stopped"},
    {event_type::actor_failed, "actor_failed"},
    {event_type::actor_restarted, "actor_restarted"},
    {event_type::supervisor_escalated, "supervisor_escalated"},
    {event_type::dead_letter, "dead_letter"},
    {event_type::task_submitted, "task_submitted"},
    {event_type::task_started, "task_started"},
    {event_type::task_completed, "task_completed"},
    {event_type::task_failed, "task_failed"},
    {event_type::task_cancelled, "task_cancelled"},
    {event_type::task_timed_out, "task_timed_out"},
    {event_type::task_rejected, "task_rejected"},
    {event_type::circuit_opened, "circuit_opened"},
    {event_type::circuit_half_open, "circuit_half_open"},
    {event_type::circuit_closed, "circuit_closed"},
    {event_type::deadline_missed, "deadline_missed"},
    {event_type::custom, "custom"},
};

table<node_type> const node_types = {
    {node_type::root, "root"},
    {node_type::supervisor, "supervisor"},
    {node_type::worker, "worker"},
    {node_type::agent, "agent"},
};

table<supervision_strategy> const strategies = {
    {supervision_strategy::one_for_one, "one_for_one"},
    {supervision_strategy::one_for_all, "one_for_all"},
    {supervision_strategy::rest_for_one, "rest_for_one"},
    {supervision_strategy::escalate, "escalate"},
};

table<restart_type> const restart_types = {
    {restart_type::permanent, "permanent"},
    {restart_type::transient, "transient"},
    {restart_type::temporary, "temporary"},
};

table<actor_state> const actor_states = {
    {actor_state::starting, "starting"},
    {actor_state::running, "running"},
    {actor_state::restarting, "restarting"},
    {actor_state::stopping, "stopping"},
    {actor_state::stopped, "stopped"},
};

table<circuit_state> const circuit_states = {
    {circuit_state::closed, "closed"},
    {circuit_state::open, "open"},
    {circuit_state::half_open, "half_open"},
};

table<health_status> const health_statuses = {
    {health_status::pass, "pass"},
    {health_status::warn, "warn"},
    {health_status::fail, "fail"},
};

table<overflow_policy> const overflow_policies = {
    {overflow_policy::fail, "fail"},
    {overflow_policy::block, "block"},
    {overflow_policy::drop_oldest, "drop_oldest"},
    {overflow_policy::drop_newest, "drop_newest"},
};

template<class E>
void check_round_trip(table<E> const& t)
{
    // The table covers every value: the one after the last has no name.
    BOOST_TEST(to_string(static_cast<E>(t.size())).empty());

    for(auto const& [value, name] : t)
    {
        BOOST_TEST_CONTEXT("name: " << name)
        {
            BOOST_TEST(to_string(value) == name);

            // Start from a different value so that a parse that leaves `out`
            // alone cannot pass.
            E out = static_cast<E>(t.size());
            boost::system::error_code ec = make_error_code(error::cancelled);
            from_string(name, out, ec);
            BOOST_TEST(!ec);
            BOOST_TEST((out == value));

            E thrown = static_cast<E>(t.size());
            from_string(name, thrown);
            BOOST_TEST((thrown == value));

            std::ostringstream os;
            os << value;
            BOOST_TEST(os.str() == name);
        }
    }
}

template<class E>
void check_rejects(std::string_view bad)
{
    BOOST_TEST_CONTEXT("input: " << bad)
    {
        E out = static_cast<E>(1);
        boost::system::error_code ec;
        from_string(bad, out, ec);
        BOOST_TEST(ec == make_error_code(error::invalid_argument));
        BOOST_TEST((out == static_cast<E>(1)), "unchanged on error");
        BOOST_CHECK_THROW(from_string(bad, out), system_error);
        BOOST_TEST((out == static_cast<E>(1)), "unchanged on error");
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(round_trip_every_value)
{
    check_round_trip(event_types);
    check_round_trip(node_types);
    check_round_trip(strategies);
    check_round_trip(restart_types);
    check_round_trip(actor_states);
    check_round_trip(circuit_states);
    check_round_trip(health_statuses);
    check_round_trip(overflow_policies);
}

BOOST_AUTO_TEST_CASE(bad_text_rejected)
{
    for(std::string_view bad : {"", "unknown", "Pass", "PASS", " pass", "pass "})
        check_rejects<health_status>(bad);
    check_rejects<health_status>(std::string_view("pass\0", 5));
    check_rejects<circuit_state>("half-open");
    check_rejects<circuit_state>("halfopen");
    check_rejects<overflow_policy>("drop");
    check_rejects<supervision_strategy>("one-for-one");
    // A name of another enum is not a name of this one.
    check_rejects<node_type>("closed");
    check_rejects<event_type>("actor_start");
}

BOOST_AUTO_TEST_CASE(error_message_names_input_type_and_choices)
{
    circuit_state s = circuit_state::closed;
    try
    {
        from_string("ajar", s);
        BOOST_FAIL("no exception");
    }
    catch(system_error const& e)
    {
        BOOST_TEST(e.code() == make_error_code(error::invalid_argument));
        std::string const what = e.what();
        BOOST_TEST(what.find("\"ajar\"") != std::string::npos);
        BOOST_TEST(what.find("circuit_state") != std::string::npos);
        for(auto name : {"closed", "open", "half_open"})
            BOOST_TEST(what.find(name) != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(out_of_range_value_is_visible_in_streams)
{
    std::ostringstream os;
    os << static_cast<circuit_state>(7);
    BOOST_TEST(os.str() == "circuit_state(7)");

    std::ostringstream padded;
    padded.width(8);
    padded << health_status::warn;
    BOOST_TEST(padded.str() == "    warn");
}
