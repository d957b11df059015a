//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_BENCHMARKS_REMOTE_COMMON_HPP
#define SPINDLE_BENCHMARKS_REMOTE_COMMON_HPP

// What the remote workloads (remote_tell, remote_pingpong) share in every
// system: a nats-server of the run's own on a free loopback port, process B
// (this same program started again in its "serve" role), the pipes between
// A and B, and the peak RSS and CPU time of both once they have exited.
//
// Every process started here dies with the thread that started it
// (PR_SET_PDEATHSIG), so neither a crash of A, nor its watchdog, nor
// tools/bench's kill leaves a nats-server or a B behind; normally A stops
// them itself (B: end of its stdin; nats-server: SIGTERM) and reaps them.
//
// Protocol between A and B (the same in every system):
//   A starts B with SPINDLE_BENCH_REMOTE_SERVE=<workload> and
//   SPINDLE_BENCH_REMOTE_URL=<nats url> (CAF: unused) in its environment;
//   B prints "ready [PORT]\n" on its stdout once it serves (CAF's B: the TCP
//   port it published on); A runs the workload; A closes B's stdin; B shuts
//   down and exits 0 (1 if it saw anything wrong, which it also says on
//   stderr).

#include "common.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace bench::remote {

/// The payload of every tell: an 8-byte integer, the same in every system.
using tick_type = std::uint64_t;

/// Environment variables of the protocol above.
inline constexpr char const* serve_env = "SPINDLE_BENCH_REMOTE_SERVE";
inline constexpr char const* url_env = "SPINDLE_BENCH_REMOTE_URL";
/// A command (words split at spaces) that A puts before B's: a profiler.
inline constexpr char const* wrap_env = "SPINDLE_BENCH_REMOTE_B_WRAP";

/// The workload this process serves as B, or nullptr if it is A.
inline char const* serve_role() { return std::getenv(serve_env); }

/// The NATS URL B joins.
inline std::string serve_url()
{
    char const* u = std::getenv(url_env);
    return u ? u : "";
}

/// A loopback TCP port nobody listens on now.
inline int free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bool const ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    if(fd >= 0)
        ::close(fd);
    if(!ok)
        throw failure("no free loopback port");
    return ntohs(a.sin_port);
}

/// True if something accepts TCP connections on the loopback `port`.
inline bool accepts(int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    bool const ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if(fd >= 0)
        ::close(fd);
    return ok;
}

/// What a child used, from wait4 once it has exited.
struct usage
{
    std::uint64_t peak_rss_kb = 0;
    double cpu_seconds = 0;
    int status = -1; ///< exit status, or -1 if it was killed by a signal
};

