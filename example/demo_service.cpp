//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The example service `./tools/demo` runs: a pipeline of actors doing real
// work. A source produces batches of log lines, a pool of parser actors
// (under a supervisor, which restarts one that fails) tokenises and
// fingerprints them, an aggregator keeps word counts, and a reporter prints
// one summary line per second. An assistant agent uses a tool bus
// (spindle::tools) four times a second: the calculator works out the words
// per line, the echo tool says it. Meanwhile the service serves its health,
// metrics and a live page over HTTP (spindle::http), the tool bus's tools,
// calls and grants among them. Ctrl-C or SIGTERM stops it cleanly:
// the HTTP server first, then every actor (post_stop runs), and the shutdown
// report is printed.
//
// Options: --workers N (worker threads), --parsers N, --rate N (lines per
// tick, 100 ticks/s), --duration S (stop by itself after S seconds),
// --address A and --port N (HTTP; default 127.0.0.1:8080, port 0 picks a
// free one), --fail-every N (a parser fails on every Nth batch, to show
// supervision at work; default never), --log LEVEL (Spindle's own log on
// stderr: trace, debug, info, warning, error), --summary-timeout MS (how
// long the reporter waits for the aggregator's summary; default 2000) and
// --slow-summary MS (the aggregator takes that long to answer, as on a
// starved machine; default 0), --nats URL (join a NATS server as node
// "demo": a status actor is published as "demo.status", the live page gets
// a Nodes panel and /health a NATS check; see doc/remote.md), --otlp URL
// (send the traces to an OpenTelemetry collector too, e.g.
// http://127.0.0.1:4318; OTEL_EXPORTER_OTLP_ENDPOINT does the same).
//
// Tracing (spindle::trace, doc/tracing.md): GET /api/words-per-line is
// traced end to end. The request's span (HTTP) is the parent of the
// assistant's handler (an actor), which asks the aggregator (another actor)
// and runs the division as an executor task, in which the calculator tool
// is called: four components, one trace. The live page's Traces panel shows
// the last ones as a waterfall; the response's `traceparent` names the trace.

#include <spindle/async_ask.hpp>
#include <spindle/executor.hpp>
#include <spindle/http/system_server.hpp>
#include <spindle/log.hpp>
#include <spindle/remote.hpp>
#include <spindle/signals.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/system.hpp>
#include <spindle/tools.hpp>
#include <spindle/trace.hpp>

#include <boost/describe.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct lines
{
    std::vector<std::string> text;
};
struct word_counts
{
    std::vector<std::pair<std::string, std::uint32_t>> counts;
    std::uint64_t fingerprint;
    std::size_t lines;
};
struct tick
{
};
struct summary
{
    std::uint64_t lines = 0;
    std::uint64_t words = 0;
    std::uint64_t fingerprint = 0;
    std::string top_word;
    std::uint64_t top_count = 0;
};
struct get_summary
{
};

