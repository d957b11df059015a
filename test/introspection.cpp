//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/introspection.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>

using namespace spindle_test;

namespace {

struct block
{
    std::shared_ptr<gate> g;
};
struct ping
{
};

struct node : spindle::actor<node, block, ping>
{
    void on(block const& b) { b.g->pass(); }
    void on(ping) {}
};

spindle::spawn_options named(std::string n, spindle::node_type t = spindle::node_type::worker)
{
    spindle::spawn_options o;
    o.name = std::move(n);
    o.node = t;
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_tree_shows_roles_states_and_depths)
{
    scoped_gate g;
    spindle::system sys(workers(2));
    auto w = sys.spawn_with<node>(named("w"));
    auto agent = sys.spawn_with<node>(named("planner", spindle::node_type::agent));

    spindle::supervisor_spec inner;
    inner.strategy = spindle::supervision_strategy::rest_for_one;
    inner.children = {spindle::child_spec::of<node>().named("x"), spindle::child_spec::of<node>()};
    spindle::supervisor_spec top;
    top.strategy = spindle::supervision_strategy::one_for_all;
    top.children = {spindle::child_spec::of<spindle::supervisor>(inner).named("inner"),
                    spindle::child_spec::of<node>().node(spindle::node_type::agent)};
    spindle::supervisor_ref sup(sys.spawn_with<spindle::supervisor>(named("top"), top));
    BOOST_TEST_REQUIRE(eventually([&] { return sys.actor_count() == 7; }));

    w.tell(block{g.g});
    BOOST_TEST_REQUIRE(eventually([&] { return g->entered() == 1; }));
    for(int i = 0; i < 3; ++i)
        w.tell(ping{});

    auto root = spindle::inspect(sys);
    BOOST_TEST((root.type == spindle::node_type::root));
    BOOST_TEST(root.name == "root");
    BOOST_TEST(root.id.is_nil());
    BOOST_TEST((root.state == spindle::actor_state::running));
    BOOST_TEST_REQUIRE(root.children.size() == 3u); // w, planner, top: children are under top
    BOOST_TEST(root.omitted == 0u);

    spindle::actor_info const* pw = nullptr;
    spindle::actor_info const* pa = nullptr;
    spindle::actor_info const* ps = nullptr;
    for(auto const& c : root.children)
    {
        if(c.name == "w")
            pw = &c;
        else if(c.name == "planner")
            pa = &c;
        else if(c.name == "top")
            ps = &c;
    }
    BOOST_TEST_REQUIRE((pw && pa && ps));
    BOOST_TEST((pw->type == spindle::node_type::worker));
    BOOST_TEST(pw->mailbox_depth == 3u);
    BOOST_TEST((pw->state == spindle::actor_state::running));
    BOOST_TEST(pw->actor_type.find("node") != std::string::npos);
    BOOST_TEST((pa->type == spindle::node_type::agent));
    BOOST_TEST((ps->type == spindle::node_type::supervisor));
    BOOST_TEST((ps->strategy == spindle::supervision_strategy::one_for_all));
    BOOST_TEST(ps->id == sup.id());
    BOOST_TEST_REQUIRE(ps->children.size() == 2u);
    auto const& in = ps->children[0];
    BOOST_TEST(in.name == "inner");
    BOOST_TEST((in.type == spindle::node_type::supervisor));
    BOOST_TEST((in.strategy == spindle::supervision_strategy::rest_for_one));
    BOOST_TEST_REQUIRE(in.children.size() == 2u);
    BOOST_TEST(in.children[0].name == "x");
    BOOST_TEST((ps->children[1].type == spindle::node_type::agent));

    // a cap on the listing counts what it left out
    spindle::inspect_options few;
    few.max_nodes = 4;
    auto capped = spindle::inspect(sys, few);
    std::size_t listed = 0, omitted = 0;
    auto count = [&](auto&& self, spindle::actor_info const& n) -> void {
        omitted += n.omitted;
        for(auto const& c : n.children)
        {
            ++listed;
            self(self, c);
        }
    };
    count(count, capped);
    BOOST_TEST(listed == 4u);
    BOOST_TEST(listed + omitted == 7u);
    g->open();
}
