//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Health checks as operators rely on them: results in the IETF shape, a
// failing check turns the overall status to fail, checks run on their
// interval and are failed at their deadline, and the built-in checks see
// restarts and open breakers. Time runs on a manual clock.

#include <spindle/http/health.hpp>

#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <spindle/circuit_breaker.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/system.hpp>

#include <boost/json/parse.hpp>

#include <atomic>
#include <future>
#include <limits>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace http = spindle::http;
using spindle::health_status;
using spindle_test::eventually;

namespace {

struct fixture
{
    std::shared_ptr<spindle::manual_clock> clock = std::make_shared<spindle::manual_clock>();
    spindle::system sys;

    static spindle::system_options options(std::shared_ptr<spindle::manual_clock> c)
    {
        spindle::system_options o;
        o.worker_threads = 2;
        o.clock = std::move(c);
        o.name = "health-test";
        return o;
    }

    fixture() : sys(options(clock)) {}
};

http::check_entry const* find(http::health_report const& r, std::string const& name)
{
    for(auto const& e : r.checks)
        if(e.name == name)
            return &e;
    return nullptr;
}

// The latest result of one entry, once it has one of its own.
health_status status_of(http::health_monitor const& m, std::string const& name)
{
    auto const r = m.report();
    auto const* e = find(r, name);
    BOOST_REQUIRE_MESSAGE(e, "no entry " << name);
    return e->result.status;
}

bool has_run(http::health_monitor const& m, std::string const& name)
{
    auto const r = m.report();
    auto const* e = find(r, name);
    return e && e->time != std::chrono::system_clock::time_point{};
}

http::check_options every(std::chrono::nanoseconds interval, std::chrono::nanoseconds deadline = {})
{
    http::check_options o;
    o.interval = interval;
    o.deadline = deadline;
    return o;
}

struct boom
{
};

struct fragile : spindle::actor<fragile, boom>
{
    void on(boom) { throw std::runtime_error("fragile broke"); }
};

struct note
{
};

struct quiet : spindle::actor<quiet, note>
{
    void on(note) {}
};

struct stall
{
    std::shared_future<void> until;
};

// Blocks its worker thread (not only its fiber) until told: a stalled worker.
struct staller : spindle::actor<staller, stall>
{
    void on(stall s) { s.until.wait(); }
};

// `n` dead letters: messages to an actor that has stopped.
void dead_letters(spindle::system& sys, int n)
{
    auto a = sys.spawn<quiet>();
    a.stop();
    auto const before = sys.stats().dead_letters;
    BOOST_REQUIRE(eventually([&] {
        a.tell(note{});
        return sys.stats().dead_letters > before;
    }));
    auto const first = sys.stats().dead_letters;
    for(int i = 0; i < n; ++i)
        a.tell(note{});
    BOOST_REQUIRE(eventually([&] { return sys.stats().dead_letters >= first + static_cast<unsigned>(n); }));
}

} // namespace

BOOST_FIXTURE_TEST_CASE(builtin_checks_in_the_ietf_shape, fixture)
{
    http::health_options o;
    o.description = "a test service";
    o.version = "1";
    o.release_id = "0.1.0";
    http::health_monitor m(sys, o);
    BOOST_TEST(eventually([&] { return m.report().complete; }));
    BOOST_TEST(m.ready());
    BOOST_TEST(m.live());
    BOOST_TEST(m.status() == health_status::pass);

    auto const doc = boost::json::parse(*m.document()).as_object();
    BOOST_TEST(doc.at("status").as_string() == "pass");
    BOOST_TEST(doc.at("serviceId").as_string() == "health-test");
    BOOST_TEST(doc.at("description").as_string() == "a test service");
    BOOST_TEST(doc.at("version").as_string() == "1");
    BOOST_TEST(doc.at("releaseId").as_string() == "0.1.0");
    BOOST_TEST(!doc.contains("output"));
    auto const& checks = doc.at("checks").as_object();
    for(char const* key : {"actor_system:responsiveness", "actor_system:mailbox_depth", "actor_system:dead_letters",
                           "supervisors:restarts", "executor:tasks", "executor:circuit_breakers",
                           "system:tasks_running", "system:actors_active", "system:streams_active",
                           "system:memory", "system:cpu"})
    {
        BOOST_TEST_CONTEXT(key)
        {
            BOOST_REQUIRE(checks.contains(key));
            auto const& e = checks.at(key).as_array().at(0).as_object();
            BOOST_TEST(e.at("status").as_string() == "pass");
            BOOST_TEST(e.contains("observedValue"));
            BOOST_TEST(e.contains("observedUnit"));
            BOOST_TEST(e.contains("componentType"));
            BOOST_TEST(e.at("time").as_string().size() == 24u); // 2026-01-02T03:04:05.678Z
        }
    }
    BOOST_TEST(checks.at("actor_system:responsiveness").as_array().at(0).at("observedUnit").as_string() == "ms");
    // the probe actor is one of them
    BOOST_TEST(checks.at("system:actors_active").as_array().at(0).at("observedValue").to_number<int>() >= 1);
    BOOST_TEST(checks.at("system:memory").as_array().at(0).at("observedValue").to_number<double>() > 0);
    // counts are JSON integers, not 0E0
    for(char const* key : {"actor_system:mailbox_depth", "actor_system:dead_letters", "supervisors:restarts",
                           "executor:tasks", "executor:circuit_breakers", "system:tasks_running",
                           "system:actors_active", "system:streams_active"})
    {
        BOOST_TEST_CONTEXT(key)
        {
            auto const& v = checks.at(key).as_array().at(0).at("observedValue");
            BOOST_TEST((v.is_uint64() || v.is_int64()));
        }
    }
}