// FNV-1a: a fingerprint of everything parsed, so the work cannot be skipped
std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull)
{
    for(unsigned char c : s)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

class aggregator : public spindle::actor<aggregator, word_counts, get_summary>
{
    std::map<std::string, std::uint64_t> counts_;
    summary s_;
    std::chrono::milliseconds slow_;

public:
    explicit aggregator(std::chrono::milliseconds slow = {}) : slow_(slow) {}

    void on(word_counts&& w)
    {
        s_.lines += w.lines;
        s_.fingerprint ^= w.fingerprint;
        for(auto& [word, n] : w.counts)
        {
            s_.words += n;
            auto& total = counts_[word];
            total += n;
            if(total > s_.top_count)
            {
                s_.top_count = total;
                s_.top_word = word;
            }
        }
    }

    summary on(get_summary)
    {
        if(slow_.count() > 0)
            sleep_for(slow_); // parks this actor only
        return s_;
    }
};

class parser : public spindle::actor<parser, lines>
{
    spindle::actor_ref<aggregator> sink_;
    unsigned fail_every_;
    unsigned batches_ = 0;

public:
    parser(spindle::actor_ref<aggregator> sink, unsigned fail_every)
        : sink_(std::move(sink)), fail_every_(fail_every)
    {
    }

    void on(lines&& batch)
    {
        // a restart starts the count again: fail_every batches per incarnation
        if(fail_every_ != 0 && ++batches_ == fail_every_)
            throw std::runtime_error("malformed batch (simulated)");
        std::map<std::string, std::uint32_t> local;
        std::uint64_t fp = 0;
        for(auto const& line : batch.text)
        {
            fp ^= fnv1a(line);
            std::size_t i = 0;
            while(i < line.size())
            {
                while(i < line.size() && line[i] == ' ')
                    ++i;
                std::size_t j = i;
                while(j < line.size() && line[j] != ' ')
                    ++j;
                if(j > i)
                    ++local[line.substr(i, j - i)];
                i = j;
            }
        }
        sink_.tell(word_counts{{local.begin(), local.end()}, fp, batch.text.size()});
    }
};

class source : public spindle::actor<source, tick>
{
    std::vector<spindle::actor_ref<parser>> parsers_;
    std::size_t per_tick_;
    std::size_t next_ = 0;
    std::uint64_t rng_ = 0x9e3779b97f4a7c15ull;

    std::uint64_t rand()
    {
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        return rng_;
    }

public:
    source(std::vector<spindle::actor_ref<parser>> parsers, std::size_t per_tick)
        : parsers_(std::move(parsers)), per_tick_(per_tick)
    {
    }

    void on(tick)
    {
        static constexpr std::string_view words[] = {
            "actor", "fiber", "mailbox", "spindle", "boost", "message", "worker", "steal",
            "ask", "tell", "timer", "supervisor", "stream", "metric", "health", "queue"};
        // one batch per parser, so every parser has work each tick
        std::size_t const per_batch = per_tick_ / parsers_.size() + 1;
        for(auto& p : parsers_)
        {
            lines batch;
            batch.text.reserve(per_batch);
            for(std::size_t l = 0; l < per_batch; ++l)
            {
                std::string line;
                for(int w = 0; w < 8; ++w)
                {
                    line += words[rand() % std::size(words)];
                    line += ' ';
                }
                batch.text.push_back(std::move(line));
            }
            p.tell(std::move(batch));
        }
        ++next_;
    }
};

struct assist
{
};
// GET /api/words-per-line: the assistant works it out on request
struct explain
{
};
struct explanation
{
    std::string expression;
    double words_per_line = 0;
    std::string error; // empty on success
};

// An agent, as a language model's tool calls would drive one: it asks the
// aggregator for the summary, has the calculator divide, and says the
// answer with the echo tool. Every tenth time it asks for something the
// calculator refuses (the square root of a negative number), so the tool
// panel of the live page has errors to show, as a real agent's would.
class assistant : public spindle::actor<assistant, assist, explain>
{
    spindle::tools::tool_bus* bus_;
    spindle::tools::agent_credential me_; // issued by the bus: the agent's authority
    spindle::actor_ref<aggregator> agg_;
    spindle::executor* work_;
    unsigned turns_ = 0;

public:
    assistant(spindle::tools::tool_bus* bus, spindle::tools::agent_credential me, spindle::actor_ref<aggregator> agg,
              spindle::executor* work)
        : bus_(bus), me_(std::move(me)), agg_(std::move(agg)), work_(work)
    {
    }

    // One traced request's work: ask the aggregator, then divide in a task
    // that calls the calculator. Each step is a child span of the one
    // before (the ask, the task, the tool call carry the current span);
    // waiting for the reply and the task parks only this actor.
    explanation on(explain)
    {
        explanation out;
        boost::system::error_code ec;
        auto const s = agg_.ask(get_summary{}, 2s).get(ec);
        if(ec)
        {
            out.error = "no summary: " + ec.message();
            return out;
        }
        if(s.lines == 0)
        {
            out.error = "no lines parsed yet";
            return out;
        }
        out.expression = std::to_string(s.words) + " / " + std::to_string(s.lines);
        auto task = work_->submit(
            [bus = bus_, me = me_, expr = out.expression] {
                return bus->try_call(me, "calculator", {{"expression", expr}});
            },
            {}, ec);
        if(ec)
        {
            out.error = "task refused: " + ec.message();
            return out;
        }
        auto const& r = task.result(); // parks this actor until the task is done
        if(!r)
            out.error = "task failed: " + r.error().message();
        else if(!*r)
            out.error = r->message;
        else
            out.words_per_line = r->value.at("result").to_number<double>();
        return out;
    }

    void on(assist)
    {
        boost::system::error_code ec;
        auto const s = agg_.ask(get_summary{}, 1s).get(ec);
        if(ec || s.lines == 0)
            return;
        std::string const expr = ++turns_ % 10 == 0 ? "sqrt(-" + std::to_string(s.words) + ")"
                                                     : std::to_string(s.words) + " / " + std::to_string(s.lines);
        // try_call: a refused call is an answer to handle, not a failure of the agent
        auto r = bus_->try_call(me_, "calculator", {{"expression", expr}});
        if(!r)
            return;
        bus_->try_call(me_, "echo", {{"message", "words per line: " + std::to_string(r.value.at("result").to_number<double>())}});
    }
};

spindle::spawn_options named(std::string name)
{
    spindle::spawn_options o;
    o.name = std::move(name);
    return o;
}

// The demo's root sampler: an HTTP request to one of the application's own
// routes starts a sampled trace; the operational endpoints (probes, metrics,
// the live page and its polling), requests no route matched and the
// pipeline's own messages do not. Under parent_based, a span with a parent
// follows the parent's decision instead.
class requests_sampler final : public spindle::trace::sampler
{
public:
    spindle::trace::sampling_decision should_sample(spindle::trace::span_context const*,
        spindle::trace::trace_id const&, std::string_view name, spindle::trace::span_kind kind) const noexcept override
    {
        using spindle::trace::sampling_decision;
        if(kind != spindle::trace::span_kind::server)
            return sampling_decision::drop;
        auto const space = name.find(' '); // "GET /route"; just "GET" when no route matched
        if(space == std::string_view::npos)
            return sampling_decision::drop;
        auto const path = name.substr(space + 1);
        for(std::string_view op : {"/", "/api/system", "/health", "/livez", "/readyz", "/metrics"})
            if(path == op)
                return sampling_decision::drop;
        if(path.starts_with("/static/"))
            return sampling_decision::drop;
        return sampling_decision::record_and_sample;
    }

    std::string description() const override { return "DemoRequests"; }
};

} // namespace

