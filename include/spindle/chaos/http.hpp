//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_CHAOS_HTTP_HPP
#define SPINDLE_CHAOS_HTTP_HPP

/// `/api/chaos` and a live-page section (header-only: link spindle::chaos and spindle::http).

#include <spindle/chaos.hpp>
#include <spindle/http/system_server.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace spindle::chaos {

/** Serves `c` on `web`: `GET /api/chaos` returns `c.to_json()`;
    `POST /api/chaos` with a JSON body (see @ref controller::update)
    switches injection on or off and replaces the seed or the rules,
    answering the new state, or 400 with "field: problem". Also adds a
    `chaos` section to `/api/system` and the live page (enabled, rules,
    what each injected). Call it only where chaos is meant to be allowed:
    nothing is served otherwise. Before `web.start()`.

    @param web The server.
    @param c The controller; must outlive the server.
    @throws spindle::system_error if the route or the section exists.
*/
inline void serve(spindle::http::system_server& web, controller& c)
{
    namespace http = spindle::http;
    web.http().route("/api/chaos", {http::verb::get, http::verb::post}, [&c](http::request const& req) {
        if(req.method() == http::verb::post)
        {
            boost::system::error_code ec;
            boost::json::value const body = boost::json::parse(req.body(), ec);
            std::string problem;
            if(ec)
                problem = "body: not JSON (" + ec.message() + ")";
            else
                c.update(body, problem);
            if(!problem.empty())
                return http::make_response(req, http::status::bad_request, problem + "\n");
        }
        auto res = http::make_response(req, http::status::ok, boost::json::serialize(c.to_json()), "application/json");
        res.set(boost::beast::http::field::cache_control, "no-store");
        return res;
    });
    web.add_section("chaos", [&c] { return c.to_json(); });
}

} // namespace spindle::chaos

#endif
