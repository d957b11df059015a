//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Sections of the application's own in /api/system: names checked, order
// kept, a throwing section isolated, sections added and removed while the
// server answers, and remove() waiting for a call in progress (so what the
// section refers to may be destroyed once it returns).

#include <spindle/http/sections.hpp>

#include <boost/test/unit_test.hpp>

#include "http_client.hpp"
#include "support.hpp"

#include <spindle/error.hpp>
#include <spindle/http/system_json.hpp>
#include <spindle/http/system_server.hpp>
#include <spindle/system.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace http = spindle::http;
namespace json = boost::json;
using spindle_test::eventually;
using spindle_test::http_get;

namespace {

boost::system::error_code code(spindle::error e)
{
    return make_error_code(e);
}

json::object api(std::uint16_t port)
{
    auto res = http_get(port, "/api/system");
    BOOST_REQUIRE(res);
    BOOST_REQUIRE(res->result_int() == 200);
    return json::parse(res->body()).as_object();
}

struct fixture
{
    spindle::system sys{[] {
        spindle::system_options o;
        o.worker_threads = 2;
        o.name = "sections";
        return o;
    }()};
};

} // namespace

BOOST_AUTO_TEST_CASE(names_are_checked)
{
    std::string const longest(64, 'x');
    for(std::string_view ok : std::vector<std::string_view>{"tools", "a", "db:pool", "cache-2", "x.y_z", "0", longest})
        BOOST_TEST(http::is_valid_section_name(ok), ok);
    std::string const too_long(65, 'x');
    for(std::string_view bad : std::vector<std::string_view>{"", "_x", "-x", ".x", ":x", "a b", "a/b", "a\"b", "a\nb",
                                                             "\xc3\xa9t\xc3\xa9", "<b>", too_long})
        BOOST_TEST(!http::is_valid_section_name(bad), bad);

    http::section_registry reg;
    boost::system::error_code ec;
    reg.add("a b", [] { return json::value(1); }, ec);
    BOOST_TEST(ec == code(spindle::error::invalid_argument));
    reg.add("ok", http::section_function(), ec);
    BOOST_TEST(ec == code(spindle::error::invalid_argument));
    reg.add("ok", [] { return json::value(1); }, ec);
    BOOST_TEST(!ec);
    reg.add("ok", [] { return json::value(2); }, ec);
    BOOST_TEST(ec == code(spindle::error::name_taken));
    BOOST_TEST(reg.size() == 1u);
    BOOST_TEST(json::serialize(reg.render()) == R"({"ok":1})");

    // the throwing form names the section and what is wrong
    auto says = [](std::string what) {
        return [what](spindle::system_error const& x) {
            BOOST_TEST_MESSAGE(x.what());
            return std::string(x.what()).find(what) != std::string::npos;
        };
    };
    BOOST_CHECK_EXCEPTION(reg.add("ok", [] { return json::value(3); }), spindle::system_error,
                          says("section \"ok\": a section of this name is already registered"));
    BOOST_CHECK_EXCEPTION(reg.add("", [] { return json::value(3); }), spindle::system_error, says("invalid name"));
    BOOST_CHECK_EXCEPTION(reg.add("fine", nullptr), spindle::system_error, says("section \"fine\": empty function"));
    BOOST_TEST(!reg.contains("fine"));
    BOOST_TEST(!reg.remove("fine"));
}

BOOST_AUTO_TEST_CASE(order_kept_and_a_throwing_section_isolated)
{
    http::section_registry reg;
    reg.add("first", [] { return json::value{{"n", 1}}; });
    reg.add("broken", []() -> json::value { throw std::runtime_error("pool is gone"); });
    reg.add("odd", []() -> json::value { throw 42; });
    reg.add("last", [] { return json::value(json::array{1, 2}); });
    BOOST_TEST((reg.names() == std::vector<std::string>{"first", "broken", "odd", "last"}));
    BOOST_TEST(json::serialize(reg.render()) ==
               R"({"first":{"n":1},"broken":{"error":"pool is gone"},"odd":{"error":"unknown exception"},"last":[1,2]})");
    BOOST_TEST(reg.remove("broken"));
    BOOST_TEST(!reg.remove("broken"));
    BOOST_TEST(reg.contains("odd"));
    BOOST_TEST((reg.names() == std::vector<std::string>{"first", "odd", "last"}));
    // a name freed can be used again, at the end
    reg.add("broken", [] { return json::value("fixed"); });
    BOOST_TEST((reg.names() == std::vector<std::string>{"first", "odd", "last", "broken"}));
}

BOOST_AUTO_TEST_CASE(a_section_may_remove_itself)
{
    http::section_registry reg;
    reg.add("once", [&reg] {
        bool const removed = reg.remove("once"); // must not wait for itself
        return json::value(removed);
    });
    reg.add("other", [] { return json::value(1); });
    BOOST_TEST(json::serialize(reg.render()) == R"({"once":true,"other":1})");
    BOOST_TEST(json::serialize(reg.render()) == R"({"other":1})");
}

BOOST_FIXTURE_TEST_CASE(system_json_includes_sections_when_given, fixture)
{
    http::section_registry reg;
    reg.add("cache", [] { return json::value{{"entries", 3}}; });
    auto const with = http::system_json(sys, {}, nullptr, &reg);
    BOOST_TEST(json::serialize(with.at("sections")) == R"({"cache":{"entries":3}})");
    auto const without = http::system_json(sys);
    BOOST_TEST(!without.contains("sections"));
}

