//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/json.hpp>
#include <spindle/http/health_status.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>
#include <string>
#include <vector>

using namespace spindle;
namespace json = boost::json;

namespace {

// Every value of E, found through the names (to_string is empty past the last).
template<class E>
std::vector<E> all_values()
{
    std::vector<E> values;
    for(unsigned i = 0; !to_string(static_cast<E>(i)).empty(); ++i)
        values.push_back(static_cast<E>(i));
    return values;
}

template<class E>
void check_enum_round_trip(std::size_t expected_count)
{
    auto const values = all_values<E>();
    BOOST_TEST(values.size() == expected_count);
    for(E e : values)
    {
        json::value const jv = json::value_from(e);
        BOOST_TEST_REQUIRE(jv.is_string());
        BOOST_TEST(jv.as_string() == to_string(e));
        BOOST_TEST((json::value_to<E>(jv) == e));
        auto const r = json::try_value_to<E>(jv);
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST((*r == e));
    }
}

template<class Exception, class F>
std::string what_of(F f)
{
    try
    {
        f();
    }
    catch(Exception const& e)
    {
        return e.what();
    }
    BOOST_FAIL("no exception");
    return {};
}

} // namespace

BOOST_AUTO_TEST_CASE(id_round_trip)
{
    auto const id = task_id::generate();
    json::value const jv = json::value_from(id);
    BOOST_TEST_REQUIRE(jv.is_string());
    BOOST_TEST(jv.as_string() == id.to_string());
    BOOST_TEST((json::value_to<task_id>(jv) == id));

    auto const r = json::try_value_to<task_id>(jv);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST((*r == id));

    // Through text, as it travels.
    auto const back = json::value_to<task_id>(json::parse(json::serialize(jv)));
    BOOST_TEST((back == id));

    json::value const nil = json::value_from(actor_id());
    BOOST_TEST(nil.as_string() == "00000000-0000-0000-0000-000000000000");
    BOOST_TEST(json::value_to<actor_id>(nil).is_nil());
}

BOOST_AUTO_TEST_CASE(every_id_type_converts)
{
    auto check = [](auto id) {
        using id_type = decltype(id);
        BOOST_TEST((json::value_to<id_type>(json::value_from(id)) == id));
    };
    check(actor_id::generate());
    check(agent_id::generate());
    check(task_id::generate());
    check(node_id::generate());
    check(component_id::generate());
    check(tool_id::generate());
    check(event_id::generate());
    check(handler_id::generate());
}

BOOST_AUTO_TEST_CASE(enum_round_trip)
{
    check_enum_round_trip<event_type>(18);
    check_enum_round_trip<node_type>(4);
    check_enum_round_trip<supervision_strategy>(4);
    check_enum_round_trip<restart_type>(3);
    check_enum_round_trip<actor_state>(5);
    check_enum_round_trip<circuit_state>(3);
    check_enum_round_trip<health_status>(3);
    check_enum_round_trip<overflow_policy>(4);

    BOOST_TEST(json::serialize(json::value_from(supervision_strategy::rest_for_one)) == R"("rest_for_one")");
}

BOOST_AUTO_TEST_CASE(containers_and_documents)
{
    std::vector<actor_id> const ids = {actor_id::generate(), actor_id::generate()};
    std::map<std::string, health_status> const checks = {
        {"db", health_status::pass}, {"disk", health_status::warn}};

    json::object doc;
    doc["ids"] = json::value_from(ids);
    doc["checks"] = json::value_from(checks);
    auto const parsed = json::parse(json::serialize(doc)).as_object();

    BOOST_TEST((json::value_to<std::vector<actor_id>>(parsed.at("ids")) == ids));
    BOOST_TEST((json::value_to<std::map<std::string, health_status>>(parsed.at("checks")) == checks));
    BOOST_TEST(parsed.at("checks").at("disk").as_string() == "warn");

    // A bad element makes the whole conversion fail with its code.
    json::value const mixed = json::parse(R"([")" + ids[0].to_string() + R"(", "oops"])");
    auto const r = json::try_value_to<std::vector<actor_id>>(mixed);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == make_error_code(error::invalid_argument));
    BOOST_CHECK_THROW(json::value_to<std::vector<actor_id>>(mixed), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(id_bad_input)
{
    // Not a string.
    for(json::value const& jv : {json::value(42), json::value(nullptr), json::value(json::array{}), json::value(true)})
    {
        auto const r = json::try_value_to<node_id>(jv);
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST(r.error() == make_error_code(json::error::not_string));
        BOOST_CHECK_EXCEPTION(
            json::value_to<node_id>(jv), system_error,
            [](system_error const& e) { return e.code() == json::error::not_string; });
    }
    std::string const what = what_of<system_error>([] { (void)json::value_to<node_id>(json::value(42)); });
    BOOST_TEST(what.find("node_id") != std::string::npos);
    BOOST_TEST(what.find("string") != std::string::npos);
    BOOST_TEST(what.find("int64") != std::string::npos);

    // A string that is not a UUID.
    json::value const bad = "0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f0";
    auto const r = json::try_value_to<node_id>(bad);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error() == make_error_code(error::invalid_argument));
    std::string const bad_what = what_of<system_error>([&] { (void)json::value_to<node_id>(bad); });
    BOOST_TEST(bad_what.find("node_id") != std::string::npos);
    BOOST_TEST(bad_what.find("\"0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f0\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(enum_bad_input)
{
    auto const r1 = json::try_value_to<circuit_state>(json::value(1));
    BOOST_TEST_REQUIRE(r1.has_error());
    BOOST_TEST(r1.error() == make_error_code(json::error::not_string));
    std::string const kind_what = what_of<system_error>([] { (void)json::value_to<circuit_state>(json::value(1)); });
    BOOST_TEST(kind_what.find("circuit_state") != std::string::npos);

    auto const r2 = json::try_value_to<circuit_state>(json::value("HALF_OPEN"));
    BOOST_TEST_REQUIRE(r2.has_error());
    BOOST_TEST(r2.error() == make_error_code(error::invalid_argument));
    std::string const name_what = what_of<system_error>([] { (void)json::value_to<circuit_state>(json::value("HALF_OPEN")); });
    BOOST_TEST(name_what.find("\"HALF_OPEN\"") != std::string::npos);
    BOOST_TEST(name_what.find("half_open") != std::string::npos);
}