BOOST_FIXTURE_TEST_CASE(a_failing_check_fails_the_whole, fixture)
{
    http::health_monitor m(sys);
    std::atomic<bool> healthy{true};
    m.add_check("database:ping", [&](std::stop_token) {
        return healthy ? http::check_result::pass(3, "ms") : http::check_result::fail("connection refused");
    }, [] {
        auto o = every(10s);
        o.component_type = "datastore";
        o.component_id = "db-1";
        return o;
    }());
    BOOST_TEST(eventually([&] { return m.report().complete; }));
    BOOST_TEST(m.status() == health_status::pass);

    healthy = false;
    clock->advance(10s);
    BOOST_TEST(eventually([&] { return m.status() == health_status::fail; }));
    BOOST_TEST(!m.ready());
    BOOST_TEST(m.live()); // a dependency down is not a reason to restart the process
    auto const doc = boost::json::parse(*m.document()).as_object();
    BOOST_TEST(doc.at("status").as_string() == "fail");
    BOOST_TEST(doc.at("output").as_string() == "database:ping: connection refused");
    auto const& e = doc.at("checks").at("database:ping").as_array().at(0).as_object();
    BOOST_TEST(e.at("status").as_string() == "fail");
    BOOST_TEST(e.at("output").as_string() == "connection refused");
    BOOST_TEST(e.at("componentType").as_string() == "datastore");
    BOOST_TEST(e.at("componentId").as_string() == "db-1");

    healthy = true;
    clock->advance(10s);
    BOOST_TEST(eventually([&] { return m.status() == health_status::pass; }));
    BOOST_TEST(m.ready());
}

BOOST_FIXTURE_TEST_CASE(checks_run_on_their_interval, fixture)
{
    http::health_options o;
    o.builtin_checks = false;
    http::health_monitor m(sys, o);
    std::atomic<int> runs{0};
    m.add_check("counter", [&](std::stop_token) { return http::check_result::pass(++runs); }, every(5s));
    BOOST_TEST(eventually([&] { return runs == 1; }));
    clock->advance(4s);
    BOOST_TEST(m.report().checks.size() == 1u);
    clock->advance(1s);
    BOOST_TEST(eventually([&] { return runs == 2; }));
    clock->advance(5s);
    BOOST_TEST(eventually([&] { return runs == 3; }));
    BOOST_TEST(eventually([&] {
        return m.report().checks.at(0).result.observed_value == boost::json::value(3);
    }));
    BOOST_TEST(m.remove_check("counter"));
    BOOST_TEST(!m.remove_check("counter"));
    BOOST_TEST(m.report().checks.empty());
    clock->advance(5s);
    BOOST_TEST(runs == 3);
}

