//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/log.hpp>

#include <boost/test/unit_test.hpp>

#include <spindle/error.hpp>

#include <boost/fiber/all.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core/core.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sources/logger.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/make_shared.hpp>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace bl = boost::log;
namespace slog = spindle::log;

namespace {

// What an application's own sink sees of a record.
struct captured
{
    std::optional<std::string> channel;
    std::optional<slog::severity> sev;
    std::optional<std::string> component;
    std::optional<std::string> actor;
    std::string message;
};

// An application's own synchronous sink with no filter: it sees every record.
class capture_backend : public bl::sinks::basic_sink_backend<bl::sinks::synchronized_feeding>
{
public:
    void consume(bl::record_view const& rec)
    {
        captured c;
        if(auto v = bl::extract<std::string>(slog::attr::channel, rec))
            c.channel = *v;
        if(auto v = bl::extract<slog::severity>(slog::attr::severity, rec))
            c.sev = *v;
        if(auto v = bl::extract<std::string>(slog::attr::component, rec))
            c.component = *v;
        if(auto v = bl::extract<std::string>(slog::attr::actor_id, rec))
            c.actor = *v;
        if(auto v = bl::extract<std::string>("Message", rec))
            c.message = *v;
        std::lock_guard<std::mutex> lock(mutex_);
        records_.push_back(std::move(c));
    }

    std::vector<captured> records() const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        return records_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<captured> records_;
};

using capture_sink = bl::sinks::synchronous_sink<capture_backend>;

// Installs a capturing sink for the test's duration.
struct user_sink
{
    boost::shared_ptr<capture_backend> backend = boost::make_shared<capture_backend>();
    boost::shared_ptr<capture_sink> sink = boost::make_shared<capture_sink>(backend);

