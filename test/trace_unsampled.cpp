//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// The cheap path: messages in a trace the sampler dropped propagate its ids
// and allocate nothing beyond what they allocate with tracing off.

#include <spindle/trace/tracing.hpp>

#include <boost/test/unit_test.hpp>

#include "trace_support.hpp"

#include <spindle/actor.hpp>
#include <spindle/system.hpp>
#include <spindle/trace/span.hpp>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}

// Every allocation of the process is counted (the aligned forms are not
// used by what this test measures). The nothrow forms are replaced too, so
// that every block these delete operators free came from malloc: left to
// the runtime, a nothrow new[] (the message tally's) is AddressSanitizer's
// own, and freeing it here is an alloc-dealloc mismatch.
void* operator new(std::size_t n)
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    if(void* p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n)
{
    return ::operator new(n);
}
void* operator new(std::size_t n, std::nothrow_t const&) noexcept
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, std::nothrow_t const& t) noexcept
{
    return ::operator new(n, t);
}
void operator delete(void* p, std::nothrow_t const&) noexcept
{
    std::free(p);
}
void operator delete[](void* p, std::nothrow_t const&) noexcept
{
    std::free(p);
}
void operator delete(void* p) noexcept
{
    std::free(p);
}
void operator delete[](void* p) noexcept
{
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept
{
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept
{
    std::free(p);
}

using namespace spindle::trace;
using namespace spindle_test;

namespace tru {

struct hop
{
    int left = 0;
};

struct bouncer;

struct partner
{
    spindle::actor_ref<bouncer> other;
};

struct seen
{
    std::atomic<bool> done{false};
    span_context first, last;
};

struct bouncer : spindle::actor<bouncer, partner, hop>
{
    std::shared_ptr<seen> s_;
    spindle::actor_ref<bouncer> other_;
    explicit bouncer(std::shared_ptr<seen> s) : s_(std::move(s)) {}
    void on(partner const& p) { other_ = p.other; }
    void on(hop const& h)
    {
        if(!s_->first.valid())
            s_->first = current_span().context();
        if(h.left == 0)
        {
            s_->last = current_span().context();
            s_->done = true;
            return;
        }
        other_.tell(hop{h.left - 1});
    }
};

/// Allocations made while `n` hops bounce between two actors (after a
/// first round of warm-up), and what the last handler saw.
std::uint64_t bounce(spindle::system& sys, int n, std::shared_ptr<seen>& out)
{
    std::uint64_t measured = 0;
    for(int round = 0; round < 2; ++round)
    {
        out = std::make_shared<seen>();
        auto a = sys.spawn<bouncer>(out);
        auto b = sys.spawn<bouncer>(out);
        a.tell(partner{b});
        b.tell(partner{a});
        BOOST_REQUIRE(wait_for([&] { return a.mailbox_depth() == 0 && b.mailbox_depth() == 0; }));
        auto const before = g_allocs.load();
        a.tell(hop{n});
        BOOST_REQUIRE(wait_for([&] { return out->done.load(); }));
        measured = g_allocs.load() - before;
        a.stop();
        b.stop();
    }
    return measured;
}

} // namespace tru

BOOST_AUTO_TEST_CASE(an_unsampled_trace_propagates_its_ids_without_allocating)
{
    constexpr int n = 2000;
    spindle::system sys;
    std::shared_ptr<tru::seen> s;
    auto const off = tru::bounce(sys, n, s);
    BOOST_TEST(!s->last.valid());

    auto exp = std::make_shared<capture_exporter>();
    tracing t(capture_options(exp, parent_based(always_off())));
    auto const on = tru::bounce(sys, n, s);
    // one trace, ids propagated hop to hop, nothing recorded
    BOOST_TEST(s->first.valid());
    BOOST_TEST(s->last.valid());
    BOOST_TEST(s->last.trace.to_hex() == s->first.trace.to_hex());
    BOOST_TEST(s->last.span.to_hex() != s->first.span.to_hex());
    BOOST_TEST(!s->last.sampled());
    BOOST_TEST(t.stats().spans_started == 0u);
    // the root span's name and a few per-thread tables at most: not one
    // allocation per message (the slow path made two or more)
    BOOST_TEST_MESSAGE("allocations for " << n << " hops: tracing off " << off << ", unsampled " << on);
    BOOST_TEST(on <= off + n / 10);
}
