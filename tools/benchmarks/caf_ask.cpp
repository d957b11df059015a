//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// ask N on CAF: the twin of spindle_ask.cpp. An actor (not a blocking
// scoped_actor) requests N times in sequence; each next request is sent
// from the previous one's `then` continuation. Every request has the 5 s
// timeout Spindle's ask arms by default (Spindle has no ask without one);
// SPINDLE_BENCH_CAF_ASK_TIMEOUT=<seconds> changes it, 0 = caf::infinite
// (no timer at all: CAF's fastest request). msgs = 2N.

#include "caf_workloads.hpp"

namespace caf_bench {
namespace {

/// The request timeout in seconds; 0 = infinite.
std::uint64_t timeout_seconds()
{
    char const* s = std::getenv("SPINDLE_BENCH_CAF_ASK_TIMEOUT");
    return s && *s ? static_cast<std::uint64_t>(std::max(0L, std::atol(s))) : 5;
}

class echo : public caf::event_based_actor
{
public:
    using caf::event_based_actor::event_based_actor;

    caf::behavior make_behavior() override
    {
        return {[](echo_atom, std::uint64_t n) { return n; }};
    }
};

class asker : public caf::event_based_actor
{
    std::uint64_t count_;
    bench::completion* done_;
    caf::actor to_;
    std::uint64_t i_ = 0;
    caf::duration timeout_ = timeout_seconds() > 0 ? caf::duration(std::chrono::seconds(timeout_seconds()))
                                                   : caf::duration(caf::infinite);

    void ask_next()
    {
        ++i_;
        request(to_, timeout_, echo_atom::value, i_)
            .then(
                [this](std::uint64_t v) {
                    if(v != i_)
                        done_->fail("ask " + std::to_string(i_) + " got " + std::to_string(v));
                    else if(i_ == count_)
                        done_->finish();
                    else
                        ask_next();
                },
                [this](caf::error& e) { done_->fail("ask " + std::to_string(i_) + ": " + caf::to_string(e)); });
    }

public:
    asker(caf::actor_config& cfg, std::uint64_t count, bench::completion* done)
        : caf::event_based_actor(cfg), count_(count), done_(done)
    {
    }

    caf::behavior make_behavior() override
    {
        return {[this](run_atom, caf::actor const& to) {
            to_ = to;
            ask_next();
        }};
    }
};

} // namespace

bench::result run_ask(bench::options const& o)
{
    config cfg(o);
    caf::actor_system sys(cfg);
    bench::completion done;
    auto e = sys.spawn<echo>();
    auto a = sys.spawn<asker>(o.n, &done);

    bench::stopwatch const sw;
    caf::anon_send(a, run_atom::value, e);
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    r.extra = {{"ask_timeout_s", timeout_seconds()}};
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
    return r;
}

} // namespace caf_bench
