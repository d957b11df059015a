//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A supervision tree: a database connection that must start first, and two
// workers that need it (rest_for_one: if the connection dies, the workers
// are restarted after it). A worker crashes on a poisoned job; its
// supervisor restarts it and the next jobs are handled by the new
// incarnation. A decider keeps a worker's state through a bad-input error
// (resume) instead of restarting it. The admin calls start a child that
// cannot start (the error says why), terminate and restart a child by id,
// and count and list the children. Events are printed as they happen; the
// tree is printed at the end, then SIGINT/SIGTERM-style shutdown stops it
// in order.

#include <spindle/event_stream.hpp>
#include <spindle/introspection.hpp>
#include <spindle/signals.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>

#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>

namespace {

std::mutex out_mtx;

void say(std::string const& s)
{
    std::lock_guard lk(out_mtx);
    std::cout << s << '\n';
}

struct query
{
    std::string sql;
};

struct connection : spindle::actor<connection, query>
{
    void pre_start() override { say("connection: open"); }
    void post_stop() override { say("connection: closed"); }
    std::string on(query const& q) { return "rows for '" + q.sql + "'"; }
};

struct job
{
    int n;
};

struct worker : spindle::actor<worker, job>
{
    std::string name;
    int handled = 0; // state of this incarnation

    explicit worker(std::string n) : name(std::move(n)) {}

    void pre_start() override { say(name + ": started"); }
    void post_stop() override { say(name + ": stopped after " + std::to_string(handled) + " jobs"); }

    int on(job const& j)
    {
        if(j.n == 13)
            throw std::runtime_error("poisoned job 13");
        if(j.n < 0)
            throw std::invalid_argument("negative job " + std::to_string(j.n));
        auto db = system().lookup<connection>("db");
        auto rows = db.ask(query{"select " + std::to_string(j.n)}).get(); // parks this actor only
        (void)rows;
        return ++handled;
    }
};

/// Needs a directory that is not there: it cannot start.
struct indexer : spindle::actor<indexer, job>
{
    void pre_start() override { throw std::runtime_error("cannot open /no/such/dir"); }
    void on(job const&) {}
};

void print(spindle::actor_info const& n, int depth = 0)
{
    std::cout << std::string(static_cast<std::size_t>(depth) * 2, ' ') << spindle::to_string(n.type) << ' '
              << (n.name.empty() ? n.actor_type : n.name) << " [" << spindle::to_string(n.state)
              << ", restarts " << n.restarts << ", mailbox " << n.mailbox_depth << "]\n";
    for(auto const& c : n.children)
        print(c, depth + 1);
}

} // namespace

int main()
{
    spindle::system sys;
    sys.events().subscribe(
        spindle::event_filter::of({spindle::event_type::actor_failed, spindle::event_type::actor_restarted,
                                   spindle::event_type::supervisor_escalated}),
        [](spindle::event const& e) {
            say("event #" + std::to_string(e.sequence) + " " + std::string(spindle::to_string(e.type)) + " " +
                e.source_name + ": " + e.detail);
        });

    spindle::supervisor_spec spec;
    spec.strategy = spindle::supervision_strategy::rest_for_one;
    spec.backoff = spindle::restart_backoff::exponential(); // 100 ms, 200 ms, ... up to 10 s
    spec.backoff.random_factor = 0.2;                       // each delay stretched by up to 20 %
    // bad input is the sender's fault: keep the worker (and its state); anything else restarts it
    spec.decider = [](std::exception_ptr ep) {
        try
        {
            std::rethrow_exception(ep);
        }
        catch(std::invalid_argument const&)
        {
            return spindle::directive::resume;
        }
        catch(...)
        {
            return spindle::directive::restart;
        }
    };
    spec.children = {
        spindle::child_spec::of<connection>().named("db"),
        spindle::child_spec::of<worker>(std::string("worker-1")).named("worker-1"),
        spindle::child_spec::of<worker>(std::string("worker-2")).named("worker-2").restart(spindle::restart_type::transient),
    };
    spec.on_stop = [] { say("supervisor: all children stopped"); };
    spindle::supervisor_ref sup(sys.spawn_with<spindle::supervisor>([] {
        spindle::spawn_options o;
        o.name = "app";
        return o;
    }(), spec));

    // asks to a supervisor are answered after its pre_start, so the children exist
    auto w1 = sup.child<worker>(1);
    for(int n = 10; n < 16; ++n)
        w1.tell(job{n}); // 13 crashes it; 14 and 15 wait for the restart
    w1.tell(job{-1}); // resumed: the count survives
    auto const handled = w1.ask(job{16}).get();
    say("worker-1 handled " + std::to_string(handled) + " jobs since its restart");

    // the admin calls
    boost::system::error_code ec;
    std::string reason;
    sup.start_child(spindle::child_spec::of<indexer>().id("indexer"), ec, reason);
    say("start_child(indexer): " + ec.message() + " -- " + reason);
    sup.terminate_child("worker-2"); // stopped; its spec stays
    auto n = sup.count_children();
    say("children: " + std::to_string(n.specs) + " specs, " + std::to_string(n.active) + " active");
    sup.restart_child("worker-2");
    for(auto const& c : sup.which_children())
        say("  " + c.id + " (" + c.type + "): " + std::string(spindle::to_string(c.state)));

    {
        std::lock_guard lk(out_mtx);
        print(spindle::inspect(sys));
    }

    spindle::shutdown_on_signals on_signal(sys);
    on_signal.trigger(SIGTERM); // as if the service got SIGTERM
    auto report = on_signal.wait();
    std::cout << "shutdown: " << report.stopped << " actors stopped, clean: " << std::boolalpha << report.clean()
              << '\n';
}
