//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::http links and serves.

#include <spindle/http.hpp>
#include <spindle/core.hpp>

int main()
{
    spindle::system sys;
    spindle::http::system_server web(sys); // 127.0.0.1, a free port
    web.start();
    bool const ok = web.port() != 0 && web.health().live();
    web.stop();
    return ok ? 0 : 1;
}
