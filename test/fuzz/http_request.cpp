//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Fuzz target: the HTTP server's request reading (Beast's parser as
// spindle::http drives it: the version rewrite, the framing and target
// checks, the limits, chunked bodies and extensions, pipelining). One server
// runs for the whole process on a loopback port; each input is written on a
// new connection, which is then half-closed, and everything the server
// sends back is read until it closes.
// Checked: the server neither crashes (the sanitizers watch it) nor hangs
// (a connection that stays open aborts after 10 s); what it sends is a
// sequence of well-formed responses with codes 100-599; it never answers
// more requests than the bytes could hold; it stays up for the next input.

#include <spindle/http/server.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

namespace http = spindle::http;
namespace bhttp = boost::beast::http;

[[noreturn]] void fail(char const* what)
{
    std::fprintf(stderr, "http_request: %s\n", what);
    std::abort();
}

std::atomic<std::uint64_t> handled{0};

http::server& server()
{
    static http::server* srv = [] {
        http::server_options o;
        // small limits, so that inputs a fuzzer finds reach them
        o.header_limit = 1024;
        o.target_limit = 256;
        o.body_limit = 200;
        o.chunk_extensions_limit = 64;
        o.max_connections = 64;
        auto* s = new http::server(o); // never destroyed: the process ends with the fuzzer
        s->route("/", [](http::request const& req) {
            handled.fetch_add(1);
            return http::make_response(req, http::status::ok, "ok\n");
        });
        s->route("/echo", {http::verb::post, http::verb::put}, [](http::request const& req) {
            handled.fetch_add(1);
            return http::make_response(req, http::status::ok, req.body());
        });
        s->route("/throw", [](http::request const&) -> http::response { throw std::runtime_error("boom"); });
        s->start();
        return s;
    }();
    return *srv;
}

// Each input is a new connection that this side closes first, so each
// leaves a TIME_WAIT entry behind for 60 s. From one source address the
// ephemeral ports (about 28,000) run out at a few hundred inputs a second
// where the kernel does not reuse TIME_WAIT ports (net.ipv4.tcp_tw_reuse=0):
// connect() then fails with EADDRNOTAVAIL. So the connections come from
// 127.0.0.2 to 127.0.0.254 in turn (all loopback), and a connect() that still
// finds no free port waits and tries again for up to 30 s.
int connect_to(std::uint16_t port)
{
    static std::uint32_t next_source = 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for(int attempt = 0;; ++attempt)
    {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if(fd < 0)
            fail("socket() failed");
        int one = 1;
        ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl((127u << 24) | (2 + next_source++ % 253));
        // where that address cannot be bound, connect() chooses one as usual
        (void)::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
        if(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
        {
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        int const err = errno;
        ::close(fd);
        if((err == EADDRNOTAVAIL || err == EAGAIN || err == EINTR) && attempt < 300)
        {
            ::poll(nullptr, 0, 100);
            continue;
        }
        std::fprintf(stderr, "http_request: connect() to 127.0.0.1:%u failed: %s\n", unsigned(port), std::strerror(err));
        fail("connect() failed: is the server down?");
    }
}

// Writes what the server takes (it may close early, refusing the request).
void send_all(int fd, std::string_view bytes)
{
    while(!bytes.empty())
    {
        auto const n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if(n <= 0)
            return;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string read_all(int fd)
{
    std::string out;
    char buf[4096];
    for(;;)
    {
        pollfd p{fd, POLLIN, 0};
        if(::poll(&p, 1, 10'000) == 0)
            fail("the server kept a half-closed connection open for 10 s");
        auto const n = ::recv(fd, buf, sizeof buf, 0);
        if(n <= 0)
            return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

// The number of responses, each well-formed. A response to HEAD has no body
// although its Content-Length says otherwise: after one, stop counting.
std::size_t check_responses(std::string_view in, std::string_view out)
{
    std::size_t count = 0;
    bool const head = in.find("HEAD") != std::string_view::npos;
    while(!out.empty())
    {
        bhttp::response_parser<bhttp::string_body> p;
        p.eager(true);
        p.body_limit(1 << 20);
        p.skip(head);
        boost::system::error_code ec;
        auto const used = p.put(boost::asio::buffer(out.data(), out.size()), ec);
        if(ec == bhttp::error::need_more && p.is_header_done() && !p.is_done())
        {
            // a body without a length ends with the connection
            p.put_eof(ec);
        }
        if(ec || !p.is_header_done())
        {
            std::fprintf(stderr, "response bytes: %.*s\n", int(out.size() > 400 ? 400 : out.size()), out.data());
            fail("the server sent a malformed response");
        }
        auto const code = p.get().result_int();
        if(code < 100 || code > 599)
            fail("a status code out of range");
        ++count;
        if(head)
            break;
        out.remove_prefix(used);
        if(used == 0)
            break;
    }
    return count;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    auto& srv = server();
    std::string_view const in(reinterpret_cast<char const*>(data), size);
    auto const before = handled.load();
    int fd = connect_to(srv.port());
    send_all(fd, in);
    ::shutdown(fd, SHUT_WR);
    auto const out = read_all(fd);
    ::close(fd);
    auto const responses = check_responses(in, out);
    // every request handled needed its own "\r\n\r\n" in the input
    std::size_t heads = 0;
    for(auto i = in.find("\r\n\r\n"); i != std::string_view::npos; i = in.find("\r\n\r\n", i + 4))
        ++heads;
    auto const now_handled = handled.load() - before;
    if(now_handled > heads)
        fail("more requests handled than the input holds");
    if(!in.empty() && responses == 0 && now_handled > 0)
        fail("a request was handled but no response came back");
    return 0;
}
