//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// ask N: an actor asks an echo actor N times in sequence, each time waiting
// for the reply: `ask(...).get()` inside a handler parks the handler's
// fiber, not the worker. msgs = 2N.

#include "spindle_workloads.hpp"

namespace spindle_bench {
namespace {

struct echo_request
{
    std::uint64_t n;
};

struct echo : spindle::actor<echo, echo_request>
{
    std::uint64_t on(echo_request const& m) { return m.n; }
};

struct run_asks
{
    spindle::actor_ref<echo> to;
};

struct asker : spindle::actor<asker, run_asks>
{
    std::uint64_t count_;
    bench::completion* done_;

    asker(std::uint64_t count, bench::completion* done) : count_(count), done_(done) {}

    void on(run_asks const& m)
    {
        for(std::uint64_t i = 1; i <= count_; ++i)
        {
            boost::system::error_code ec;
            std::uint64_t const v = m.to.ask(echo_request{i}).get(ec);
            if(ec || v != i)
            {
                done_->fail("ask " + std::to_string(i) + " got " + std::to_string(v) + " (" + ec.message() + ")");
                return;
            }
        }
        done_->finish();
    }
};

} // namespace

bench::result run_ask(bench::options const& o)
{
    spindle::system sys(system_options(o));
    bench::completion done;
    auto e = sys.spawn<echo>();
    auto a = sys.spawn<asker>(o.n, &done);

    bench::stopwatch const sw;
    a.tell(run_asks{e});
    done.wait();
    bench::result r;
    sw.stop(r);
    r.msgs = 2 * o.n;
    r.extra = {{"ask_timeout_s", static_cast<std::uint64_t>(
                                     std::chrono::duration_cast<std::chrono::seconds>(sys.options().ask_timeout).count())}};
    add_stats(sys, r);
    return r;
}

} // namespace spindle_bench
