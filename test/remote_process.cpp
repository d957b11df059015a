//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// Remote actors across processes: the example/remote_pingpong program is
// the other process (its path comes from the build).

#include <spindle/remote/node.hpp>

#include "nats_server.hpp"
#include "support.hpp"

#include <spindle/actor.hpp>
#include <spindle/system.hpp>

#include <boost/describe.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>

using namespace std::chrono_literals;
using spindle_test::eventually;

// The example's messages: the same wire names make the two programs talk.
#include "../example/remote_pingpong.hpp"

/// The far side's type, as this process sees it: only its interface matters.
struct ponger : spindle::actor<ponger, ping, count>
{
    void on(ping const&) {}
    int on(count) { return 0; }
};

struct pinger : spindle::actor<pinger, ball>
{
    std::shared_ptr<std::atomic<int>> balls;
    explicit pinger(std::shared_ptr<std::atomic<int>> b) : balls(std::move(b)) {}
    void on(ball const&) { balls->fetch_add(1); }
};

struct watch_it
{
    spindle::actor_ref<ponger> target;
};

struct watcher : spindle::actor<watcher, watch_it>
{
    std::shared_ptr<std::atomic<int>> downs;
    std::shared_ptr<std::string> last;
    watcher(std::shared_ptr<std::atomic<int>> d, std::shared_ptr<std::string> l) : downs(std::move(d)), last(std::move(l)) {}
    void on(watch_it const& w) { monitor(w.target); }
    void on_down(spindle::down const& d) override
    {
        *last = to_string(d.reason) + std::string(" ") + d.what;
        downs->fetch_add(1);
    }
};

namespace {

namespace remote = spindle::remote;

/// Runs example/remote_pingpong with `args`, its output in a file.
class child
{
    pid_t pid_ = -1;
    std::string out_;

public:
    explicit child(std::vector<std::string> args)
    {
        out_ = "/tmp/spindle-remote-child-" + std::to_string(::getpid()) + "-" + args.front() + ".out";
        std::string exe = SPINDLE_REMOTE_PINGPONG;
        std::vector<char*> argv{exe.data()};
        for(auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        if(::posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), environ) != 0)
            throw std::runtime_error("cannot start " + exe);
        posix_spawn_file_actions_destroy(&fa);
    }

    ~child()
    {
        if(pid_ > 0)
        {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::unlink(out_.c_str());
    }

    std::string output() const
    {
        std::ifstream f(out_);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }

    void kill(int sig)
    {
        ::kill(pid_, sig);
    }

    /// Waits for the exit; the exit code, or -1 after a signal.
    int wait()
    {
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
};

remote::node_options opts(std::string name, std::string url)
{
    remote::node_options o;
    o.name = std::move(name);
    o.servers = {std::move(url)};
    return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(tell_and_ask_another_process)
{
    spindle_test::nats_server server;
    child pong({"pong", server.url()});
    spindle::system sys;
    remote::node n(sys, opts("tester", server.url()));
    BOOST_REQUIRE(n.await_published("pong", spindle_test::failure_timeout));

    auto balls = std::make_shared<std::atomic<int>>(0);
    auto me = sys.spawn<pinger>(balls);
    auto p = n.lookup<ponger>("pong");
    for(int i = 1; i <= 100; ++i)
        BOOST_REQUIRE(p.tell(ping{i, me}) == spindle::send_status::ok);
    BOOST_TEST(p.ask(count{}, spindle_test::failure_timeout).get() == 100);
    BOOST_TEST(eventually([&] { return balls->load() == 100; }));
}

BOOST_AUTO_TEST_CASE(the_example_plays_ping_pong_across_processes)
{
    spindle_test::nats_server server;
    child pong({"pong", server.url()});
    child ping({"ping", server.url(), "500"});
    BOOST_TEST(ping.wait() == 0, ping.output());
    BOOST_TEST(ping.output().find("ping: 500 round trips") != std::string::npos, ping.output());
    BOOST_TEST(ping.output().find("pong has served 500") != std::string::npos, ping.output());
    pong.kill(SIGTERM);
    BOOST_TEST(pong.wait() == 0, pong.output());
}

BOOST_AUTO_TEST_CASE(a_killed_process_gives_exactly_one_down)
{
    spindle_test::nats_server server;
    child pong({"pong", server.url()});
    spindle::system sys;
    auto o = opts("tester", server.url());
    o.heartbeat_interval = 200ms;
    remote::node n(sys, o);
    BOOST_REQUIRE(n.await_published("pong", spindle_test::failure_timeout));

    auto downs = std::make_shared<std::atomic<int>>(0);
    auto last = std::make_shared<std::string>();
    auto w = sys.spawn<watcher>(downs, last);
    w.tell(watch_it{n.lookup<ponger>("pong")});
    BOOST_REQUIRE(eventually([&] { return n.stats().monitors == 1u; }));

    pong.kill(SIGKILL);
    pong.wait();
    // the pong node heartbeats every second (its default): 3 misses
    BOOST_TEST(eventually([&] { return downs->load() == 1; }));
    BOOST_TEST(last->find("node lost") != std::string::npos, *last);
    BOOST_TEST(last->rfind("failure", 0) == 0u, *last);
    BOOST_TEST(eventually([&] { return n.peers().empty(); }));
    BOOST_TEST(downs->load() == 1);
}

BOOST_AUTO_TEST_CASE(a_two_server_cluster_carries_tell_and_ask)
{
    spindle_test::nats_server s1(0, 0, {}, true);
    spindle_test::nats_server s2(0, 0, {s1.cluster_url()}, true);
    child pong({"pong", s1.url()});
    spindle::system sys;
    remote::node n(sys, opts("tester", s2.url()));
    // the routes carry the pong node's heartbeats once the cluster formed
    BOOST_REQUIRE(n.await_published("pong", spindle_test::failure_timeout));
    auto p = n.lookup<ponger>("pong");
    auto balls = std::make_shared<std::atomic<int>>(0);
    auto me = sys.spawn<pinger>(balls);
    BOOST_TEST(p.tell(ping{1, me}) == spindle::send_status::ok);
    BOOST_TEST(eventually([&] { return balls->load() == 1; }));
    BOOST_TEST(p.ask(count{}, spindle_test::failure_timeout).get() == 1);
}