BOOST_FIXTURE_TEST_CASE(served_in_api_system, fixture)
{
    http::system_server web(sys);
    std::atomic<int> hits{0};
    web.add_section("counter", [&] { return json::value{{"hits", hits.fetch_add(1) + 1}}; });
    web.add_section("broken", []() -> json::value { throw std::logic_error("no backend"); });
    web.start();

    auto doc = api(web.port());
    auto const& sections = doc.at("sections").as_object();
    BOOST_TEST(sections.at("counter").at("hits").to_number<int>() == 1);
    BOOST_TEST(json::serialize(sections.at("broken")) == R"({"error":"no backend"})");
    // the rest of the document is intact
    BOOST_TEST(doc.at("system").at("name").as_string() == "sections");
    BOOST_TEST(doc.contains("tree"));
    BOOST_TEST(doc.at("snapshot").to_number<int>() == 1);

    // while serving: added, refused, removed
    boost::system::error_code ec;
    web.add_section("late", [] { return json::value("here"); }, ec);
    BOOST_TEST(!ec);
    web.add_section("late", [] { return json::value("again"); }, ec);
    BOOST_TEST(ec == code(spindle::error::name_taken));
    web.add_section("not ok", [] { return json::value(0); }, ec);
    BOOST_TEST(ec == code(spindle::error::invalid_argument));
    BOOST_CHECK_THROW(web.add_section("", [] { return json::value(0); }), spindle::system_error);
    doc = api(web.port());
    BOOST_TEST(doc.at("sections").at("late").as_string() == "here");
    BOOST_TEST(doc.at("sections").at("counter").at("hits").to_number<int>() == 2);
    BOOST_TEST(web.remove_section("broken"));
    BOOST_TEST(!web.remove_section("broken"));
    BOOST_TEST(web.sections().size() == 2u);
    doc = api(web.port());
    BOOST_TEST(json::serialize(doc.at("sections")) == R"({"counter":{"hits":3},"late":"here"})");

    // every section gone: an empty object, still there for the page
    web.remove_section("counter");
    web.remove_section("late");
    doc = api(web.port());
    BOOST_TEST(doc.at("sections").as_object().empty());
    web.stop();
}

BOOST_FIXTURE_TEST_CASE(remove_waits_for_a_call_in_progress, fixture)
{
    http::system_server web(sys);
    std::atomic<bool> inside{false}, release{false}, finished{false}, remove_returned{false};
    std::atomic<bool> saw_remove_returned{true}, saw_finished{false};
    web.add_section("slow", [&] {
        inside = true;
        // blocks this I/O thread until the test lets it go (a test only:
        // real sections must not block)
        spindle_test::eventually([&] { return release.load(); });
        saw_remove_returned = remove_returned.load();
        finished = true;
        return json::value("done");
    });
    web.start();

    std::optional<spindle_test::http_connection::response_type> res;
    std::thread client([&] { res = http_get(web.port(), "/api/system"); });
    BOOST_TEST_REQUIRE(eventually([&] { return inside.load(); }));
    std::atomic<bool> removed{false};
    std::thread remover([&] {
        removed = web.remove_section("slow");
        saw_finished = finished.load();
        remove_returned = true;
    });
    // unpublished at once (no new request will call it), but not returned
    // before the call in progress has finished
    BOOST_TEST_REQUIRE(eventually([&] { return !web.sections().contains("slow"); }));
    release = true;
    remover.join();
    client.join();
    BOOST_TEST(removed.load());
    BOOST_TEST(saw_finished.load());
    BOOST_TEST(!saw_remove_returned.load());
    BOOST_REQUIRE(res);
    BOOST_TEST(json::parse(res->body()).at("sections").at("slow").as_string() == "done");
    BOOST_TEST(api(web.port()).at("sections").as_object().empty());
    web.stop();
}

BOOST_FIXTURE_TEST_CASE(added_and_removed_while_requests_run, fixture)
{
    // two I/O threads and two clients building documents while a third
    // thread adds and removes sections: every answer is whole, and holds
    // only sections that existed
    http::system_server_options o;
    o.server.threads = 2;
    http::system_server web(sys, o);
    web.add_section("steady", [] { return json::value(1); });
    web.start();
    std::atomic<bool> stop{false};
    std::atomic<int> answers{0}, bad{0};
    std::vector<std::thread> clients;
    for(int c = 0; c < 2; ++c)
        clients.emplace_back([&] {
            while(!stop.load())
            {
                auto res = http_get(web.port(), "/api/system");
                if(!res || res->result_int() != 200)
                {
                    ++bad;
                    continue;
                }
                auto const doc = json::parse(res->body()).as_object();
                auto const& s = doc.at("sections").as_object();
                if(!s.contains("steady"))
                    ++bad;
                for(auto const& [k, v] : s)
                    if(k != "steady" && (k.substr(0, 6) != "churn-" || v.as_string() != k))
                        ++bad;
                ++answers;
            }
        });
    int churns = 0;
    bool const enough = eventually([&] {
        std::string const name = "churn-" + std::to_string(churns++ % 5);
        web.remove_section(name);
        web.add_section(name, [name] { return json::value(name); });
        return churns >= 200 && answers.load() >= 50;
    });
    stop = true;
    for(auto& t : clients)
        t.join();
    BOOST_TEST(enough);
    BOOST_TEST(bad.load() == 0);
    BOOST_TEST(web.sections().size() == 6u);
    web.stop();
}
