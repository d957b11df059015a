//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/introspection.hpp>

#include "system_state.hpp"

#include <boost/core/demangle.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <utility>

namespace spindle {
namespace detail {

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

namespace {

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
        if(auto const* x = c.ext_if())
        {
            n.mailbox_refused = x->refused.load(std::memory_order_relaxed);
            n.mailbox_dropped = x->dropped.load(std::memory_order_relaxed);
        }
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

std::vector<message_count> message_counts(system const& sys)
{
    return sys.state().message_counts();
}

namespace detail {

std::vector<message_count> system_state::message_counts()
{
    // per table first: several workers usually hold the same ones
    std::vector<std::pair<envelope_vtable const*, std::uint64_t>> per_table;
    for(auto const& w : workers_)
        w->tally_.for_each([&](envelope_vtable const* vt, std::uint64_t n) { per_table.emplace_back(vt, n); });
    std::sort(per_table.begin(), per_table.end(), [](auto const& a, auto const& b) {
        return std::less<envelope_vtable const*>()(a.first, b.first);
    });

    // then by type names: a tell and an ask of one message type are two
    // tables, and so are the copies of one table in different libraries
    std::map<std::pair<std::string, std::string>, std::uint64_t> by_name;
    {
        std::lock_guard lk(type_names_mtx_);
        for(std::size_t i = 0; i < per_table.size();)
        {
            envelope_vtable const* const vt = per_table[i].first;
            std::uint64_t n = 0;
            for(; i < per_table.size() && per_table[i].first == vt; ++i)
                n += per_table[i].second;
            auto it = type_names_.find(vt);
            if(it == type_names_.end())
                it = type_names_
                         .emplace(vt, std::pair(boost::core::demangle(vt->actor->name()),
                                                boost::core::demangle(vt->type->name())))
                         .first;
            by_name[it->second] += n;
        }
    }
    std::vector<message_count> out;
    out.reserve(by_name.size());
    for(auto& [names, n] : by_name)
        out.push_back(message_count{names.first, names.second, n});
    return out;
}

} // namespace detail
} // namespace spindle