/** A child process: started with fork + exec, its stdin and stdout pipes
    to us (optional), its stderr ours. It is sent SIGKILL if the thread that
    started it ends first.
*/
class child
{
    pid_t pid_ = -1;
    int in_ = -1;  ///< its stdin
    int out_ = -1; ///< its stdout
    std::string what_;
    std::string buffered_;
    usage usage_;

public:
    /// Starts `argv[0]` (searched in PATH) with `env` added to our environment.
    child(std::string what, std::vector<std::string> const& argv, std::vector<std::string> const& env, bool pipes,
          bool quiet = false)
        : what_(std::move(what))
    {
        int in[2] = {-1, -1}, out[2] = {-1, -1};
        if(pipes && (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0))
            throw failure("pipe: " + std::string(std::strerror(errno)));
        std::vector<char*> args;
        for(auto const& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        // the child's environment, built before fork (after it, only
        // async-signal-safe calls)
        std::vector<char*> envp;
        for(char** e = environ; *e; ++e)
            envp.push_back(*e);
        for(auto const& e : env)
            envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        pid_t const parent = ::getpid();
        pid_ = ::fork();
        if(pid_ < 0)
            throw failure("fork: " + std::string(std::strerror(errno)));
        if(pid_ == 0)
        {
            // only async-signal-safe calls from here to exec
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if(::getppid() != parent)
                ::_exit(127);
            if(pipes)
            {
                ::dup2(in[0], 0);
                ::dup2(out[1], 1);
            }
            else if(quiet)
            {
                int const null = ::open("/dev/null", O_WRONLY);
                ::dup2(null, 1);
                ::dup2(null, 2);
            }
            ::execvpe(args[0], args.data(), envp.data());
            ::_exit(127);
        }
        if(pipes)
        {
            ::close(in[0]);
            ::close(out[1]);
            in_ = in[1];
            out_ = out[0];
        }
    }

    ~child()
    {
        close_stdin();
        if(out_ >= 0)
            ::close(out_);
        if(pid_ > 0)
        {
            ::kill(pid_, SIGKILL);
            reap();
        }
    }

    child(child const&) = delete;
    child& operator=(child const&) = delete;

    pid_t pid() const noexcept { return pid_; }

    /** The next line of the child's stdout (without the newline).
        @throws failure if it closes its stdout first or `timeout` passes.
    */
    std::string read_line(std::chrono::seconds timeout)
    {
        auto const end = clock_type::now() + timeout;
        for(;;)
        {
            if(auto nl = buffered_.find('\n'); nl != std::string::npos)
            {
                std::string line = buffered_.substr(0, nl);
                buffered_.erase(0, nl + 1);
                return line;
            }
            auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_type::now());
            if(left.count() <= 0)
                throw failure(what_ + " said nothing within " + std::to_string(timeout.count()) + " s");
            fd_set set;
            FD_ZERO(&set);
            FD_SET(out_, &set);
            timeval tv{static_cast<time_t>(left.count() / 1000), static_cast<suseconds_t>(left.count() % 1000 * 1000)};
            int const r = ::select(out_ + 1, &set, nullptr, nullptr, &tv);
            if(r < 0 && errno == EINTR)
                continue;
            if(r <= 0)
                continue;
            char buf[256];
            ssize_t const got = ::read(out_, buf, sizeof buf);
            if(got <= 0)
                throw failure(what_ + " ended before it was ready (see its stderr above)");
            buffered_.append(buf, static_cast<std::size_t>(got));
        }
    }

    /// Closes the child's stdin: B's cue to shut down.
    void close_stdin()
    {
        if(in_ >= 0)
        {
            ::close(in_);
            in_ = -1;
        }
    }

