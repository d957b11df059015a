//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/introspection.hpp>

#include "system_state.hpp"

namespace spindle {
namespace detail {
namespace {

actor_state state_of(actor_cell const& c) noexcept
{
    switch(c.state())
    {
    case cell_state::starting: return actor_state::starting;
    case cell_state::running: return actor_state::running;
    case cell_state::stopping: return actor_state::stopping;
    case cell_state::stopped: return actor_state::stopped;
    case cell_state::suspended: return actor_state::restarting;
    }
    return actor_state::running;
}

struct walker
{
    std::size_t budget;

    void fill(actor_info& n, actor_cell const& c)
    {
        n.id = c.id_;
        if(c.name_)
            n.name = *c.name_;
        n.type = c.node_;
        n.actor_type = type_name(c);
        if(auto* x = c.ext_if())
            n.strategy = x->strategy.load(std::memory_order_relaxed);
        n.restarts = c.restarts_.load(std::memory_order_relaxed);
        n.state = state_of(c);
        n.mailbox_depth = c.depth();
        if(c.node_ != node_type::supervisor)
            return;
        auto kids = c.children();
        for(auto const& k : kids)
        {
            if(budget == 0)
            {
                ++n.omitted;
                continue;
            }
            --budget;
            n.children.emplace_back();
            fill(n.children.back(), *k);
        }
    }
};

} // namespace
} // namespace detail

actor_info inspect(system const& sys, inspect_options const& opts)
{
    auto& s = sys.state();
    actor_info root;
    root.name = "root";
    root.type = node_type::root;
    root.strategy = supervision_strategy::one_for_one;
    root.state = s.stopping_.load(std::memory_order_acquire) ? actor_state::stopping : actor_state::running;

    std::vector<boost::intrusive_ptr<detail::actor_cell>> top;
    std::size_t total = 0;
    s.for_each_live([&](detail::actor_cell& c) {
        if(c.parent_)
            return;
        if(top.size() < opts.max_nodes)
            top.emplace_back(&c);
        ++total;
    });
    root.omitted = total - top.size();
    detail::walker w{opts.max_nodes - top.size()};
    root.children.resize(top.size());
    for(std::size_t i = 0; i < top.size(); ++i)
        w.fill(root.children[i], *top[i]);
    return root;
}

} // namespace spindle
