//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The JSON view of a system: the supervision tree as introspection gives
// it, totals, executors and breakers read from the metrics, recent events.

#include <spindle/http/system_json.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/circuit_breaker.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>

#include <boost/json/serialize.hpp>

#include <stdexcept>
#include <string>

using spindle_test::eventually;

namespace {

struct poke
{
};

struct boom
{
};

struct leaf : spindle::actor<leaf, poke, boom>
{
    void on(poke) {}
    void on(boom) { throw std::runtime_error("leaf broke"); }
};

} // namespace

BOOST_AUTO_TEST_CASE(tree_totals_breakers_and_events)
{
    spindle::system_options so;
    so.worker_threads = 2;
    so.name = "json-view";
    spindle::system sys(so);
    spindle::supervisor_spec spec;
    spec.strategy = spindle::supervision_strategy::one_for_all;
    spec.children.push_back(spindle::child_spec::of<leaf>().named("leaf-1"));
    spindle::spawn_options named;
    named.name = "sup";
    spindle::supervisor_ref sup_ref(sys.spawn_with<spindle::supervisor>(named, spec));
    spindle::circuit_breaker_options bo;
    bo.name = "db";
    bo.failure_threshold = 1;
    spindle::circuit_breaker breaker(sys, bo);
    boost::system::error_code ec;
    breaker.try_acquire(ec).failure(); // opens
    sup_ref.child<leaf>(0).tell(boom{}); // fails and is restarted: events

    spindle::http::system_json_options opts;
    opts.recent_events = 5;
    BOOST_TEST(eventually([&] {
        auto const d = spindle::http::system_json(sys, opts);
        for(auto const& e : d.at("events").as_array())
            if(e.at("type").as_string() == "actor_restarted")
                return true;
        return false;
    }));
    auto const doc = spindle::http::system_json(sys, opts);
    BOOST_TEST_MESSAGE(boost::json::serialize(doc));
    BOOST_TEST(doc.at("system").at("name").as_string() == "json-view");
    BOOST_TEST(doc.at("system").at("stopping").as_bool() == false);
    BOOST_TEST(doc.at("stats").at("actors").to_number<int>() == 2);
    BOOST_TEST(doc.at("stats").at("refused").to_number<int>() == 0);
    BOOST_TEST(!doc.contains("health")); // no monitor given

    auto const& root = doc.at("tree").as_object();
    BOOST_TEST(root.at("type").as_string() == "root");
    BOOST_TEST(root.at("id").is_null());
    auto const& top = root.at("children").as_array();
    BOOST_REQUIRE(top.size() == 1u);
    auto const& sup = top.at(0).as_object();
    BOOST_TEST(sup.at("name").as_string() == "sup");
    BOOST_TEST(sup.at("type").as_string() == "supervisor");
    BOOST_TEST(sup.at("strategy").as_string() == "one_for_all");
    BOOST_TEST(sup.at("id").as_string().size() == 36u);
    auto const& kid = sup.at("children").as_array().at(0).as_object();
    BOOST_TEST(kid.at("name").as_string() == "leaf-1");
    BOOST_TEST(kid.at("type").as_string() == "worker");
    BOOST_TEST(!kid.contains("strategy"));
    BOOST_TEST(kid.at("state").as_string() == "running");
    BOOST_TEST(kid.at("mailbox_depth").to_number<int>() == 0);
    BOOST_TEST(kid.at("mailbox_refused").to_number<int>() == 0);
    BOOST_TEST(kid.at("mailbox_dropped").to_number<int>() == 0);
    BOOST_TEST(kid.at("restarts").to_number<int>() == 1);

    auto const& breakers = doc.at("breakers").as_array();
    BOOST_REQUIRE(breakers.size() == 1u);
    BOOST_TEST(breakers.at(0).at("name").as_string() == "db");
    BOOST_TEST(breakers.at(0).at("state").as_string() == "open");
    BOOST_TEST(breakers.at(0).at("calls").at("failure").to_number<int>() == 1);
    BOOST_TEST(doc.at("executors").as_array().empty());
    BOOST_TEST(doc.at("workers").as_array().size() == 2u);

    auto const& events = doc.at("events").as_array();
    BOOST_REQUIRE(!events.empty());
    BOOST_TEST(events.size() <= 5u);
    auto const& last = events.back().as_object();
    BOOST_TEST(last.at("type").as_string() == "actor_restarted");
    BOOST_TEST(last.at("source").as_string() == kid.at("id").as_string());
    BOOST_TEST(last.at("time").as_string().size() == 24u);
    BOOST_TEST(last.at("sequence").to_number<int>() > 0);
}

BOOST_AUTO_TEST_CASE(messages_by_type_busiest_first_as_integers)
{
    spindle::system sys(spindle_test::workers(2));
    auto a = sys.spawn<leaf>();
    for(int i = 0; i < 7; ++i)
        a.tell(poke{});
    a.tell(boom{}); // counted too: a message is counted when its handler starts
    BOOST_TEST(eventually([&] { return sys.stats().failures == 1u; }));

    auto const doc = spindle::http::system_json(sys);
    auto const& types = doc.at("message_types").as_array();
    std::uint64_t pokes = 0, booms = 0;
    for(auto const& t : types)
    {
        if(t.at("actor_type").as_string().find("leaf") == boost::json::string::npos)
            continue;
        BOOST_TEST(t.at("messages").is_uint64()); // an integer, not 7E0
        if(t.at("message_type").as_string().ends_with("poke"))
            pokes = t.at("messages").as_uint64();
        if(t.at("message_type").as_string().ends_with("boom"))
            booms = t.at("messages").as_uint64();
    }
    BOOST_TEST(pokes == 7u);
    BOOST_TEST(booms == 1u);
    BOOST_TEST(!doc.contains("message_types_omitted"));
    BOOST_TEST(doc.at("workers").at(0).at("messages").is_uint64());

    spindle::http::system_json_options one;
    one.message_types = 1; // only the busiest pair
    auto const small = spindle::http::system_json(sys, one);
    BOOST_REQUIRE(small.at("message_types").as_array().size() == 1u);
    BOOST_TEST(small.at("message_types").at(0).at("messages").as_uint64() >= 7u);
    BOOST_TEST(small.at("message_types_omitted").as_uint64() >= 1u);
}

BOOST_AUTO_TEST_CASE(huge_trees_are_bounded)
{
    spindle::system_options so;
    so.worker_threads = 1;
    spindle::system sys(so);
    for(int i = 0; i < 20; ++i)
        sys.spawn<leaf>();
    spindle::http::system_json_options opts;
    opts.inspect.max_nodes = 5;
    auto const doc = spindle::http::system_json(sys, opts);
    auto const& root = doc.at("tree").as_object();
    auto const listed = root.at("children").as_array().size();
    BOOST_TEST(listed < 20u);
    BOOST_TEST(listed + root.at("omitted").to_number<std::size_t>() == 20u);
}
