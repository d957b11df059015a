//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/stack_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/actor.hpp>
#include <spindle/error.hpp>
#include <spindle/system.hpp>

#include <boost/fiber/all.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::size_t page() noexcept
{
    return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Runs `child` in a forked process with its stderr piped back; returns the
// wait status and what the child wrote to stderr.
template<class F>
std::pair<int, std::string> run_in_child(F child)
{
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    pid_t const pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if(pid == 0)
    {
        ::close(fds[0]);
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[1]);
        // Behave like a plain program: Boost.Test's own fault handlers
        // would turn a crash into a test failure inside the child.
        std::signal(SIGSEGV, SIG_DFL);
        std::signal(SIGBUS, SIG_DFL);
        // A crash is the expected outcome: do not litter the disk with cores.
        struct rlimit no_core = {0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        try
        {
            child();
        }
        catch(...)
        {
            ::_exit(3);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string err;
    char buf[512];
    for(;;)
    {
        ssize_t const n = ::read(fds[0], buf, sizeof buf);
        if(n < 0 && errno == EINTR)
            continue;
        if(n <= 0)
            break;
        err.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while(::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    return {status, err};
}

// Never reached: it only makes the recursion below look finite.
std::atomic<std::size_t> g_depth_limit{~std::size_t(0)};

// Recurses until the stack runs out. The volatile read after the call keeps
// every frame alive, so the compiler cannot turn this into a loop.
__attribute__((noinline)) std::size_t recurse(std::size_t depth)
{
    if(depth == g_depth_limit.load(std::memory_order_relaxed))
        return 0;
    volatile char frame[256];
    frame[depth % sizeof frame] = static_cast<char>(depth);
    std::size_t const below = recurse(depth + 1);
    return below + static_cast<unsigned char>(frame[depth % sizeof frame]);
}

std::atomic<std::size_t> g_sink{0};

} // namespace

BOOST_AUTO_TEST_CASE(defaults_and_rounding)
{
    auto pool = spindle::stack_pool::create();
    BOOST_TEST(pool->stack_size() == 64u * 1024);
    BOOST_TEST(pool->guard_page());
    BOOST_TEST(pool->max_cached() == 1024u);

    auto odd = spindle::stack_pool::create({.stack_size = 5000, .guard_page = true, .max_cached = 4});
    std::size_t const rounded = (5000 + page() - 1) / page() * page();
    BOOST_TEST(odd->stack_size() == rounded);

    auto sctx = odd->allocate();
    BOOST_TEST(sctx.sp != nullptr);
    auto const top = reinterpret_cast<std::uintptr_t>(sctx.sp);
    auto const bottom = top - sctx.size;
    // Boost.Context convention: [sp - size, sp) is the stack, guard page included.
    BOOST_TEST(bottom % page() == 0);
    BOOST_TEST(sctx.size + 64 == rounded + page());
    // The whole usable range is writable.
    std::memset(reinterpret_cast<void*>(bottom + page()), 0x5a, top - bottom - page());
    odd->deallocate(sctx);
    BOOST_TEST(sctx.sp == nullptr);
}

BOOST_AUTO_TEST_CASE(bad_options)
{
    boost::system::error_code ec;
    auto pool = spindle::stack_pool::create({.stack_size = 0}, ec);
    BOOST_TEST(!pool);
    BOOST_TEST(ec == make_error_code(spindle::error::invalid_argument));

    pool = spindle::stack_pool::create({.stack_size = (std::size_t(1) << 30) + 1}, ec);
    BOOST_TEST(!pool);
    BOOST_TEST(ec == make_error_code(spindle::error::invalid_argument));

    pool = spindle::stack_pool::create({.stack_size = 1}, ec);
    BOOST_TEST(!ec);
    BOOST_REQUIRE(pool);
    BOOST_TEST(pool->stack_size() == page());

    BOOST_CHECK_THROW(spindle::stack_pool::create({.stack_size = 0}), spindle::system_error);
    BOOST_CHECK_THROW(spindle::pooled_stack(spindle::stack_pool_options{.stack_size = 0}),
        spindle::system_error);
}

BOOST_AUTO_TEST_CASE(reuse_and_counters)
{
    auto pool = spindle::stack_pool::create({.stack_size = 16 * 1024});
    auto a = pool->allocate();
    auto b = pool->allocate();
    auto s = pool->stats();
    BOOST_TEST(s.allocated == 2u);
    BOOST_TEST(s.in_use == 2u);
    BOOST_TEST(s.cached == 0u);
    BOOST_TEST(s.peak_in_use == 2u);
    BOOST_TEST(s.reused == 0u);

    void* const b_sp = b.sp;
    pool->deallocate(b);
    s = pool->stats();
    BOOST_TEST(s.allocated == 2u);
    BOOST_TEST(s.in_use == 1u);
    BOOST_TEST(s.cached == 1u);

    // The most recently freed stack comes back, without a new mapping.
    auto c = pool->allocate();
    BOOST_TEST(c.sp == b_sp);
    s = pool->stats();
    BOOST_TEST(s.reused == 1u);
    BOOST_TEST(s.allocated == 2u);
    BOOST_TEST(s.cached == 0u);

    pool->deallocate(a);
    pool->deallocate(c);
    pool->trim();
    s = pool->stats();
    BOOST_TEST(s.allocated == 0u);
    BOOST_TEST(s.cached == 0u);
    BOOST_TEST(s.in_use == 0u);
    BOOST_TEST(s.peak_in_use == 2u);
}

BOOST_AUTO_TEST_CASE(cache_limit)
{
    auto pool = spindle::stack_pool::create({.stack_size = 8 * 1024, .guard_page = true, .max_cached = 2});
    std::vector<boost::context::stack_context> stacks;
    for(int i = 0; i < 5; ++i)
        stacks.push_back(pool->allocate());
    BOOST_TEST(pool->stats().allocated == 5u);
    for(auto& s : stacks)
        pool->deallocate(s);
    auto const s = pool->stats();
    BOOST_TEST(s.cached == 2u);
    BOOST_TEST(s.allocated == 2u);
    BOOST_TEST(s.in_use == 0u);
    BOOST_TEST(s.peak_in_use == 5u);

    auto none = spindle::stack_pool::create({.stack_size = 8 * 1024, .guard_page = false, .max_cached = 0});
    auto x = none->allocate();
    none->deallocate(x);
    BOOST_TEST(none->stats().allocated == 0u);
    BOOST_TEST(none->stats().cached == 0u);
}

BOOST_AUTO_TEST_CASE(two_threads_allocate_and_free)
{
    constexpr int rounds = 2000;
    constexpr int held = 8;
    auto pool = spindle::stack_pool::create({.stack_size = 8 * 1024, .guard_page = true, .max_cached = 12});
    std::atomic<int> corrupted{0};

    auto worker = [&](unsigned char tag) {
        spindle::pooled_stack alloc{pool};
        std::vector<boost::context::stack_context> mine;
        for(int r = 0; r < rounds; ++r)
        {
            for(int i = 0; i < held; ++i)
            {
                mine.push_back(alloc.allocate());
                // Mark the stack: a stack handed to both threads at once
                // would show the other thread's mark below.
                std::memset(static_cast<char*>(mine.back().sp) - 256, tag, 256);
            }
            for(auto& s : mine)
            {
                auto const* p = static_cast<unsigned char const*>(s.sp) - 256;
                for(int i = 0; i < 256; ++i)
                    if(p[i] != tag)
                    {
                        ++corrupted;
                        break;
                    }
                alloc.deallocate(s);
            }
            mine.clear();
        }
    };
    std::thread t1(worker, 0x11);
    std::thread t2(worker, 0x22);
    t1.join();
    t2.join();

    auto const s = pool->stats();
    BOOST_TEST(corrupted.load() == 0);
    BOOST_TEST(s.in_use == 0u);
    BOOST_TEST(s.allocated == s.cached);
    BOOST_TEST(s.cached <= 12u);
    BOOST_TEST(s.peak_in_use >= std::size_t(held));
    BOOST_TEST(s.peak_in_use <= std::size_t(2 * held));
    // 32000 allocations in all: almost every one must come from the cache.
    BOOST_TEST(s.reused > std::uint64_t(2 * rounds * held) / 2);
}

BOOST_AUTO_TEST_CASE(free_on_another_thread)
{
    auto pool = spindle::stack_pool::create({.stack_size = 16 * 1024});
    std::vector<boost::context::stack_context> stacks;
    std::thread([&] {
        spindle::pooled_stack alloc{pool};
        for(int i = 0; i < 100; ++i)
            stacks.push_back(alloc.allocate());
    }).join();
    BOOST_TEST(pool->stats().in_use == 100u);
    std::thread([&] {
        spindle::pooled_stack alloc{pool};
        for(auto& s : stacks)
            alloc.deallocate(s);
    }).join();
    auto const s = pool->stats();
    BOOST_TEST(s.in_use == 0u);
    BOOST_TEST(s.cached == 100u);
}

namespace {

// Marks the thread that creates the fibers (thread ids are reused after a
// join, so they cannot tell the creator from a later thread).
thread_local bool t_creator = false;

// Wraps pooled_stack to record how many stacks another thread returned.
struct recording_stack
{
    spindle::pooled_stack inner;
    std::shared_ptr<std::atomic<int>> freed_elsewhere;

    boost::context::stack_context allocate()
    {
        return inner.allocate();
    }
    void deallocate(boost::context::stack_context& sctx) noexcept
    {
        if(!t_creator)
            ++*freed_elsewhere;
        inner.deallocate(sctx);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(fibers_run_on_pooled_stacks_and_free_elsewhere)
{
    constexpr int n = 64;
    auto pool = spindle::stack_pool::create({.stack_size = 32 * 1024});
    auto freed_elsewhere = std::make_shared<std::atomic<int>>(0);
    std::atomic<int> ran{0};
    std::vector<boost::fibers::fiber> fibers;

    std::thread creator([&] {
        t_creator = true;
        recording_stack alloc{spindle::pooled_stack{pool}, freed_elsewhere};
        for(int i = 0; i < n; ++i)
        {
            fibers.emplace_back(std::allocator_arg, alloc, [&ran] {
                // Use some of the stack and switch at least once.
                volatile char buf[1024];
                buf[0] = 1;
                boost::this_fiber::yield();
                ran += buf[0];
            });
        }
        // Let every fiber finish and the scheduler drop its references, so
        // the fiber objects handed to the other thread hold the last ones.
        while(ran.load() < n)
            boost::this_fiber::yield();
        boost::this_fiber::yield();
    });
    creator.join();
    BOOST_TEST(ran.load() == n);
    BOOST_TEST(pool->stats().in_use == std::size_t(n));

    std::thread([&] {
        for(auto& f : fibers)
            f.join();
        fibers.clear();
    }).join();

    auto const s = pool->stats();
    BOOST_TEST(s.in_use == 0u);
    BOOST_TEST(s.cached == std::size_t(n));
    BOOST_TEST(freed_elsewhere->load() == n);

    // The next fibers reuse the cached stacks.
    boost::fibers::fiber again{std::allocator_arg, spindle::pooled_stack{pool}, [&ran] { ++ran; }};
    again.join();
    BOOST_TEST(pool->stats().reused >= 1u);
    BOOST_TEST(pool->stats().allocated == std::size_t(n));
}

BOOST_AUTO_TEST_CASE(pool_outlives_its_creator)
{
    std::weak_ptr<spindle::stack_pool> weak;
    boost::fibers::fiber f;
    {
        auto pool = spindle::stack_pool::create({.stack_size = 16 * 1024});
        weak = pool;
        f = boost::fibers::fiber{std::allocator_arg, spindle::pooled_stack{pool}, [] {}};
    }
    BOOST_TEST(!weak.expired());
    f.join();
    f = {};
    BOOST_TEST(weak.expired());
}

BOOST_AUTO_TEST_CASE(overflow_is_reported_and_kills_with_sigsegv)
{
    auto [status, err] = run_in_child([] {
        spindle::stack_pool::install_overflow_handler();
        spindle::pooled_stack alloc{spindle::stack_pool_options{.stack_size = 16 * 1024}};
        boost::fibers::fiber f{std::allocator_arg, alloc, [] { g_sink += recurse(0); }};
        f.join();
    });
    BOOST_TEST_INFO("child stderr: " << err);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGSEGV);
    BOOST_TEST(err.find("spindle: fiber stack overflow (stack of 16384 bytes at 0x") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_faults_reach_the_previous_handler)
{
    // A handler installed before ours still sees faults outside our guard pages.
    auto [status, err] = run_in_child([] {
        struct sigaction sa = {};
        sa.sa_handler = [](int) {
            char const msg[] = "user handler\n";
            (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
            ::_exit(42);
        };
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGSEGV, &sa, nullptr);
        spindle::stack_pool::install_overflow_handler();
        volatile int* volatile bad = nullptr;
        *bad = 1;
    });
    BOOST_TEST_INFO("child stderr: " << err);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 42);
    BOOST_TEST(err.find("user handler") != std::string::npos);
    BOOST_TEST(err.find("fiber stack overflow") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_faults_keep_the_default_action)
{
    auto [status, err] = run_in_child([] {
        spindle::stack_pool::install_overflow_handler();
        // A live guarded stack, so the handler has ranges to check against.
        auto pool = spindle::stack_pool::create({.stack_size = 16 * 1024});
        auto sctx = pool->allocate();
        volatile int* volatile bad = nullptr;
        *bad = 1;
        pool->deallocate(sctx);
    });
    BOOST_TEST_INFO("child stderr: " << err);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGSEGV);
    BOOST_TEST(err.find("fiber stack overflow") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(overflow_on_a_worker_thread)
{
    auto [status, err] = run_in_child([] {
        spindle::stack_pool::install_overflow_handler();
        std::thread([] {
            spindle::stack_pool::prepare_thread();
            spindle::stack_pool::prepare_thread(); // a second call is harmless
            spindle::pooled_stack alloc{spindle::stack_pool_options{.stack_size = 32 * 1024}};
            boost::fibers::fiber f{std::allocator_arg, alloc, [] { g_sink += recurse(0); }};
            f.join();
        }).join();
    });
    BOOST_TEST_INFO("child stderr: " << err);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGSEGV);
    BOOST_TEST(err.find("spindle: fiber stack overflow (stack of 32768 bytes at 0x") != std::string::npos);
}

namespace {
struct go
{
};
struct deep : spindle::actor<deep, go>
{
    void on(go) { g_sink += recurse(0); }
};
} // namespace

BOOST_AUTO_TEST_CASE(an_overflow_in_a_handler_names_the_actor)
{
    auto [status, err] = run_in_child([] {
        spindle::system_options o;
        o.worker_threads = 1;
        spindle::system sys(o);
        spindle::spawn_options so;
        so.name = "deep-one";
        auto ref = sys.spawn_with<deep>(so);
        ref.tell(go{});
        std::this_thread::sleep_for(std::chrono::minutes(5)); // the overflow ends the process first
    });
    BOOST_TEST_INFO("child stderr: " << err);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGSEGV);
    BOOST_TEST(err.find("spindle: fiber stack overflow (stack of ") != std::string::npos);
    BOOST_TEST(err.find(" in actor deep-one of type ") != std::string::npos);
    BOOST_TEST(err.find("deep") != std::string::npos);
    BOOST_TEST(err.find(", id ") != std::string::npos);
}
