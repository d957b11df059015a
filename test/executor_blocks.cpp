//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// What the executor's allocation fast path must keep: task states of every
// size and alignment come back intact through the per-thread cache of
// blocks, also when they are allocated on one thread and freed on another.

#include <spindle/executor.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/system.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace {

spindle::system_options two_workers()
{
    spindle::system_options o;
    o.worker_threads = 2;
    return o;
}

struct alignas(64) wide
{
    std::uint64_t v[8];
};

/// A callable of `N` bytes or more that returns the sum of what it holds.
template<std::size_t N>
struct payload
{
    std::array<std::uint8_t, N> bytes;
    explicit payload(std::uint8_t seed) { std::iota(bytes.begin(), bytes.end(), seed); }
    std::uint64_t operator()() const { return std::accumulate(bytes.begin(), bytes.end(), std::uint64_t(0)); }
    std::uint64_t expected() const { return (*this)(); }
};

} // namespace

BOOST_AUTO_TEST_CASE(states_of_every_size_and_alignment_round_trip)
{
    spindle::system sys(two_workers());
    spindle::executor ex(sys);
    // callables from a few bytes to past the cached sizes, several times
    // each so that freed blocks are reused
    for(int round = 0; round < 50; ++round)
    {
        auto const seed = static_cast<std::uint8_t>(round);
        payload<1> p1(seed);
        payload<40> p40(seed);
        payload<120> p120(seed);
        payload<200> p200(seed);
        payload<1000> p1000(seed);
        auto h1 = ex.submit(p1);
        auto h40 = ex.submit(p40);
        auto h120 = ex.submit(p120);
        auto h200 = ex.submit(p200);
        auto h1000 = ex.submit(p1000);
        auto hw = ex.submit([round] {
            wide w{};
            for(auto& x : w.v)
                x = static_cast<std::uint64_t>(round);
            return w;
        });
        BOOST_TEST(h1.get() == p1.expected());
        BOOST_TEST(h40.get() == p40.expected());
        BOOST_TEST(h120.get() == p120.expected());
        BOOST_TEST(h200.get() == p200.expected());
        BOOST_TEST(h1000.get() == p1000.expected());
        wide const& w = hw.get();
        BOOST_TEST(reinterpret_cast<std::uintptr_t>(&w) % alignof(wide) == 0u);
        BOOST_TEST(w.v[7] == static_cast<std::uint64_t>(round));
    }
    BOOST_TEST(ex.stats().completed == 300u);
}

BOOST_AUTO_TEST_CASE(states_stay_intact_across_threads)
{
    constexpr int per_thread = 5000;
    spindle::system sys(two_workers());
    spindle::executor_options eo;
    eo.queue_capacity = 2 * per_thread; // submitters never wait for room
    spindle::executor ex(sys, eo);
    std::atomic<std::uint64_t> sum{0};
    auto submitter = [&](std::uint64_t base) noexcept {
        try
        {
            std::vector<spindle::task_handle<std::string>> hs;
            hs.reserve(per_thread);
            for(int i = 0; i < per_thread; ++i)
                hs.push_back(ex.submit([&sum, v = base + static_cast<std::uint64_t>(i)] {
                    sum.fetch_add(v, std::memory_order_relaxed);
                    return std::to_string(v);
                }));
            for(int i = 0; i < per_thread; ++i)
                if(hs[static_cast<std::size_t>(i)].get() != std::to_string(base + static_cast<std::uint64_t>(i)))
                    return false;
            return true;
        }
        catch(...)
        {
            return false;
        }
    };
    // plain threads submit, workers free: blocks cross threads both ways
    bool ok_a = false, ok_b = false;
    std::thread a([&] { ok_a = submitter(0); });
    std::thread b([&] { ok_b = submitter(per_thread); });
    a.join();
    b.join();
    BOOST_TEST(ok_a);
    BOOST_TEST(ok_b);
    std::uint64_t const n = 2 * per_thread;
    BOOST_TEST(sum.load() == n * (n - 1) / 2);
}
