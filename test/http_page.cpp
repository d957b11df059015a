//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The live page's files, as compiled into the library (the browser test,
// http_page_chromium, checks what they do).

#include <spindle/http/page.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

BOOST_AUTO_TEST_CASE(three_files_nothing_from_elsewhere)
{
    auto const assets = spindle::http::page_assets();
    BOOST_REQUIRE(assets.size() == 3u);
    BOOST_TEST(assets[0].path == "/");
    BOOST_TEST(assets[0].content_type == "text/html; charset=utf-8");
    BOOST_TEST(assets[1].path == "/static/spindle.css");
    BOOST_TEST(assets[2].path == "/static/spindle.js");
    for(auto const& a : assets)
    {
        BOOST_TEST_CONTEXT(a.path)
        {
            BOOST_TEST(!a.body.empty());
            // no CDN, no remote font or script: the page works offline. The
            // one http:// allowed is SVG's namespace name (an identifier
            // createElementNS needs, never fetched).
            std::string body(a.body);
            for(std::string_view const svg_ns = "http://www.w3.org/2000/svg";;)
            {
                auto const at = body.find(svg_ns);
                if(at == std::string::npos)
                    break;
                body.erase(at, svg_ns.size());
            }
            BOOST_TEST(body.find("http://") == std::string::npos);
            BOOST_TEST(a.body.find("https://") == std::string_view::npos);
            BOOST_TEST(a.body.find("//cdn") == std::string_view::npos);
        }
    }
    // the page loads its own script and style, and nothing inline that the
    // Content-Security-Policy would block
    BOOST_TEST(assets[0].body.find("<script src=\"/static/spindle.js\"") != std::string_view::npos);
    BOOST_TEST(assets[0].body.find("href=\"/static/spindle.css\"") != std::string_view::npos);
    BOOST_TEST(assets[0].body.find("<script>") == std::string_view::npos);
    BOOST_TEST(assets[0].body.find("style=") == std::string_view::npos);
    BOOST_TEST(spindle::http::page_security_policy.find("default-src 'self'") == 0u);
    // the script polls the JSON view and writes text, not markup, from it
    BOOST_TEST(assets[2].body.find("fetch('/api/system'") != std::string_view::npos);
    BOOST_TEST(assets[2].body.find("innerHTML") == std::string_view::npos);
}
