//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The program behind `tools/load CONFIG.json [--target ...]`: runs a load
// test (spindle::load) and writes its results.
//
//   --target in-process   (default) an example system in this process: an
//                         actor "echo" (ask: the payload back; tell: counted),
//                         the tools "calculator" and "echo" on a tool bus, a
//                         stream "lines" (words counted), and its HTTP
//                         endpoints on a free loopback port (/health,
//                         /api/system, the live page)
//                         (each tool behind a circuit breaker: 5 failures in a
//                         row open it for a second)
//   --target http://HOST:PORT   a running Spindle service: http steps only
//   --target nats://HOST:PORT   remote actors over NATS (spindle::remote's wire
//                         format): ask and tell steps go to the actor published
//                         under `target`, with `type` as its Spindle-Type and
//                         `payload` as the JSON message
//   --out DIR             where results.json and report.html go (default load-results)
//   --chaos RULES.json    in-process: inject faults (spindle::chaos) into the
//                         echo actor's handlers and the tools, with the rules
//                         of RULES.json (the body /api/chaos takes); the
//                         echo actor is supervised, and the results say how
//                         many faults were injected and how many restarts
//                         supervision made
//   --trace DEST          each request a trace (spindle::trace): a root span
//                         "load <scenario>/<step>" whose context the HTTP
//                         requests (a traceparent header) and NATS messages
//                         (a traceparent header) carry to the target, so the
//                         service's spans join it; DEST is an OTLP/HTTP base
//                         URL (http://collector:4318) or a file that gets
//                         OTLP/JSON lines. OTEL_TRACES_SAMPLER(_ARG) picks
//                         which requests are traced (default: all)
//   --quiet               no progress line
//
// A progress line (elapsed, requests/s, errors, p99) is rewritten once a
// second on stderr. Exit status: 0 when the config's SLO is met, 1 when it
// is missed, 2 for a bad command line or configuration, 3 when the run
// could not be carried out.

#include <spindle/chaos.hpp>
#include <spindle/circuit_breaker.hpp>
#include <spindle/chaos/http.hpp>
#include <spindle/chaos/tools.hpp>
#include <spindle/http/system_server.hpp>
#include <spindle/introspection.hpp>
#include <spindle/load.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/stream.hpp>
#include <spindle/system.hpp>
#include <spindle/tools.hpp>
#include <spindle/trace.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/fiber/future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <charconv>
#include <filesystem>
#include <functional>
#include <iterator>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unistd.h>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace load = spindle::load;
namespace beast = boost::beast;
namespace asio = boost::asio;
namespace chaos = spindle::chaos;

