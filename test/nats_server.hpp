//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// A real nats-server for a test: started on a free loopback port, stopped
// (SIGTERM, then SIGKILL) when the object goes.

#ifndef SPINDLE_TEST_NATS_SERVER_HPP
#define SPINDLE_TEST_NATS_SERVER_HPP

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace spindle_test {

/// A loopback TCP port nobody listens on now.
inline int free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if(fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("free_port: no loopback port");
    int port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

inline bool accepts(int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

class nats_server
{
    int port_;
    int cluster_port_ = 0;
    pid_t pid_ = -1;
    std::string config_;
    std::vector<std::string> routes_;

public:
    /** Starts nats-server on a free loopback port (or `port`).
        @param max_payload the server's max_payload, 0 for its default.
        @param routes other servers' cluster URLs to route to (a cluster).
    */
    explicit nats_server(int port = 0, int max_payload = 0, std::vector<std::string> routes = {}, bool cluster = false,
        std::string authorization = {})
        : port_(port ? port : free_port()), routes_(std::move(routes))
    {
        if(cluster || !routes_.empty())
            cluster_port_ = free_port();
        config_ = "/tmp/spindle-nats-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".conf";
        std::ofstream f(config_);
        f << "listen: 127.0.0.1:" << port_ << "\n";
        if(max_payload)
            f << "max_payload: " << max_payload << "\n";
        if(!authorization.empty())
            f << "authorization { " << authorization << " }\n";
        if(cluster_port_)
        {
            f << "cluster {\n  name: spindle_test\n  listen: 127.0.0.1:" << cluster_port_ << "\n";
            if(!routes_.empty())
            {
                f << "  routes: [";
                for(auto const& r : routes_)
                    f << " " << r;
                f << " ]\n";
            }
            f << "}\n";
        }
        f.close();
        start();
    }

    ~nats_server()
    {
        stop();
        ::unlink(config_.c_str());
    }

    nats_server(nats_server const&) = delete;
    nats_server& operator=(nats_server const&) = delete;

    int port() const noexcept { return port_; }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
    std::string cluster_url() const { return "nats://127.0.0.1:" + std::to_string(cluster_port_); }

    void start()
    {
        char const* argv[] = {"nats-server", "-c", config_.c_str(), nullptr};
        // its log would bury the test's own output
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        int const rc = ::posix_spawnp(&pid_, "nats-server", &fa, nullptr, const_cast<char**>(argv), environ);
        posix_spawn_file_actions_destroy(&fa);
        if(rc != 0)
            throw std::runtime_error("cannot start nats-server (Debian package nats-server)");
        auto const end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while(!accepts(port_))
        {
            if(std::chrono::steady_clock::now() > end)
                throw std::runtime_error("nats-server did not listen on port " + std::to_string(port_));
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    /// Kills the server at once (SIGKILL): clients see the connection drop.
    void kill()
    {
        if(pid_ > 0)
        {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

    void stop()
    {
        if(pid_ <= 0)
            return;
        ::kill(pid_, SIGTERM);
        for(int i = 0; i < 500; ++i)
        {
            if(::waitpid(pid_, nullptr, WNOHANG) == pid_)
            {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kill();
    }
};

} // namespace spindle_test

#endif
