//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// A Node client (npm `nats`, pinned in test/remote_js/package-lock.json and
// installed by tools/test into the build tree) tells and asks a Spindle
// actor using only the wire format of doc/remote.md.

#include <spindle/remote/node.hpp>

#include "nats_server.hpp"
#include "support.hpp"

#include <spindle/actor.hpp>
#include <spindle/system.hpp>

#include <boost/describe.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

struct add
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(add, (), (n))

struct get_total
{
};
BOOST_DESCRIBE_STRUCT(get_total, (), ())

SPINDLE_REMOTE_MESSAGE(add, "test.add", 1);
SPINDLE_REMOTE_MESSAGE(get_total, "test.get_total", 1);

struct counter : spindle::actor<counter, add, get_total>
{
    int total = 0;
    void on(add const& a) { total += a.n; }
    int on(get_total) { return total; }
};

BOOST_AUTO_TEST_CASE(a_node_client_tells_and_asks_an_actor)
{
    std::string const dir = SPINDLE_REMOTE_JS_DIR;
    struct stat st{};
    BOOST_REQUIRE_MESSAGE(::stat((dir + "/node_modules/nats").c_str(), &st) == 0,
        "the npm package is missing in " << dir << ": run tools/test (it runs npm ci there)");

    spindle_test::nats_server server;
    spindle::system sys;
    spindle::remote::node n(sys, {.name = "js-interop", .servers = {server.url()}});
    auto c = sys.spawn<counter>();
    n.publish("counter", c);

    std::string const out = dir + "/interop.out";
    std::string const script = dir + "/interop.cjs";
    std::string url = server.url();
    std::string name = "counter";
    char const* argv[] = {"node", script.c_str(), url.c_str(), name.c_str(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    int const rc = ::posix_spawnp(&pid, "node", &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    BOOST_REQUIRE_MESSAGE(rc == 0, "cannot run node (Debian: nodejs)");
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream f(out);
    std::stringstream text;
    text << f.rdbuf();
    BOOST_TEST_MESSAGE(text.str());
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0, text.str());
    BOOST_TEST(c.ask(get_total{}).get() == 10);
    BOOST_TEST(n.stats().decode_errors == 1u);
}
