//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TEST_HTTP_CLIENT_HPP
#define SPINDLE_TEST_HTTP_CLIENT_HPP

// A blocking HTTP client for the http_* suites: it sends raw bytes (so a
// test can send what no well-behaved client would) and reads responses
// with Beast's parser. Every blocking call is bounded by a timeout that
// only a broken test reaches.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace spindle_test {

namespace http_client_detail {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
} // namespace http_client_detail

/** A socket whose reads give up (`timed_out`) after a while: a server
    that never answers fails the test instead of hanging it. (Asio's
    blocking reads poll without a timeout, so SO_RCVTIMEO does not do it.) */
struct timed_socket
{
    boost::asio::ip::tcp::socket& sock;
    int timeout_ms;

    template<class MutableBuffers>
    std::size_t read_some(MutableBuffers const& b, boost::system::error_code& ec)
    {
        pollfd p{sock.native_handle(), POLLIN, 0};
        if(::poll(&p, 1, timeout_ms) == 0)
        {
            ec = boost::asio::error::timed_out;
            return 0;
        }
        return sock.read_some(b, ec);
    }

    template<class MutableBuffers>
    std::size_t read_some(MutableBuffers const& b)
    {
        boost::system::error_code ec;
        auto const n = read_some(b, ec);
        if(ec)
            throw boost::system::system_error(ec);
        return n;
    }
};

/** One connection to a loopback server. */
class http_connection
{
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::socket sock_{ioc_};
    boost::beast::flat_buffer buf_;
    int timeout_ms_;

public:
    using response_type = boost::beast::http::response<boost::beast::http::string_body>;

    explicit http_connection(std::uint16_t port, int timeout_seconds = 60) : timeout_ms_(timeout_seconds * 1000)
    {
        sock_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        timeval tv{timeout_seconds, 0};
        ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }

    /// Sends raw bytes; false if the server closed the connection.
    bool send(std::string_view bytes)
    {
        boost::system::error_code ec;
        boost::asio::write(sock_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
        return !ec;
    }

    /// Reads one response (of a request that was not HEAD); nothing on EOF or error.
    std::optional<response_type> read(bool head = false)
    {
        boost::beast::http::response_parser<boost::beast::http::string_body> p;
        p.body_limit(64 * 1024 * 1024);
        p.skip(head);
        boost::system::error_code ec;
        timed_socket ts{sock_, timeout_ms_};
        boost::beast::http::read(ts, buf_, p, ec);
        if(ec)
            return std::nullopt;
        return p.release();
    }

    /// True if the server closed the connection (EOF, nothing more to read).
    bool closed_by_peer()
    {
        if(buf_.size() != 0)
            return false;
        char c;
        boost::system::error_code ec;
        std::size_t n = timed_socket{sock_, timeout_ms_}.read_some(boost::asio::buffer(&c, 1), ec);
        return n == 0 && (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset);
    }

    /// Sends a whole request and reads its response.
    std::optional<response_type> exchange(std::string_view bytes, bool head = false)
    {
        if(!send(bytes))
            return std::nullopt;
        return read(head);
    }

    boost::asio::ip::tcp::socket& socket() noexcept { return sock_; }
};

/// A simple GET request for `target`.
inline std::string get_request(std::string_view target, std::string_view extra_headers = {})
{
    std::string r = "GET ";
    r += target;
    r += " HTTP/1.1\r\nHost: localhost\r\n";
    r += extra_headers;
    r += "\r\n";
    return r;
}

/// One request on a new connection.
inline std::optional<http_connection::response_type> http_get(std::uint16_t port, std::string_view target)
{
    http_connection c(port);
    return c.exchange(get_request(target, "Connection: close\r\n"));
}

/// True if `tool` is on the PATH.
inline bool have_tool(std::string const& tool)
{
    std::string const cmd = "command -v " + tool + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

/// What a command printed (stdout and stderr) and its exit status.
struct tool_result
{
    int status = -1;
    std::string output;
};

/// Runs `cmd` through the shell with `input` on its standard input.
inline tool_result run_tool(std::string const& cmd, std::string const& input)
{
    char path[] = "/tmp/spindle-http-test-XXXXXX";
    int const fd = ::mkstemp(path);
    if(fd < 0)
        return {};
    ::close(fd);
    {
        std::ofstream f(path, std::ios::binary);
        f << input;
    }
    tool_result r;
    std::string const full = cmd + " < " + path + " 2>&1";
    if(FILE* p = ::popen(full.c_str(), "r"))
    {
        char buf[4096];
        std::size_t n;
        while((n = std::fread(buf, 1, sizeof buf, p)) > 0)
            r.output.append(buf, n);
        int const st = ::pclose(p);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    ::unlink(path);
    return r;
}

} // namespace spindle_test

#endif