namespace {

// ---- the in-process example system ---------------------------------------

struct echo_msg
{
    std::string text;
};
struct note_msg
{
    std::string text;
};

struct echo_actor : spindle::actor<echo_actor, echo_msg, note_msg>
{
    std::uint64_t notes = 0;
    std::string on(echo_msg const& m) { return m.text; }
    void on(note_msg const&) { ++notes; }
};

std::string text_of(boost::json::value const& v)
{
    return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

// ---- HTTP status as an error code -----------------------------------------

class http_status_category : public boost::system::error_category
{
public:
    char const* name() const noexcept override { return "http"; }
    std::string message(int ev) const override
    {
        return std::to_string(ev) + " " + std::string(beast::http::obsolete_reason(static_cast<beast::http::status>(ev)));
    }
};

boost::system::error_code status_error(unsigned status)
{
    static http_status_category const cat;
    return {static_cast<int>(status), cat};
}

// One keep-alive connection per user, driven by Asio on its own thread; the
// user's fiber parks on a fiber future meanwhile (never the runner's thread).
class http_client
{
public:
    http_client(asio::io_context& io, std::string host, std::string port)
        : io_(io), host_(std::move(host)), port_(std::move(port))
    {
    }

    boost::system::error_code request(load::step const& s, std::chrono::nanoseconds timeout)
    {
        auto done = std::make_shared<boost::fibers::promise<boost::system::error_code>>();
        auto f = done->get_future();
        auto req = std::make_shared<beast::http::request<beast::http::string_body>>();
        req->method(beast::http::string_to_verb(s.method));
        req->target(s.target);
        req->version(11);
        req->set(beast::http::field::host, host_);
        // the request's span (the runner's, with --trace) goes along
        if(auto const ctx = spindle::trace::current_span().context(); ctx.valid())
        {
            req->set("traceparent", spindle::trace::format_traceparent(ctx));
            if(!ctx.state.empty())
                req->set("tracestate", ctx.state.to_header());
        }
        if(!s.payload.is_null())
        {
            req->body() = text_of(s.payload);
            req->set(beast::http::field::content_type, "application/json");
        }
        req->prepare_payload();
        asio::post(io_, [this, req, done, timeout] { start(req, done, timeout); });
        return f.get();
    }

private:
    using promise_ptr = std::shared_ptr<boost::fibers::promise<boost::system::error_code>>;
    using request_ptr = std::shared_ptr<beast::http::request<beast::http::string_body>>;

    void start(request_ptr req, promise_ptr done, std::chrono::nanoseconds timeout)
    {
        if(!stream_)
            stream_.emplace(io_);
        stream_->expires_after(timeout);
        if(!connected_)
        {
            auto resolver = std::make_shared<asio::ip::tcp::resolver>(io_);
            resolver->async_resolve(host_, port_, [this, resolver, req, done](auto ec, auto results) {
                if(ec)
                    return finish(done, ec);
                stream_->async_connect(results, [this, req, done](auto ec, auto const&) {
                    if(ec)
                        return finish(done, ec);
                    connected_ = true;
                    write(req, done);
                });
            });
        }
        else
            write(req, done);
    }

    void write(request_ptr req, promise_ptr done)
    {
        beast::http::async_write(*stream_, *req, [this, req, done](auto ec, std::size_t) {
            if(ec)
                return finish(done, ec);
            auto res = std::make_shared<beast::http::response<beast::http::string_body>>();
            beast::http::async_read(*stream_, buffer_, *res, [this, res, done](auto ec, std::size_t) {
                if(ec)
                    return finish(done, ec);
                if(!res->keep_alive())
                    reset();
                unsigned const st = res->result_int();
                done->set_value(st >= 400 ? status_error(st) : boost::system::error_code());
            });
        });
    }

    void finish(promise_ptr const& done, boost::system::error_code ec)
    {
        reset(); // a failed connection is not reused
        done->set_value(ec);
    }

    void reset()
    {
        connected_ = false;
        if(stream_)
        {
            boost::system::error_code ignored;
            stream_->socket().close(ignored);
            stream_.reset();
        }
        buffer_.clear();
    }

    asio::io_context& io_;
    std::string host_, port_;
    std::optional<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
    bool connected_ = false;
};

struct http_target
{
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread;
    std::string host, port;
    std::map<std::size_t, std::unique_ptr<http_client>> clients; // by user: the runner's thread only

    http_target(std::string h, std::string p) : host(std::move(h)), port(std::move(p))
    {
        thread = std::thread([this] { io.run(); });
    }
    ~http_target()
    {
        work.reset();
        asio::post(io, [this] { clients.clear(); });
        thread.join();
    }
    boost::system::error_code request(load::step const& s, load::step_context& ctx, std::chrono::nanoseconds timeout)
    {
        auto& c = clients[ctx.user];
        if(!c)
            c = std::make_unique<http_client>(io, host, port);
        return c->request(s, timeout);
    }
};

// ---- NATS: spindle::remote's wire format, with any client ------------------

// Error texts of remote replies and NATS failures as codes: the load test
// counts failures by "<category>: <message>".
class remote_category : public boost::system::error_category
{
public:
    char const* name() const noexcept override { return "remote"; }
    std::string message(int ev) const override
    {
        std::lock_guard lk(mutex_);
        return ev >= 0 && static_cast<std::size_t>(ev) < texts_.size() ? texts_[static_cast<std::size_t>(ev)] : "?";
    }
    boost::system::error_code code(std::string const& text) const
    {
        std::lock_guard lk(mutex_);
        auto it = std::find(texts_.begin(), texts_.end(), text);
        if(it == texts_.end())
            it = texts_.insert(texts_.end(), text);
        return {static_cast<int>(it - texts_.begin()), *this};
    }

private:
    mutable std::mutex mutex_; // held for a lookup only, never across a wait
    mutable std::vector<std::string> texts_{"ok"};
};

remote_category const& remote_errors()
{
    static remote_category const cat;
    return cat;
}

// One connection; asks publish with a reply subject under an inbox of their
// own, and the user's fiber parks on a fiber future the subscription's
// callback (a cnats thread) completes.
class nats_target
{
public:
    explicit nats_target(std::string const& url)
    {
        natsOptions* o = nullptr;
        natsStatus s = natsOptions_Create(&o);
        if(s == NATS_OK)
            s = natsOptions_SetURL(o, url.c_str());
        if(s == NATS_OK)
            s = natsOptions_SetSendAsap(o, true); // else cnats' flusher adds about 1 ms to every ask
        if(s == NATS_OK)
            s = natsConnection_Connect(&conn_, o);
        natsOptions_Destroy(o);
        if(s != NATS_OK)
            throw std::runtime_error("cannot connect to " + url + ": " + natsStatus_GetText(s));
        inbox_ = "_INBOX.spindle_load." + std::to_string(::getpid()) + "." +
                 std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
        s = natsConnection_Subscribe(&sub_, conn_, (inbox_ + ".*").c_str(), &nats_target::on_reply, this);
        if(s == NATS_OK)
            s = natsSubscription_SetPendingLimits(sub_, -1, -1);
        if(s != NATS_OK)
            throw std::runtime_error(std::string("cannot subscribe: ") + natsStatus_GetText(s));
    }
    ~nats_target()
    {
        natsSubscription_Unsubscribe(sub_);
        natsSubscription_Destroy(sub_);
        natsConnection_Close(conn_);
        natsConnection_Destroy(conn_);
    }

    boost::system::error_code send(load::step const& s, bool ask, std::chrono::nanoseconds timeout)
    {
        if(s.type.empty())
            return remote_errors().code("the step has no \"type\" (the message's Spindle-Type)");
        std::string const subject = "spindle.name." + s.target;
        std::string const body = boost::json::serialize(s.payload.is_null() ? boost::json::value(boost::json::object()) : s.payload);
        std::uint64_t const n = next_.fetch_add(1);
        std::string const reply = inbox_ + "." + std::to_string(n);
        natsMsg* m = nullptr;
        natsStatus st = natsMsg_Create(&m, subject.c_str(), ask ? reply.c_str() : nullptr, body.data(), static_cast<int>(body.size()));
        if(st == NATS_OK)
            st = natsMsgHeader_Set(m, "Spindle-Type", s.type.c_str());
        // the request's span (with --trace): the receiving handler's parent
        if(auto const ctx = spindle::trace::current_span().context(); st == NATS_OK && ctx.valid())
            st = natsMsgHeader_Set(m, "traceparent", spindle::trace::format_traceparent(ctx).c_str());
        std::optional<boost::fibers::future<boost::system::error_code>> f;
        if(st == NATS_OK && ask)
        {
            auto p = std::make_shared<boost::fibers::promise<boost::system::error_code>>();
            f.emplace(p->get_future());
            std::lock_guard lk(mutex_);
            pending_.emplace(n, std::move(p));
        }
        if(st == NATS_OK)
            st = natsConnection_PublishMsg(conn_, m);
        natsMsg_Destroy(m);
        if(st != NATS_OK)
        {
            forget(n);
            return remote_errors().code(std::string("nats: ") + natsStatus_GetText(st));
        }
        if(!ask)
            return {};
        if(f->wait_for(timeout) != boost::fibers::future_status::ready)
        {
            forget(n);
            return make_error_code(boost::system::errc::timed_out);
        }
        return f->get();
    }

private:
    void forget(std::uint64_t n)
    {
        std::lock_guard lk(mutex_);
        pending_.erase(n);
    }

    static void on_reply(natsConnection*, natsSubscription*, natsMsg* m, void* self_)
    {
        auto* self = static_cast<nats_target*>(self_);
        std::string_view subject = natsMsg_GetSubject(m);
        std::uint64_t n = 0;
        std::from_chars(subject.data() + subject.rfind('.') + 1, subject.data() + subject.size(), n);
        std::shared_ptr<boost::fibers::promise<boost::system::error_code>> p;
        {
            std::lock_guard lk(self->mutex_);
            auto it = self->pending_.find(n);
            if(it != self->pending_.end())
            {
                p = std::move(it->second);
                self->pending_.erase(it);
            }
        }
        if(p)
        {
            boost::system::error_code ec;
            char const* status = nullptr;
            if(natsMsg_IsNoResponders(m))
                ec = remote_errors().code("no responders (no actor published under that name)");
            else if(natsMsgHeader_Get(m, "Spindle-Status", &status) == NATS_OK && std::string_view(status) != "ok")
            {
                char const* error = nullptr;
                natsMsgHeader_Get(m, "Spindle-Error", &error);
                ec = remote_errors().code(std::string(error ? error : "error") + " " +
                    std::string(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))));
            }
            p->set_value(ec);
        }
        natsMsg_Destroy(m);
    }

