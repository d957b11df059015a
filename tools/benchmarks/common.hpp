//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_BENCHMARKS_COMMON_HPP
#define SPINDLE_BENCHMARKS_COMMON_HPP

// What the Spindle and the CAF benchmark programs share: argument parsing,
// the clock, peak RSS, the result line, the completion signal the main
// thread waits on, and the checks. Nothing here knows either framework, so
// both programs measure the same way.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/resource.h>

namespace bench {

using clock_type = std::chrono::steady_clock;

/// A wrong result: the program prints it and exits with status 1.
struct failure : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

/// What one run was asked to do.
struct options
{
    std::string workload;
    std::uint64_t n = 0;
    unsigned threads = 1;
};

/// What a workload measured.
struct result
{
    double seconds = 0;
    double cpu_seconds = 0; ///< user + system CPU of the whole process meanwhile
    std::uint64_t msgs = 0; ///< what msgs_per_s divides
    /// Extra integer fields of the JSON line, in order (p50_ns, bytes_per_actor, ...).
    std::vector<std::pair<std::string, std::uint64_t>> extra;
};

/// The workloads, with the N of the targets (the default run).
struct workload_info
{
    char const* name;
    std::uint64_t default_n;
};

inline constexpr workload_info workloads[] = {
    {"pingpong", 1'000'000}, {"ask", 200'000},    {"spawn", 1'000'000}, {"alive", 1'000'000},
    {"fanin", 1'000'000},    {"ring", 10'000'000}, {"skynet", 1'000'000}, {"big", 1'000'000},
    {"tasks", 1'000'000},     {"tasks_external", 1'000'000},
    {"stream", 10'000'000},  {"stream_unfused", 10'000'000},
    {"toolcall", 1'000'000}, {"load_overhead", 1'000'000},
    {"remote_tell", 1'000'000}, {"remote_pingpong", 20'000},
};

// Fixed shapes of the workloads (both programs use these constants).
inline constexpr std::uint64_t fanin_senders = 20;
inline constexpr std::uint64_t ring_size = 1000;
inline constexpr std::uint64_t big_actors = 1000;
inline constexpr std::uint64_t skynet_fanout = 10;

/// How long a run may take before `watchdog_thread` declares it hung.
inline std::chrono::seconds watchdog()
{
    if(char const* s = std::getenv("SPINDLE_BENCH_TIMEOUT"))
        return std::chrono::seconds(std::max(1L, std::atol(s)));
    return std::chrono::seconds(900);
}

/// Peak resident set size of this process (VmHWM), in KiB.
inline std::uint64_t peak_rss_kb()
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while(std::getline(f, line))
        if(line.rfind("VmHWM:", 0) == 0)
            return std::strtoull(line.c_str() + 6, nullptr, 10);
    return 0;
}

/// The one-minute load average when the run started (the machine is shared).
inline double load_average()
{
    std::ifstream f("/proc/loadavg");
    double l = 0;
    f >> l;
    return l;
}

/** Where the workload's last actor reports that it is done (or what went
    wrong); the main thread waits on it. Signalling takes a mutex for a few
    instructions and never waits, so actors of either framework may call it
    from a handler.
*/
class completion
{
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
    std::string error_;

public:
    void finish()
    {
        std::lock_guard lk(m_);
        done_ = true;
        cv_.notify_all();
    }

    void fail(std::string what)
    {
        std::lock_guard lk(m_);
        if(error_.empty())
            error_ = std::move(what);
        done_ = true;
        cv_.notify_all();
    }

    /// Waits for `finish` or `fail` (a hang is the watchdog's business).
    /// @throws failure with the message given to `fail`.
    void wait()
    {
        std::unique_lock lk(m_);
        cv_.wait(lk, [this] { return done_; });
        if(!error_.empty())
            throw failure(error_);
    }
};

/** Ends the process with status 2 if the run takes longer than
    `watchdog()`: a hung workload cannot be cleaned up (its actors would
    never stop, and neither would the system's destructor).
*/
class watchdog_thread
{
    std::mutex m_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread t_;

public:
    explicit watchdog_thread(std::string what)
        : t_([this, what = std::move(what)] {
              std::unique_lock lk(m_);
              if(cv_.wait_for(lk, watchdog(), [this] { return done_; }))
                  return;
              std::fprintf(stderr, "%s: timed out after %lld s (SPINDLE_BENCH_TIMEOUT)\n", what.c_str(),
                           static_cast<long long>(watchdog().count()));
              std::fflush(stderr);
              std::_Exit(2);
          })
    {
    }

    ~watchdog_thread()
    {
        {
            std::lock_guard lk(m_);
            done_ = true;
        }
        cv_.notify_all();
        t_.join();
    }
};

/// Polls `done()` every 200 µs (how both programs wait for actors to stop).
template<class F>
void poll_until(F done)
{
    while(!done())
        std::this_thread::sleep_for(std::chrono::microseconds(200));
}

/// Marsaglia's xorshift64: the pseudo-random peers of `big`.
struct xorshift
{
    std::uint64_t s;
    explicit xorshift(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint64_t operator()()
    {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};

/// Sum of 0..n-1: what skynet's root and fan-in's receiver must see.
inline std::uint64_t sum_below(std::uint64_t n)
{
    return n % 2 == 0 ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
}

/// Messages that sender `i` of `k` sends when `n` are split evenly.
inline std::uint64_t share(std::uint64_t n, std::uint64_t k, std::uint64_t i)
{
    return n / k + (i < n % k ? 1 : 0);
}

/** What every trivial task of `tasks` does, in every system: adds its
    number to a sum and counts itself; the last one reports to `done`. The
    same two relaxed-enough atomic operations per task everywhere, so the
    systems differ only in how they hand tasks to threads.
*/
class task_tally
{
    std::uint64_t const n_;
    completion* const done_;
    alignas(64) std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_{0};

public:
    task_tally(std::uint64_t n, completion* done) : n_(n), done_(done) {}

    void add(std::uint64_t v) noexcept
    {
        sum_.fetch_add(v, std::memory_order_relaxed);
        if(count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_ && done_)
            done_->finish();
    }

    /// Throws `failure` unless exactly tasks 0..n-1 ran, each once.
    void verify() const
    {
        auto const c = count_.load(std::memory_order_acquire);
        auto const s = sum_.load(std::memory_order_acquire);
        if(c != n_ || s != sum_below(n_))
            throw failure(std::to_string(c) + " tasks ran, numbers summing to " + std::to_string(s) +
                          " (expected " + std::to_string(n_) + ", " + std::to_string(sum_below(n_)) + ")");
    }
};

/** Round-trip samples of pingpong: one timed round trip every `every`, so
    reading the clock costs little against the messages themselves.
*/
class rtt_sampler
{
    std::vector<std::uint64_t> ns_;
    std::uint64_t every_;
    clock_type::time_point t0_{};

public:
    explicit rtt_sampler(std::uint64_t rounds)
        : every_(std::max<std::uint64_t>(1, rounds / 10'000))
    {
        ns_.reserve(rounds / every_ + 2);
    }

    bool sampled(std::uint64_t round) const { return round % every_ == 0; }
    void start() { t0_ = clock_type::now(); }
    void stop()
    {
        ns_.push_back(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0_).count()));
    }

    /// The `p`-th percentile (0..100), nearest rank.
    std::uint64_t percentile(double p)
    {
        if(ns_.empty())
            return 0;
        std::sort(ns_.begin(), ns_.end());
        auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(ns_.size()));
        return ns_[std::min(rank, ns_.size() - 1)];
    }
};

/// CPU time (user + system) of this process so far, in seconds.
inline double cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto sec = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return sec(u.ru_utime) + sec(u.ru_stime);
}

/** Times the measured part of a workload: wall clock and, to show what
    spinning or sleeping workers cost, the process's CPU time.
*/
class stopwatch
{
    clock_type::time_point t0_ = clock_type::now();
    double cpu0_ = cpu_seconds();

public:
    /// Stores the time since construction in `r`.
    void stop(result& r) const
    {
        r.seconds = std::chrono::duration<double>(clock_type::now() - t0_).count();
        r.cpu_seconds = cpu_seconds() - cpu0_;
    }
};

/// Throws `failure` with `what` unless `ok`.
inline void check(bool ok, std::string const& what)
{
    if(!ok)
        throw failure(what);
}

/** Worker threads from SPINDLE_THREADS (default: all hardware threads).
    @throws failure naming the variable if it is not 1..1024.
*/
inline unsigned threads_from_env()
{
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    if(char const* t = std::getenv("SPINDLE_THREADS"); t && *t)
    {
        long v = std::atol(t);
        if(v < 1 || v > 1024)
            throw failure("SPINDLE_THREADS must be 1..1024, got '" + std::string(t) + "'");
        threads = static_cast<unsigned>(v);
    }
    return threads;
}

using runner = result (*)(options const&);

/// A workload of one program: its name and how it runs.
struct entry
{
    char const* name;
    runner run;
};

/** The main function of both programs:
    `<program> WORKLOAD [N]`, threads from SPINDLE_THREADS (default: all
    hardware threads). Prints one JSON line on success; exits 1 on a wrong
    result, 2 on bad arguments or a hang.
*/
inline int main(int argc, char** argv, char const* system, std::vector<entry> const& table)
{
    auto usage = [&] {
        std::fprintf(stderr, "usage: %s WORKLOAD [N]\nworkloads:", argv[0]);
        for(auto const& w : workloads)
            std::fprintf(stderr, " %s", w.name);
        std::fprintf(stderr, "\n");
        return 2;
    };
    if(argc < 2 || argc > 3)
        return usage();

    options opt;
    opt.workload = argv[1];
    workload_info const* info = nullptr;
    for(auto const& w : workloads)
        if(opt.workload == w.name)
            info = &w;
    runner run = nullptr;
    for(auto const& e : table)
        if(opt.workload == e.name)
            run = e.run;
    if(!info || !run)
        return usage();
    opt.n = info->default_n;
    if(argc == 3)
    {
        char* end = nullptr;
        opt.n = std::strtoull(argv[2], &end, 10);
        if(!end || *end || opt.n == 0)
        {
            std::fprintf(stderr, "%s: N must be a positive integer, got '%s'\n", argv[0], argv[2]);
            return 2;
        }
    }
    try
    {
        opt.threads = threads_from_env();
    }
    catch(failure const& e)
    {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 2;
    }

    double const load = load_average();
    result r;
    try
    {
        watchdog_thread const guard(std::string(system) + " " + opt.workload);
        r = run(opt);
    }
    catch(std::exception const& e)
    {
        std::fprintf(stderr, "%s %s %llu: FAILED: %s\n", system, opt.workload.c_str(),
                     static_cast<unsigned long long>(opt.n), e.what());
        return 1;
    }
    double const rate = r.seconds > 0 ? static_cast<double>(r.msgs) / r.seconds : 0;
    std::printf("{\"system\":\"%s\",\"workload\":\"%s\",\"n\":%llu,\"threads\":%u,\"seconds\":%.4f,"
                "\"msgs\":%llu,\"msgs_per_s\":%.0f,\"peak_rss_kb\":%llu",
                system, opt.workload.c_str(), static_cast<unsigned long long>(opt.n), opt.threads, r.seconds,
                static_cast<unsigned long long>(r.msgs), rate, static_cast<unsigned long long>(peak_rss_kb()));
    for(auto const& [k, v] : r.extra)
        std::printf(",\"%s\":%llu", k.c_str(), static_cast<unsigned long long>(v));
    std::printf(",\"cpu_s\":%.3f,\"load1\":%.2f}\n", r.cpu_seconds, load);
    std::fflush(stdout);
    return 0;
}

} // namespace bench

#endif