/// What the demo answers over NATS (--nats): a one-line status. Its wire
/// traits are declared at namespace scope, so the type is not in the
/// anonymous namespace.
struct status_q
{
};
BOOST_DESCRIBE_STRUCT(status_q, (), ())
SPINDLE_REMOTE_MESSAGE(status_q, "demo.status", 1);

namespace {

class status_actor : public spindle::actor<status_actor, status_q>
{
    spindle::actor_ref<aggregator> agg_;

public:
    explicit status_actor(spindle::actor_ref<aggregator> a) : agg_(std::move(a)) {}

    std::string on(status_q)
    {
        boost::system::error_code ec;
        auto const s = agg_.ask(get_summary{}, std::chrono::seconds(1)).get(ec); // parks only this actor
        if(ec)
            return "busy: " + ec.message();
        return "lines=" + std::to_string(s.lines) + " words=" + std::to_string(s.words) + " top=" + s.top_word;
    }
};

unsigned arg(int argc, char** argv, std::string_view name, unsigned def)
{
    for(int i = 1; i + 1 < argc; ++i)
        if(argv[i] == name)
            return static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    return def;
}

std::string text_arg(int argc, char** argv, std::string_view name, std::string def)
{
    for(int i = 1; i + 1 < argc; ++i)
        if(argv[i] == name)
            return argv[i + 1];
    return def;
}

} // namespace

