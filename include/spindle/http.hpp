//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_HPP
#define SPINDLE_HTTP_HPP

/** @file
    Everything of the HTTP component (link target `spindle::http`): the
    embeddable Beast server, `/health`, `/livez`, `/readyz`, `/metrics`,
    `/api/system` and the live page (see doc/http.md).
*/

#include <spindle/http/health.hpp>
#include <spindle/http/health_status.hpp>
#include <spindle/http/page.hpp>
#include <spindle/http/prometheus.hpp>
#include <spindle/http/sections.hpp>
#include <spindle/http/server.hpp>
#include <spindle/http/system_json.hpp>
#include <spindle/http/system_server.hpp>

#endif