    user_sink()
    {
        bl::core::get()->add_sink(sink);
    }
    ~user_sink()
    {
        bl::core::get()->remove_sink(sink);
    }
};

// Every test leaves logging as it found it: no Spindle sink, disabled.
struct clean_state
{
    clean_state()
    {
        slog::shutdown();
    }
    ~clean_state()
    {
        slog::shutdown();
    }
};

std::vector<std::string> lines_of(std::string const& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for(std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

std::string const ts_re = R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)";

struct actor_ref
{
    int n;
    friend std::ostream& operator<<(std::ostream& os, actor_ref const& a)
    {
        return os << "actor#" << a.n;
    }
};

// A stream that writes slowly, so that records are still queued when the
// test asks for them unless flush() really waits for the writer.
class slow_buf : public std::stringbuf
{
protected:
    int sync() override
    {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        return std::stringbuf::sync();
    }
};

struct slow_stream : std::ostream
{
    slow_buf buf;
    slow_stream() : std::ostream(&buf) {}
    std::string str() const
    {
        return buf.str();
    }
};

int throwing_operand()
{
    throw std::runtime_error("operand failed");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(spindle_log, clean_state)

BOOST_AUTO_TEST_CASE(severity_names)
{
    std::ostringstream os;
    os << slog::severity::trace << ' ' << slog::severity::debug << ' ' << slog::severity::info << ' '
       << slog::severity::warning << ' ' << slog::severity::error << ' ' << slog::severity::fatal;
    BOOST_TEST(os.str() == "trace debug info warning error fatal");
}

BOOST_AUTO_TEST_CASE(quiet_by_default_builds_no_record)
{
    BOOST_TEST(!slog::threshold().has_value());
    BOOST_TEST(!slog::is_enabled(slog::severity::fatal));

    user_sink user;
    int evaluated = 0;
    auto touch = [&] {
        ++evaluated;
        return std::string("x");
    };
    SPINDLE_LOG(fatal, touch()) << touch();
    SPINDLE_LOG_ACTOR(error, "runtime", touch()) << touch();
    BOOST_TEST(evaluated == 0);
    BOOST_TEST(user.backend->records().empty());

    // With a threshold, the application's own sink gets Spindle's records.
    slog::set_threshold(slog::severity::warning);
    BOOST_TEST((slog::threshold() == slog::severity::warning));
    SPINDLE_LOG(info, "runtime") << touch();
    BOOST_TEST(evaluated == 0);
    SPINDLE_LOG(warning, "runtime") << "w" << touch();
    BOOST_TEST(evaluated == 1);
    auto recs = user.backend->records();
    BOOST_REQUIRE(recs.size() == 1u);
    BOOST_TEST((recs[0].channel == std::optional<std::string>("spindle")));
    BOOST_TEST((recs[0].sev == slog::severity::warning));
    BOOST_TEST((recs[0].component == std::optional<std::string>("runtime")));
    BOOST_TEST(!recs[0].actor.has_value());
    BOOST_TEST(recs[0].message == "wx");

    slog::disable();
    SPINDLE_LOG(fatal, "runtime") << touch();
    BOOST_TEST(evaluated == 1);
    BOOST_TEST(user.backend->records().size() == 1u);
}

BOOST_AUTO_TEST_CASE(stream_sink_levels_and_format)
{
    auto out = boost::make_shared<std::ostringstream>();
    slog::init_stream(out, slog::severity::info);
    BOOST_TEST((slog::threshold() == slog::severity::info));

    SPINDLE_LOG(trace, "actor") << "t";
    SPINDLE_LOG(debug, "actor") << "d";
    SPINDLE_LOG(info, "actor") << "started " << 3;
    SPINDLE_LOG_ACTOR(warning, "mailbox", "a-17") << "full";
    SPINDLE_LOG_ACTOR(error, "supervisor", actor_ref{5}) << "restart";
    SPINDLE_LOG_ACTOR(fatal, "runtime", 42) << "down";
    slog::flush();

    auto const lines = lines_of(out->str());
    BOOST_REQUIRE(lines.size() == 4u);
    BOOST_TEST(std::regex_match(lines[0], std::regex(ts_re + R"( sev=info component=actor msg="started 3")")),
        lines[0]);
    BOOST_TEST(std::regex_match(lines[1], std::regex(ts_re + R"( sev=warning component=mailbox actor=a-17 msg="full")")),
        lines[1]);
    BOOST_TEST(std::regex_match(lines[2], std::regex(ts_re + R"( sev=error component=supervisor actor=actor#5 msg="restart")")),
        lines[2]);
    BOOST_TEST(std::regex_match(lines[3], std::regex(ts_re + R"( sev=fatal component=runtime actor=42 msg="down")")),
        lines[3]);
}

BOOST_AUTO_TEST_CASE(escaping_keeps_one_line_per_record)
{
    auto out = boost::make_shared<std::ostringstream>();
    slog::init_stream(out, slog::severity::trace);
    SPINDLE_LOG_ACTOR(info, "my comp", "id \"x\"") << "say \"hi\"\\\nnext\tend\x01";
    SPINDLE_LOG(info, "c") << "";
    slog::flush();

    auto const lines = lines_of(out->str());
    BOOST_REQUIRE(lines.size() == 2u);
    auto const& l = lines[0];
    BOOST_TEST(l.find(R"(component="my comp" actor="id \"x\"" msg="say \"hi\"\\\nnext\tend\x01")") != std::string::npos, l);
    BOOST_TEST(l.ends_with(R"(msg="say \"hi\"\\\nnext\tend\x01")"), l);
    BOOST_TEST(lines[1].ends_with(R"(component=c msg="")"), lines[1]);
}

BOOST_AUTO_TEST_CASE(application_logging_is_unaffected)
{
    user_sink user;
    auto out = boost::make_shared<std::ostringstream>();
    slog::init_stream(out, slog::severity::info);

    bl::sources::logger app_logger;
    BOOST_LOG(app_logger) << "application record";
    SPINDLE_LOG_ACTOR(info, "actor", "a1") << "spindle record";
    slog::flush();

    // Spindle's sink takes only Spindle's channel...
    auto const lines = lines_of(out->str());
    BOOST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].find("spindle record") != std::string::npos);
    // ...and the application's sink still gets everything, with the attributes.
    auto const recs = user.backend->records();
    BOOST_REQUIRE(recs.size() == 2u);
    BOOST_TEST(recs[0].message == "application record");
    BOOST_TEST(!recs[0].channel.has_value());
    BOOST_TEST(recs[1].message == "spindle record");
    BOOST_TEST((recs[1].channel == std::optional<std::string>("spindle")));
    BOOST_TEST((recs[1].component == std::optional<std::string>("actor")));
    BOOST_TEST((recs[1].actor == std::optional<std::string>("a1")));
    BOOST_TEST((recs[1].sev == slog::severity::info));
}

BOOST_AUTO_TEST_CASE(throwing_operand_discards_the_record)
{
    auto out = boost::make_shared<std::ostringstream>();
    slog::init_stream(out, slog::severity::info);
    BOOST_CHECK_THROW(SPINDLE_LOG(error, "c") << "before " << throwing_operand(), std::runtime_error);
    SPINDLE_LOG(error, "c") << "after";
    slog::flush();
    auto const lines = lines_of(out->str());
    BOOST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].ends_with(R"(msg="after")"), lines[0]);
}

BOOST_AUTO_TEST_CASE(many_fibers_on_two_threads_lose_nothing)
{
    constexpr int threads = 2;
    constexpr int fibers_per_thread = 20;
    constexpr int records_per_fiber = 200;
    auto out = boost::make_shared<std::ostringstream>();
    slog::init_stream(out, slog::severity::debug);

    std::vector<std::thread> workers;
    for(int t = 0; t < threads; ++t)
    {
        workers.emplace_back([t] {
            std::vector<boost::fibers::fiber> fibers;
            for(int f = 0; f < fibers_per_thread; ++f)
            {
                fibers.emplace_back([t, f] {
                    std::string const actor = std::to_string(t) + "." + std::to_string(f);
                    for(int i = 0; i < records_per_fiber; ++i)
                    {
                        SPINDLE_LOG_ACTOR(debug, "test", actor) << "n=" << i;
                        boost::this_fiber::yield();
                    }
                });
            }
            for(auto& f : fibers)
                f.join();
        });
    }
    for(auto& w : workers)
        w.join();
    slog::flush();

    auto const lines = lines_of(out->str());
    BOOST_TEST(lines.size() == std::size_t(threads * fibers_per_thread * records_per_fiber));
    // Each fiber's records arrive complete and in order.
    std::regex const re(R"re(.* actor=(\d+\.\d+) msg="n=(\d+)")re");
    std::map<std::string, int> next;
    int out_of_order = 0;
    for(auto const& l : lines)
    {
        std::smatch m;
        BOOST_REQUIRE_MESSAGE(std::regex_match(l, m, re), l);
        int const n = std::stoi(m[2]);
        int& expected = next[m[1]];
        if(n != expected)
            ++out_of_order;
        expected = n + 1;
    }
    BOOST_TEST(out_of_order == 0);
    BOOST_TEST(next.size() == std::size_t(threads * fibers_per_thread));
    for(auto const& [actor, n] : next)
        BOOST_TEST(n == records_per_fiber, actor);
}

BOOST_AUTO_TEST_CASE(many_threads_lose_nothing)
{
    constexpr int threads = 4;
    constexpr int records = 2000;
    auto out = boost::make_shared<slow_stream>();
    slog::init_stream(out, slog::severity::info);
    std::vector<std::thread> workers;
    for(int t = 0; t < threads; ++t)
        workers.emplace_back([] {
            for(int i = 0; i < records; ++i)
                SPINDLE_LOG(info, "test") << "i=" << i;
        });
    // Concurrent flushes neither lose records nor hold the loggers up forever.
    for(int i = 0; i < 5; ++i)
        slog::flush();
    for(auto& w : workers)
        w.join();
    slog::flush();
    BOOST_TEST(lines_of(out->str()).size() == std::size_t(threads * records));
}

BOOST_AUTO_TEST_CASE(reinit_replaces_and_shutdown_is_repeatable)
{
    auto first = boost::make_shared<std::ostringstream>();
    auto second = boost::make_shared<std::ostringstream>();
    slog::init_stream(first, slog::severity::info);
    SPINDLE_LOG(info, "c") << "one";
    slog::init_stream(second, slog::severity::warning);
    SPINDLE_LOG(info, "c") << "dropped";
    SPINDLE_LOG(warning, "c") << "two";
    slog::flush();
    BOOST_TEST(lines_of(first->str()).size() == 1u);
    auto lines = lines_of(second->str());
    BOOST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].ends_with(R"(msg="two")"));

    // shutdown writes out what is queued, disables, and may be repeated.
    SPINDLE_LOG(error, "c") << "three";
    slog::shutdown();
    BOOST_TEST(lines_of(second->str()).size() == 2u);
    BOOST_TEST(!slog::threshold().has_value());
    slog::shutdown();
    slog::flush();
    SPINDLE_LOG(fatal, "c") << "nobody";

    auto third = boost::make_shared<std::ostringstream>();
    slog::init_stream(third, slog::severity::debug);
    SPINDLE_LOG(debug, "c") << "four";
    slog::flush();
    BOOST_TEST(lines_of(first->str()).size() == 1u);
    BOOST_TEST(lines_of(second->str()).size() == 2u);
    lines = lines_of(third->str());
    BOOST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].ends_with(R"(msg="four")"));
}