BOOST_FIXTURE_TEST_CASE(a_check_past_its_deadline_fails_and_is_asked_to_stop, fixture)
{
    http::health_options o;
    o.builtin_checks = false;
    http::health_monitor m(sys, o);
    std::promise<void> release;
    auto released = release.get_future().share();
    std::atomic<int> runs{0};
    std::atomic<bool> saw_stop{false};
    m.add_check("slow", [&, released](std::stop_token st) {
        if(++runs == 1)
        {
            released.wait();
            saw_stop = st.stop_requested();
        }
        return http::check_result::pass();
    }, every(30s, 2s));
    BOOST_TEST(eventually([&] { return runs == 1; }));
    BOOST_TEST(status_of(m, "slow") == health_status::warn); // not run yet
    clock->advance(2s);
    BOOST_TEST(status_of(m, "slow") == health_status::fail); // at the deadline, at once
    BOOST_TEST(m.report().checks.at(0).result.output == "did not finish within 2 s");
    // the next period does not start it again while it still runs
    clock->advance(30s);
    BOOST_TEST(runs == 1);
    BOOST_TEST(status_of(m, "slow") == health_status::fail);
    // when it returns, its late result is not taken; having missed a period,
    // it runs again at once
    release.set_value();
    BOOST_TEST(eventually([&] { return status_of(m, "slow") == health_status::pass; }));
    BOOST_TEST(saw_stop.load());
    BOOST_TEST(runs == 2);
}

BOOST_FIXTURE_TEST_CASE(a_check_that_throws_fails, fixture)
{
    http::health_options o;
    o.builtin_checks = false;
    http::health_monitor m(sys, o);
    m.add_check("thrower", [](std::stop_token) -> http::check_result { throw std::runtime_error("kaput"); });
    m.add_check("degraded", [](std::stop_token) { return http::check_result::warn("slow disk"); });
    BOOST_TEST(eventually([&] { return has_run(m, "thrower") && has_run(m, "degraded"); }));
    auto const r = m.report();
    BOOST_TEST(find(r, "thrower")->result.output == "the check threw: kaput");
    BOOST_TEST(r.status == health_status::fail);
    BOOST_TEST(m.remove_check("thrower"));
    BOOST_TEST(m.status() == health_status::warn);
    BOOST_TEST(m.ready()); // warn is still ready
}