    natsConnection* conn_ = nullptr;
    natsSubscription* sub_ = nullptr;
    std::string inbox_;
    std::atomic<std::uint64_t> next_{0};
    std::mutex mutex_; // guards pending_; never held across a wait
    std::unordered_map<std::uint64_t, std::shared_ptr<boost::fibers::promise<boost::system::error_code>>> pending_;
};

// ---- command line ----------------------------------------------------------

struct options
{
    std::string config;
    std::string target = "in-process";
    std::string out = "load-results";
    std::string chaos;
    std::string trace;
    bool quiet = false;
};

[[noreturn]] void usage(std::string const& problem)
{
    std::cerr << "load: " << problem << "\n"
              << "usage: tools/load CONFIG.json [--target in-process|http://HOST:PORT|nats://HOST:PORT] [--out DIR] [--chaos RULES.json] [--trace URL|FILE] [--quiet]\n";
    std::exit(2);
}

options parse_args(int argc, char** argv)
{
    options o;
    for(int i = 1; i < argc; ++i)
    {
        std::string const a = argv[i];
        auto value = [&]() -> std::string {
            if(i + 1 >= argc)
                usage(a + " needs a value");
            return argv[++i];
        };
        if(a == "--target")
            o.target = value();
        else if(a == "--out")
            o.out = value();
        else if(a == "--chaos")
            o.chaos = value();
        else if(a == "--trace")
            o.trace = value();
        else if(a == "--quiet")
            o.quiet = true;
        else if(a == "--help" || a == "-h")
            usage("help");
        else if(!a.empty() && a[0] == '-')
            usage("unknown option " + a);
        else if(o.config.empty())
            o.config = a;
        else
            usage("one configuration file only");
    }
    if(o.config.empty())
        usage("no configuration file");
    return o;
}