BOOST_AUTO_TEST_CASE(file_sink)
{
    auto const path = std::filesystem::temp_directory_path() /
        ("spindle-log-test-" + std::to_string(::getpid()) + ".log");
    std::filesystem::remove(path);
    slog::init_file(path, slog::severity::info);
    SPINDLE_LOG(info, "file") << "to disk";
    slog::shutdown();
    std::ifstream in(path);
    std::string line;
    BOOST_REQUIRE(std::getline(in, line));
    BOOST_TEST(line.ends_with(R"(component=file msg="to disk")"), line);
    in.close();
    std::filesystem::remove(path);

    // A file that cannot be opened is reported and leaves the current sink in place.
    auto out = boost::make_shared<std::ostringstream>();
    slog::init_stream(out, slog::severity::info);
    boost::system::error_code ec;
    slog::init_file("/nonexistent-spindle-dir/x.log", slog::severity::trace, ec);
    BOOST_TEST(ec == make_error_code(boost::system::errc::no_such_file_or_directory));
    BOOST_CHECK_THROW(slog::init_file("/nonexistent-spindle-dir/x.log"), spindle::system_error);
    BOOST_TEST((slog::threshold() == slog::severity::info));
    SPINDLE_LOG(info, "c") << "still here";
    slog::flush();
    BOOST_TEST(lines_of(out->str()).size() == 1u);
}

BOOST_AUTO_TEST_CASE(null_stream_is_rejected)
{
    try
    {
        slog::init_stream(nullptr);
        BOOST_ERROR("init_stream(nullptr) did not throw");
    }
    catch(spindle::system_error const& e)
    {
        BOOST_TEST(e.code() == make_error_code(spindle::error::invalid_argument));
    }
    BOOST_TEST(!slog::threshold().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
