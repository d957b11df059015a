//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// The extension point for actors whose mailbox is elsewhere, with a proxy
// that keeps messages in memory instead of sending them anywhere.

#include <spindle/detail/cell_proxy.hpp>

#include "support.hpp"

#include <spindle/actor.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/detail/actor_cell.hpp>
#include <spindle/system.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <string>
#include <vector>

using spindle::detail::actor_cell;
using spindle::detail::envelope;

namespace {

struct add
{
    int n;
};
struct get_total
{
};

struct counter : spindle::actor<counter, add, get_total>
{
    void on(add const&) {}
    int on(get_total) { return 0; }
};

/// Keeps what is posted; answers every ask with 42.
struct memory_proxy final : spindle::detail::cell_proxy
{
    std::vector<int> adds; // posted by the sender: the test's own thread
    // counted where the call is made: a watch from a worker's fiber
    std::atomic<int> asks{0}, stops{0}, watches{0};
    bool* released;

    explicit memory_proxy(bool* r) : released(r) {}

    spindle::send_status post(actor_cell&, envelope* e, bool) noexcept override
    {
        if(*e->vtable_->type == typeid(add))
            adds.push_back(static_cast<add*>(e->vtable_->payload(e))->n);
        if(void* r = e->vtable_->reply ? e->vtable_->reply(e) : nullptr)
        {
            ++asks;
            static_cast<spindle::detail::reply_state<int>*>(r)->complete(boost::system::result<int>(42));
        }
        e->vtable_->destroy(e);
        return spindle::send_status::ok;
    }
    void stop(actor_cell&) noexcept override { ++stops; }
    void watched(actor_cell&) noexcept override { ++watches; }
    void release(actor_cell&) noexcept override
    {
        *released = true;
        delete this;
    }
};

struct watch_this
{
    spindle::basic_actor_ref target;
};

struct watcher : spindle::actor<watcher, watch_this>
{
    std::shared_ptr<std::atomic<int>> downs;
    std::shared_ptr<std::string> what;
    watcher(std::shared_ptr<std::atomic<int>> d, std::shared_ptr<std::string> w) : downs(std::move(d)), what(std::move(w)) {}
    void on(watch_this const& w) { monitor(w.target); }
    void on_down(spindle::down const& d) override
    {
        *what = d.what;
        downs->fetch_add(1);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_proxy_cell_hands_every_message_to_its_proxy)
{
    bool released = false;
    {
        spindle::system sys;
        auto* p = new memory_proxy(&released);
        auto id = spindle::actor_id::generate();
        spindle::actor_ref<counter> ref(actor_cell::make_proxy(sys.state(), p, id, typeid(counter), "far"));
        BOOST_TEST(ref.id() == id);
        BOOST_TEST(ref.name() == "far");
        BOOST_TEST(ref.alive());
        BOOST_TEST(ref.tell(add{1}) == spindle::send_status::ok);
        BOOST_TEST(ref.try_tell(add{2}) == spindle::send_status::ok);
        BOOST_TEST(ref.ask(get_total{}, spindle_test::failure_timeout).get() == 42);
        ref.stop();
        BOOST_TEST((p->adds == std::vector<int>{1, 2}));
        BOOST_TEST(p->asks == 1);
        BOOST_TEST(p->stops == 1);
        BOOST_TEST(ref.mailbox_depth() == 0u);

        auto downs = std::make_shared<std::atomic<int>>(0);
        auto what = std::make_shared<std::string>();
        auto w = sys.spawn<watcher>(downs, what);
        w.tell(watch_this{ref});
        BOOST_REQUIRE(spindle_test::eventually([&] { return p->watches == 1; }));
        ref.cell()->end_proxy(spindle::exit_reason::failure, "node lost");
        ref.cell()->end_proxy(spindle::exit_reason::failure, "again"); // ignored
        BOOST_TEST(spindle_test::eventually([&] { return downs->load() == 1; }));
        BOOST_TEST(*what == "node lost");
        BOOST_TEST(!ref.alive());
        // a late monitor gets its notice at once, from the cell
        w.tell(watch_this{ref});
        BOOST_TEST(spindle_test::eventually([&] { return downs->load() == 2; }));
        BOOST_TEST(p->watches == 1);
        BOOST_TEST(!released);
    }
    BOOST_TEST(released); // the last reference released the proxy
}