    /** Waits up to `timeout` for the child to exit, then kills it.
        @return what it used (status -1 if it had to be killed).
    */
    usage wait(std::chrono::seconds timeout)
    {
        auto const end = clock_type::now() + timeout;
        while(pid_ > 0 && clock_type::now() < end)
        {
            if(try_reap())
                return usage_;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if(pid_ > 0)
        {
            ::kill(pid_, SIGKILL);
            reap();
            usage_.status = -1;
        }
        return usage_;
    }

    /// SIGTERM, then `wait`.
    usage terminate(std::chrono::seconds timeout)
    {
        if(pid_ > 0)
            ::kill(pid_, SIGTERM);
        return wait(timeout);
    }

private:
    bool try_reap() { return collect(WNOHANG); }
    void reap() { collect(0); }

    bool collect(int flags)
    {
        int st = 0;
        rusage ru{};
        pid_t const r = ::wait4(pid_, &st, flags, &ru);
        if(r != pid_)
            return false;
        pid_ = -1;
        usage_.peak_rss_kb = static_cast<std::uint64_t>(ru.ru_maxrss); // KiB on Linux
        auto sec = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
        usage_.cpu_seconds = sec(ru.ru_utime) + sec(ru.ru_stime);
        usage_.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return true;
    }
};

/** A nats-server of this run: Debian's nats-server on a free loopback port
    with a configuration of its own (never the system service), stopped
    with SIGTERM when the object goes (SIGKILL if it lingers).
*/
class nats_server
{
    int port_;
    std::string config_;
    std::unique_ptr<child> proc_;
    usage usage_;

public:
    nats_server() : port_(free_port())
    {
        config_ = "/tmp/spindle-bench-nats-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".conf";
        {
            std::ofstream f(config_);
            f << "listen: 127.0.0.1:" << port_ << "\n";
        }
        proc_ = std::make_unique<child>("nats-server", std::vector<std::string>{"nats-server", "-c", config_},
                                        std::vector<std::string>{}, false, true);
        auto const end = clock_type::now() + std::chrono::seconds(30);
        while(!accepts(port_))
        {
            if(clock_type::now() > end)
                throw failure("nats-server did not listen on 127.0.0.1:" + std::to_string(port_) +
                              " within 30 s (is Debian's nats-server installed?)");
            if(proc_->pid() < 0 || ::waitpid(proc_->pid(), nullptr, WNOHANG) == proc_->pid())
                throw failure("nats-server did not start (is Debian's nats-server installed?)");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        // read at start-up only: gone now, it cannot outlive a killed run
        ::unlink(config_.c_str());
    }

    ~nats_server()
    {
        stop();
        ::unlink(config_.c_str());
    }

    nats_server(nats_server const&) = delete;
    nats_server& operator=(nats_server const&) = delete;

    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

    /// Stops it (idempotent) and returns what it used.
    usage stop()
    {
        if(proc_)
        {
            usage_ = proc_->terminate(std::chrono::seconds(5));
            proc_.reset();
        }
        return usage_;
    }
};

/// This program's own executable, for B.
inline std::string self_exe()
{
    char buf[4096];
    ssize_t const n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if(n <= 0)
        throw failure("cannot read /proc/self/exe");
    return std::string(buf, static_cast<std::size_t>(n));
}

/** Starts B: this program again, with `args` (what follows the program's
    name: `WORKLOAD N`, or `SYSTEM WORKLOAD N` for peers_bench) and the
    protocol's environment.
*/
inline std::unique_ptr<child> start_server(std::string const& workload, std::string const& url,
                                           std::vector<std::string> const& args)
{
    std::vector<std::string> argv;
    // a profiler for B, e.g. "valgrind --tool=callgrind" (doc/benchmarks.md)
    if(char const* wrap = std::getenv(wrap_env))
    {
        std::string word;
        for(char const* c = wrap;; ++c)
        {
            if(*c == ' ' || *c == '\0')
            {
                if(!word.empty())
                    argv.push_back(word);
                word.clear();
                if(*c == '\0')
                    break;
            }
            else
                word += *c;
        }
    }
    argv.push_back(self_exe());
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<child>("process B (" + workload + ")", argv,
                                   std::vector<std::string>{std::string(serve_env) + "=" + workload,
                                                            std::string(url_env) + "=" + url},
                                   true);
}

/** In B: says "ready [extra]" to A, then blocks until A closes our stdin
    (a plain thread: B's main thread never runs actors).
*/
inline void ready_then_wait_for_eof(std::string const& extra = {})
{
    std::string const line = "ready" + (extra.empty() ? "" : " " + extra) + "\n";
    if(::write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        std::_Exit(1);
    char buf[64];
    while(true)
    {
        ssize_t const r = ::read(0, buf, sizeof buf);
        if(r == 0 || (r < 0 && errno != EINTR))
            return;
    }
}

/** In A, at the end: stops B (closing its stdin) and the nats-server, and
    appends both processes' peak RSS and CPU time to `r`.
    @throws failure if B reported an error (its exit status).
*/
inline void finish(result& r, child& b, nats_server* server)
{
    b.close_stdin();
    usage const bu = b.wait(std::chrono::seconds(30));
    r.extra.emplace_back("b_peak_rss_kb", bu.peak_rss_kb);
    r.extra.emplace_back("b_cpu_ms", static_cast<std::uint64_t>(bu.cpu_seconds * 1000));
    if(server)
    {
        usage const su = server->stop();
        r.extra.emplace_back("nats_peak_rss_kb", su.peak_rss_kb);
        r.extra.emplace_back("nats_cpu_ms", static_cast<std::uint64_t>(su.cpu_seconds * 1000));
    }
    check(bu.status == 0, "process B failed (exit status " + std::to_string(bu.status) + ")");
}

} // namespace bench::remote

#endif