std::chrono::nanoseconds timeout_of(load::step const& s, load::load_test_config const& cfg)
{
    return s.timeout > 0ns ? s.timeout : cfg.timeout;
}

void progress_line(load::progress const& p)
{
    double const pct = p.count ? 100.0 * static_cast<double>(p.failures) / static_cast<double>(p.count) : 0.0;
    std::fprintf(stderr, "\r%6.0fs  %8.0f req/s  %8llu requests  %6llu errors (%.2f%%)  p99 %8.3f ms  active %u   ",
        std::chrono::duration<double>(p.elapsed).count(), p.rps, static_cast<unsigned long long>(p.count),
        static_cast<unsigned long long>(p.failures), pct, p.p99_ms, p.active);
    std::fflush(stderr);
}

int write_results(load::load_test_config const& cfg, load::load_results const& res, options const& o,
    std::vector<load::report_section> const& sections)
{
    auto const verdict = load::check_slo(res, cfg.slo);
    std::filesystem::create_directories(o.out);
    auto json = load::to_json(res);
    json.as_object()["slo_passed"] = verdict.passed;
    boost::json::array misses;
    for(auto const& m : verdict.misses)
        misses.emplace_back(m);
    json.as_object()["slo_misses"] = std::move(misses);
    for(auto const& sec : sections)
        json.as_object()[sec.title] = sec.content;
    std::ofstream(o.out + "/results.json") << boost::json::serialize(json) << '\n';
    std::ofstream(o.out + "/report.html") << load::html_report(res, verdict, sections);
    auto const& h = res.total.response;
    std::printf("%s: %llu requests in %.1f s, %.1f req/s, %llu failures (%.2f%%)\n", res.name.c_str(),
        static_cast<unsigned long long>(res.total.count), std::chrono::duration<double>(res.elapsed).count(),
        res.rps(), static_cast<unsigned long long>(res.total.failures), res.error_rate() * 100);
    std::printf("latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", h.mean() / 1e6,
        h.percentile(50) / 1e6, h.percentile(90) / 1e6, h.percentile(99) / 1e6, h.percentile(99.9) / 1e6,
        h.max() / 1e6);
    for(auto const& [kind, n] : res.total.errors)
        std::printf("  error %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
    std::printf("results: %s/results.json, report: %s/report.html\n", o.out.c_str(), o.out.c_str());
    if(!verdict.passed)
    {
        for(auto const& m : verdict.misses)
            std::printf("SLO missed: %s\n", m.c_str());
        return 1;
    }
    std::printf("SLO met\n");
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    options const o = parse_args(argc, argv);
    load::load_test_config cfg;
    try
    {
        cfg = load::load_config_file(o.config);
    }
    catch(load::config_error const& e)
    {
        std::cerr << "load: " << o.config << ": " << e.what() << '\n';
        return 2;
    }

    // --trace: installed before anything runs, shut down (flushed) last
    std::optional<spindle::trace::tracing> tracing;
    if(!o.trace.empty())
    {
        spindle::trace::tracing_options to;
        to.service_name = "spindle-load";
        to.batch.schedule_delay = 1s;
        to.batch.max_queue_size = 65536; // a load test ends many spans a second
        try
        {
            if(o.trace.starts_with("http://"))
                to.endpoint = o.trace;
            else
                to.exporter = std::make_shared<spindle::trace::jsonl_exporter>(o.trace);
            tracing.emplace(std::move(to));
        }
        catch(std::exception const& e)
        {
            std::cerr << "load: --trace " << o.trace << ": " << e.what() << '\n';
            return 2;
        }
    }

    load::runner_options ropts;
    if(!o.quiet)
        ropts.on_progress = progress_line;

    std::unique_ptr<spindle::system> sys;
    std::unique_ptr<spindle::tools::tool_bus> bus;
    std::unique_ptr<spindle::http::system_server> web;
    std::unique_ptr<http_target> http;
    std::unique_ptr<nats_target> nats;
    std::optional<spindle::push_source<std::string>> lines;
    std::optional<spindle::stream_handle<void>> lines_run;
    std::atomic<std::uint64_t> words{0};
    chaos::controller faults;
    struct breaker_counts
    {
        std::unique_ptr<spindle::circuit_breaker> breaker;
        std::atomic<std::uint64_t> opened{0};
        std::atomic<std::uint64_t> closed{0};
    };
    std::map<std::string, breaker_counts, std::less<>> breakers;
    bool const chaotic = !o.chaos.empty();
    if(chaotic)
    {
        if(o.target != "in-process")
            usage("--chaos needs --target in-process (a running service serves /api/chaos itself)");
        std::ifstream in(o.chaos);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        boost::system::error_code ec;
        auto const v = boost::json::parse(text, ec);
        std::string problem;
        if(!in || ec)
            problem = ec ? "malformed JSON: " + ec.message() : "cannot read it";
        else if(!faults.update(v, problem))
            problem = "bad rules: " + problem;
        if(!problem.empty())
        {
            std::cerr << "load: " << o.chaos << ": " << problem << '\n';
            return 2;
        }
    }

    if(o.target == "in-process")
    {
        sys = std::make_unique<spindle::system>();
        // the echo actor under a supervisor that never gives up: injected
        // crashes are restarts, not an outage
        spindle::supervisor_spec spec;
        spec.intensity.max_restarts = 1000000;
        spec.children.push_back(spindle::child_spec::of<echo_actor>().named("echo"));
        spindle::supervisor_ref sup(sys->spawn<spindle::supervisor>(spec));
        sup.count_children(); // answered once the children exist
        auto echo = sys->lookup<echo_actor>("echo");
        bus = std::make_unique<spindle::tools::tool_bus>(*sys);
        auto tool = [&](std::shared_ptr<spindle::tools::tool> t) {
            bus->register_tool(chaotic ? chaos::wrap_tool(faults, std::move(t)) : std::move(t));
        };
        tool(spindle::tools::make_calculator_tool());
        tool(spindle::tools::make_echo_tool());
        faults.set_timers(&sys->timers());
        if(chaotic)
            chaos::install(faults);
        auto agent = std::make_shared<spindle::tools::agent_credential>(bus->add_agent("load"));
        bus->grant_all(*agent);
        lines.emplace(4096);
        lines_run.emplace(spindle::from_source(*lines)
                              .map([](std::string s) { return static_cast<std::uint64_t>(std::count(s.begin(), s.end(), ' ') + 1); })
                              .for_each([&words](std::uint64_t n) { words.fetch_add(n, std::memory_order_relaxed); })
                              .run(*sys));
        web = std::make_unique<spindle::http::system_server>(*sys);
        if(chaotic)
            chaos::serve(*web, faults); // /api/chaos and the live page's section
        web->start();
        http = std::make_unique<http_target>("127.0.0.1", std::to_string(web->port()));

        auto const* c = &cfg;
        ropts.on(load::step_kind::ask, [echo, c](load::step const& s, load::step_context&) {
            if(s.target != "echo")
                return boost::system::error_code(make_error_code(spindle::error::unknown_actor));
            boost::system::error_code ec;
            echo.ask(echo_msg{text_of(s.payload)}, timeout_of(s, *c)).get(ec);
            return ec;
        });
        ropts.on(load::step_kind::tell, [echo](load::step const& s, load::step_context&) {
            if(s.target != "echo")
                return boost::system::error_code(make_error_code(spindle::error::unknown_actor));
            echo.tell(note_msg{text_of(s.payload)});
            return boost::system::error_code();
        });
        // a breaker per tool: a failing tool is not called until it recovers
        for(char const* name : {"calculator", "echo"})
        {
            spindle::circuit_breaker_options bo;
            bo.failure_threshold = 5;
            bo.recovery_timeout = 1s;
            auto& b = breakers[name];
            b.breaker = std::make_unique<spindle::circuit_breaker>(*sys, bo);
            auto* counts = &b;
            b.breaker->on_transition([counts](spindle::circuit_transition const& t) {
                if(t.to == spindle::circuit_state::open)
                    counts->opened.fetch_add(1);
                else if(t.to == spindle::circuit_state::closed)
                    counts->closed.fetch_add(1);
            });
        }
        ropts.on(load::step_kind::tool, [&bus, &breakers, agent, c](load::step const& s, load::step_context&) {
            boost::system::error_code ec;
            auto it = breakers.find(s.target);
            spindle::circuit_breaker::permit p;
            if(it != breakers.end())
            {
                p = it->second.breaker->try_acquire(ec);
                if(ec)
                    return ec; // open: fails fast
            }
            spindle::tools::call_options co;
            co.timeout = timeout_of(s, *c);
            bus->call(*agent, s.target, s.payload.is_null() ? boost::json::value(boost::json::object()) : s.payload,
                co, ec);
            if(it != breakers.end())
            {
                if(ec)
                    p.failure();
                else
                    p.success();
            }
            return ec;
        });
        ropts.on(load::step_kind::stream, [&lines](load::step const& s, load::step_context& ctx) {
            if(s.target != "lines")
                return boost::system::error_code(make_error_code(spindle::error::invalid_argument));
            for(std::uint32_t i = 0; i < s.items; ++i)
                if(lines->push(text_of(s.payload), ctx.stop) != spindle::channel_status::success)
                    return boost::system::error_code(make_error_code(spindle::error::actor_stopped));
            return boost::system::error_code();
        });
        std::fprintf(stderr, "in-process example system; its live page: http://127.0.0.1:%u/\n", web->port());
    }
    else if(o.target.rfind("http://", 0) == 0)
    {
        std::string hostport = o.target.substr(7);
        if(auto slash = hostport.find('/'); slash != std::string::npos)
            hostport.resize(slash);
        auto colon = hostport.rfind(':');
        std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
        std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
        http = std::make_unique<http_target>(host, port);
    }
    else if(o.target.rfind("nats://", 0) == 0)
    {
        try
        {
            nats = std::make_unique<nats_target>(o.target);
        }
        catch(std::exception const& e)
        {
            std::cerr << "load: " << e.what() << '\n';
            return 3;
        }
        auto const* c = &cfg;
        ropts.on(load::step_kind::ask, [&nats, c](load::step const& s, load::step_context&) {
            return nats->send(s, true, timeout_of(s, *c));
        });
        ropts.on(load::step_kind::tell, [&nats, c](load::step const& s, load::step_context&) {
            return nats->send(s, false, timeout_of(s, *c));
        });
    }
    else
        usage("unknown target '" + o.target + "' (in-process, http://HOST:PORT or nats://HOST:PORT)");

    auto const* c = &cfg;
    if(http)
        ropts.on(load::step_kind::http, [&http, c](load::step const& s, load::step_context& ctx) {
            return http->request(s, ctx, timeout_of(s, *c));
        });

    int status = 3;
    try
    {
        load::runner r(cfg, ropts);
        auto const res = r.run();
        if(!o.quiet)
            std::fprintf(stderr, "\n");
        std::vector<load::report_section> sections;
        if(chaotic)
        {
            faults.enable(false);
            boost::json::value ch = faults.to_json();
            // what supervision did meanwhile: restarts, and whether every actor runs
            std::uint64_t restarts = 0;
            bool all_running = true;
            std::function<void(spindle::actor_info const&)> walk = [&](spindle::actor_info const& n) {
                restarts += n.restarts;
                if(n.type != spindle::node_type::root && n.state != spindle::actor_state::running)
                    all_running = false;
                for(auto const& c : n.children)
                    walk(c);
            };
            walk(spindle::inspect(*sys));
            ch.as_object()["restarts"] = restarts;
            ch.as_object()["all_actors_running"] = all_running;
            boost::json::object bj;
            for(auto const& [name, b] : breakers)
                bj[name] = {{"opened", b.opened.load()}, {"closed", b.closed.load()},
                    {"state", std::string(spindle::to_string(b.breaker->state()))}};
            ch.as_object()["breakers"] = std::move(bj);
            std::printf("chaos: %s; supervision: %llu restarts, %s\n", boost::json::serialize(ch.at("stats")).c_str(),
                static_cast<unsigned long long>(restarts), all_running ? "every actor running" : "NOT every actor running");
            sections.push_back({"chaos", std::move(ch)});
        }
        status = write_results(cfg, res, o, sections);
    }
    catch(load::config_error const& e)
    {
        std::cerr << "load: " << o.config << ": " << e.what() << " (for the target " << o.target << ")\n";
        status = 2;
    }
    catch(std::exception const& e)
    {
        std::cerr << "load: the run failed: " << e.what() << '\n';
        status = 3;
    }
    http.reset();
    nats.reset();
    if(lines)
        lines->close();
    if(web)
        web->stop();
    if(sys)
        sys->shutdown();
    if(tracing)
    {
        tracing->shutdown(); // exports what is queued, within its deadline
        auto const st = tracing->stats();
        std::printf("traces: %llu spans exported to %s (%llu dropped)\n", static_cast<unsigned long long>(st.exported),
            o.trace.c_str(), static_cast<unsigned long long>(st.queue_dropped + st.export_dropped));
    }
    return status;
}