BOOST_FIXTURE_TEST_CASE(bad_registrations, fixture)
{
    http::health_monitor m(sys);
    auto ok = [](std::stop_token) { return http::check_result::pass(); };
    boost::system::error_code ec;
    m.add_check("", ok, {}, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    m.add_check("bad\nname", ok, {}, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    m.add_check("x", nullptr, {}, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    m.add_check("x", ok, every(-1s), ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    m.add_check("system:memory", ok, {}, ec); // a built-in key
    BOOST_TEST(ec == spindle_test::code(spindle::error::invalid_argument));
    m.add_check("x", ok, {}, ec);
    BOOST_TEST(!ec);
    BOOST_CHECK_THROW(m.add_check("x", ok), spindle::system_error);
    m.stop();
    m.add_check("y", ok, {}, ec);
    BOOST_TEST(ec == spindle_test::code(spindle::error::system_stopped));
    http::health_options bad;
    bad.check_interval = 0s;
    BOOST_CHECK_THROW(http::health_monitor(sys, bad), spindle::system_error);
}

BOOST_FIXTURE_TEST_CASE(restarts_and_open_breakers_warn, fixture)
{
    http::health_monitor m(sys);
    BOOST_TEST(eventually([&] { return m.report().complete; }));
    BOOST_TEST(m.status() == health_status::pass);

    auto a = sys.spawn<fragile>();
    a.tell(boom{});
    BOOST_TEST(eventually([&] { return sys.stats().restarts == 1u; }));
    spindle::circuit_breaker_options bo;
    bo.name = "payments";
    bo.failure_threshold = 1;
    spindle::circuit_breaker breaker(sys, bo);
    boost::system::error_code ec;
    breaker.try_acquire(ec).failure();
    BOOST_TEST(breaker.state() == spindle::circuit_state::open);

    clock->advance(spindle::defaults::health_check_interval);
    BOOST_TEST(eventually([&] {
        auto const r = m.report();
        return find(r, "supervisors:restarts")->result.status == health_status::warn &&
               find(r, "executor:circuit_breakers")->result.status == health_status::warn;
    }));
    auto const r = m.report();
    BOOST_TEST(find(r, "supervisors:restarts")->result.observed_value == boost::json::value(1));
    BOOST_TEST(find(r, "executor:circuit_breakers")->result.output == "payments open");
    BOOST_TEST(r.status == health_status::warn);

    // the next period without news passes again
    breaker.reset();
    clock->advance(spindle::defaults::health_check_interval);
    BOOST_TEST(eventually([&] {
        auto const r2 = m.report();
        return find(r2, "supervisors:restarts")->result.status == health_status::pass &&
               find(r2, "executor:circuit_breakers")->result.status == health_status::pass;
    }));
}

BOOST_FIXTURE_TEST_CASE(a_stopping_system_is_not_live, fixture)
{
    http::health_monitor m(sys);
    BOOST_TEST(eventually([&] { return m.report().complete; }));
    BOOST_TEST(m.live());
    sys.shutdown(5s);
    BOOST_TEST(!m.live());
    BOOST_TEST(!m.ready());
    BOOST_TEST(m.status() == health_status::fail);
    auto const doc = boost::json::parse(*m.document()).as_object();
    BOOST_TEST(doc.at("status").as_string() == "fail");
    BOOST_TEST(doc.at("checks").at("actor_system:responsiveness").as_array().at(0).at("status").as_string() == "fail");
}

// Issue 18: a flood of dead letters turns /health to warn (more than 60 a
// minute by default), and the next quiet period passes again.
BOOST_FIXTURE_TEST_CASE(a_flood_of_dead_letters_warns, fixture)
{
    http::health_monitor m(sys);
    BOOST_TEST(eventually([&] { return m.report().complete; }));
    BOOST_TEST(status_of(m, "actor_system:dead_letters") == health_status::pass);
    dead_letters(sys, 100); // over the 30 s interval: 200 a minute and more
    clock->advance(spindle::defaults::health_check_interval);
    BOOST_TEST(eventually([&] { return status_of(m, "actor_system:dead_letters") == health_status::warn; }));
    auto const r = m.report();
    auto const* e = find(r, "actor_system:dead_letters");
    BOOST_TEST(e->result.observed_value.is_uint64()); // a count, as an integer
    BOOST_TEST(e->result.observed_value.to_number<std::uint64_t>() >= 100u);
    BOOST_TEST(e->result.output.find("a minute") != std::string::npos);
    BOOST_TEST(e->result.output.find("warns above 60") != std::string::npos);
    BOOST_TEST(m.status() == health_status::warn);
    BOOST_TEST(m.ready()); // warn is still ready
    auto const doc = boost::json::parse(*m.document()).as_object();
    BOOST_TEST(doc.at("status").as_string() == "warn");

    clock->advance(spindle::defaults::health_check_interval);
    BOOST_TEST(eventually([&] { return status_of(m, "actor_system:dead_letters") == health_status::pass; }));
}

// The levels are the application's: past the fail level the check fails,
// and the service is not ready.
BOOST_FIXTURE_TEST_CASE(thresholds_are_settable, fixture)
{
    http::health_options o;
    o.thresholds.dead_letters_per_minute = {10, 100};
    o.thresholds.memory_mib = {0.5, std::numeric_limits<double>::infinity()}; // any process is above
    http::health_monitor m(sys, o);
    BOOST_TEST(eventually([&] { return m.report().complete; }));
    BOOST_TEST(status_of(m, "system:memory") == health_status::warn);
    dead_letters(sys, 100);
    clock->advance(spindle::defaults::health_check_interval);
    BOOST_TEST(eventually([&] { return status_of(m, "actor_system:dead_letters") == health_status::fail; }));
    BOOST_TEST(m.status() == health_status::fail);
    BOOST_TEST(!m.ready());
    BOOST_TEST(m.live()); // failing, but the workers answer
    auto const r = m.report();
    BOOST_TEST(find(r, "actor_system:dead_letters")->result.output.find("fails above 100") != std::string::npos);
}

// A stalled worker: the probe actor does not answer within the deadline,
// /health fails and /livez says so; once the worker runs again, it passes.
BOOST_AUTO_TEST_CASE(a_stalled_worker_fails)
{
    auto clock = std::make_shared<spindle::manual_clock>();
    spindle::system_options so;
    so.worker_threads = 1;
    so.clock = clock;
    spindle::system sys(so);
    http::health_monitor m(sys);
    BOOST_TEST(eventually([&] { return m.report().complete; }));
    BOOST_TEST(status_of(m, "actor_system:responsiveness") == health_status::pass);

    std::promise<void> release;
    auto s = sys.spawn<staller>();
    s.tell(stall{release.get_future().share()});
    // each step lets a check start or its probe's ask time out, on the test's clock
    BOOST_TEST(eventually([&] {
        clock->advance(1s);
        return status_of(m, "actor_system:responsiveness") == health_status::fail;
    }));
    BOOST_TEST(m.status() == health_status::fail);
    BOOST_TEST(!m.live());
    BOOST_TEST(!m.ready());

    release.set_value();
    BOOST_TEST(eventually([&] {
        clock->advance(1s);
        return status_of(m, "actor_system:responsiveness") == health_status::pass;
    }));
    BOOST_TEST(m.live());
    m.stop();
}