int main(int argc, char** argv)
{
    for(int i = 1; i < argc; ++i)
    {
        std::string_view a = argv[i];
        if(a == "--help" || a == "-h")
        {
            std::cout << "usage: demo_service [--workers N] [--parsers N] [--rate LINES_PER_TICK] "
                         "[--duration SECONDS] [--address A] [--port N] [--fail-every N] [--log LEVEL] "
                         "[--summary-timeout MS] [--slow-summary MS] [--nats URL] [--otlp URL]\n";
            return 0;
        }
    }
    unsigned const workers = arg(argc, argv, "--workers", 0);
    unsigned const nparsers = std::max(1u, arg(argc, argv, "--parsers", 4));
    unsigned const rate = std::max(1u, arg(argc, argv, "--rate", 200));
    unsigned const duration = arg(argc, argv, "--duration", 0);
    unsigned const port = arg(argc, argv, "--port", 8080);
    unsigned const fail_every = arg(argc, argv, "--fail-every", 0);
    auto const summary_timeout = std::chrono::milliseconds(std::max(1u, arg(argc, argv, "--summary-timeout", 2000)));
    auto const slow_summary = std::chrono::milliseconds(arg(argc, argv, "--slow-summary", 0));
    std::string const address = text_arg(argc, argv, "--address", "127.0.0.1");
    std::string const log_level = text_arg(argc, argv, "--log", "");
    std::string const nats_url = text_arg(argc, argv, "--nats", "");
    if(port > 65535)
    {
        std::cerr << "demo_service: --port " << port << " is not a port\n";
        return 2;
    }
    if(!log_level.empty())
    {
        static constexpr std::pair<std::string_view, spindle::log::severity> levels[] = {
            {"trace", spindle::log::severity::trace}, {"debug", spindle::log::severity::debug},
            {"info", spindle::log::severity::info}, {"warning", spindle::log::severity::warning},
            {"error", spindle::log::severity::error}};
        auto const it = std::find_if(std::begin(levels), std::end(levels),
                                     [&](auto const& l) { return l.first == log_level; });
        if(it == std::end(levels))
        {
            std::cerr << "demo_service: --log " << log_level << ": expected trace, debug, info, warning or error\n";
            return 2;
        }
        spindle::log::init_console(it->second);
    }

    spindle::system_options opts;
    opts.worker_threads = workers;
    opts.name = "demo";
    opts.shutdown_deadline = 5s;
    // Tracing: every span goes to the Traces panel's memory (and to an
    // OTLP collector with --otlp). The sampler keeps the requests a user
    // makes: a root span of an HTTP request to a route of the application
    // (not /health, /metrics, the live page polling /api/system...), and
    // everything under it; the pipeline's own messages are not sampled.
    std::string otlp = text_arg(argc, argv, "--otlp", "");
    if(otlp.empty())
        if(char const* env = std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
            otlp = env;
    spindle::trace::recent_traces_options recent_opts;
    if(!otlp.empty())
    {
        spindle::trace::otlp_http_options o;
        o.url = otlp + "/v1/traces";
        try
        {
            recent_opts.next = std::make_shared<spindle::trace::otlp_http_exporter>(o);
        }
        catch(std::exception const& e)
        {
            std::cerr << "demo_service: --otlp " << otlp << ": " << e.what() << "\n";
            return 2;
        }
    }
    auto recent = std::make_shared<spindle::trace::recent_traces>(recent_opts);
    spindle::trace::tracing_options trace_opts;
    trace_opts.service_name = "spindle-demo";
    trace_opts.service_version = "0.1.0";
    trace_opts.exporter = recent;
    trace_opts.sampler = spindle::trace::parent_based(std::make_shared<requests_sampler>());
    trace_opts.batch.schedule_delay = 500ms; // the panel fills in within a second
    spindle::trace::tracing tracing(trace_opts);

    spindle::system sys(opts);

    auto agg = sys.spawn_with<aggregator>(named("aggregator"), slow_summary);
    // the parsers under a supervisor: one that fails is restarted (same id,
    // its queued batches kept), the others go on
    spindle::supervisor_spec spec;
    spec.intensity.max_restarts = 1000; // a flaky parser is expected here, not a reason to give up
    for(unsigned i = 0; i < nparsers; ++i)
        spec.children.push_back(spindle::child_spec::of<parser>(agg, fail_every).named("parser-" + std::to_string(i)));
    spindle::supervisor_ref pool(sys.spawn_with<spindle::supervisor>(named("parsers"), spec));
    std::vector<spindle::actor_ref<parser>> parsers;
    for(unsigned i = 0; i < nparsers; ++i)
        parsers.push_back(pool.child<parser>(i));
    auto src = sys.spawn_with<source>(named("source"), parsers, std::size_t{rate});
    auto ticks = sys.send_periodically(src, 10ms, tick{});

    // the tool bus and its agent (destroyed before the system, as it must be)
    spindle::tools::tool_bus_options bus_opts;
    bus_opts.name = "assistant";
    bus_opts.max_concurrent = 1; // one agent making one call at a time: one lane (actor) runs them
    spindle::tools::tool_bus bus(sys, bus_opts);
    bus.register_tool(spindle::tools::make_calculator_tool());
    bus.register_tool(spindle::tools::make_echo_tool());
    auto const helper_credential = bus.add_agent("assistant");
    spindle::executor_options work_opts;
    work_opts.name = "assistant";
    spindle::executor work(sys, work_opts);
    auto helper = sys.spawn_with<assistant>(named("assistant"), &bus, helper_credential, agg, &work);
    bus.grant(helper_credential, "calculator");
    bus.grant(helper_credential, "echo");
    auto assists = sys.send_periodically(helper, 250ms, assist{});

    // health, metrics, /api/system and the live page, on their own thread
    spindle::http::system_server_options web_opts;
    web_opts.server.address = address;
    web_opts.server.port = static_cast<std::uint16_t>(port);
    web_opts.server.shutdown_deadline = 1s;
    web_opts.health.check_interval = 5s;
    web_opts.health.check_deadline = 2s;
    web_opts.health.description = "Spindle demo: a word-count pipeline";
    web_opts.health.version = "1";
    web_opts.health.release_id = "0.1.0";
    spindle::http::system_server web(sys, web_opts);
    web.add_section("tools", [&bus] { return spindle::tools::describe(bus); });
    web.add_section("traces", [recent] { return recent->to_json(); });
    // the traced request: the reply comes back through async_ask, so the I/O
    // thread never waits for the actor
    web.http().route_async("/api/words-per-line", {spindle::http::verb::get},
        [helper](spindle::http::request const&, spindle::http::responder r) {
            spindle::async_ask(helper, explain{}, 5s,
                [r = std::move(r)](boost::system::error_code ec, explanation e) mutable {
                    boost::json::object body;
                    if(ec)
                        body["error"] = ec.message();
                    else if(!e.error.empty())
                        body["error"] = e.error;
                    else
                    {
                        body["expression"] = e.expression;
                        body["words_per_line"] = e.words_per_line;
                    }
                    bool const failed = body.contains("error");
                    spindle::http::response res{
                        failed ? spindle::http::status::service_unavailable : spindle::http::status::ok, 11};
                    res.set(boost::beast::http::field::content_type, "application/json");
                    res.body() = boost::json::serialize(body) + "\n";
                    r.send(std::move(res));
                });
        });

    // --nats: this system becomes a node of a cluster; any NATS client may
    // ask its status actor (doc/remote.md has the wire format)
    std::optional<spindle::remote::node> node;
    if(!nats_url.empty())
    {
        boost::system::error_code ec;
        node.emplace(sys, spindle::remote::node_options{.name = "demo", .servers = {nats_url}}, ec);
        if(ec)
        {
            std::cerr << "demo_service: cannot join NATS at " << nats_url << ": " << ec.message() << "\n";
            node.reset();
        }
        else
        {
            node->publish("demo.status", sys.spawn<status_actor>(agg), ec);
            web.add_section("nodes", [&node] { return node->describe(); });
            web.health().add_check("nats:connection", [&node](std::stop_token) {
                auto const s = node->stats();
                return s.connected ? spindle::http::check_result::pass(boost::json::value(s.peers), "peers")
                                   : spindle::http::check_result::fail("NATS connection " + s.connection);
            });
            std::cout << "joined NATS at " << nats_url << " as node demo (" << node->id() << ")" << std::endl;
        }
    }
    boost::system::error_code web_ec;
    web.start(web_ec);
    if(web_ec)
    {
        std::cerr << "demo_service: cannot serve HTTP on " << address << ":" << port << ": " << web_ec.message()
                  << " (choose another with --port)\n";
        sys.timers().cancel(ticks);
        sys.timers().cancel(assists);
        bus.shutdown();
        sys.shutdown(5s);
        return 1;
    }

    // SIGINT or SIGTERM (or the end of --duration): stop serving HTTP, stop
    // the timers and the tool bus, then shut the actors down in order.
    // shutdown_on_signals works whatever threads exist already (Boost.Log's
    // writer with --log, the HTTP server's, the workers), whatever their
    // signal masks: no pthread_sigmask/sigwait dance here.
    spindle::shutdown_on_signals on_signal(sys, [&](int) {
        web.stop(); // stop serving before the actors go
        sys.timers().cancel(ticks);
        sys.timers().cancel(assists);
        bus.shutdown(); // calls in progress finish; later ones fail with bus_stopped
        if(node)
            node->close(); // peers are told at once
    });

    std::cout << "spindle demo: " << sys.options().worker_threads << " workers, " << nparsers
              << " parsers; Ctrl-C stops" << std::endl;
    std::cout << "serving http://" << address << ":" << web.port()
              << "/ (live page), /health, /livez, /readyz, /metrics, /api/system, /api/words-per-line (traced)"
              << std::endl;
    auto const start = std::chrono::steady_clock::now();
    std::uint64_t last_lines = 0;
    auto last_stats = sys.stats();
    for(unsigned second = 1; !on_signal.wait_for(1s); ++second)
    {
        // An ask can time out: on a starved machine the aggregator may not
        // answer within the timeout. That is an answer to handle (here: say
        // so and ask again next second), not a reason to abort.
        boost::system::error_code ec;
        auto const s = agg.ask(get_summary{}, summary_timeout).get(ec);
        if(on_signal.received() != 0)
            break; // stopping: the aggregator may be gone already
        auto const st = sys.stats();
        if(ec)
        {
            std::cout << "t=" << second << "s no summary: " << ec.message() << " (waited "
                      << summary_timeout.count() << " ms); msgs/s=" << (st.messages - last_stats.messages)
                      << std::endl;
        }
        else
        {
            std::cout << "t=" << second << "s lines/s=" << (s.lines - last_lines)
                      << " msgs/s=" << (st.messages - last_stats.messages) << " actors=" << st.actors
                      << " fibers=" << st.fibers << " words=" << s.words << " top=" << s.top_word << ":"
                      << s.top_count << " fingerprint=" << std::hex << s.fingerprint << std::dec
                      << " dead_letters=" << st.dead_letters << std::endl;
            last_lines = s.lines;
        }
        last_stats = st;
        if(duration && std::chrono::steady_clock::now() - start >= std::chrono::seconds(duration))
        {
            on_signal.trigger(SIGTERM); // the same orderly stop as a signal
            break;
        }
    }
    auto const rep = on_signal.wait();
    std::cout << "stopped " << rep.stopped << " actors"
              << (rep.clean() ? ", clean shutdown" : ", some actors missed the deadline") << std::endl;
    return rep.clean() ? 0 : 1;
}
