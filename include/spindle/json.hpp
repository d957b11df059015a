//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_JSON_HPP
#define SPINDLE_JSON_HPP

// Boost.JSON conversions of Spindle's core types. This is the header of the
// `spindle::json` interface target: core itself never includes Boost.JSON, so
// only programs that want JSON include this header and link Boost.JSON.
//
// Each type gets the three customisation points of Boost.JSON 1.81:
// `value_from`, `value_to` (throws a `system_error` whose message says what
// was expected and what was found) and `try_value_to` (returns a
// `boost::system::result`, never throws for bad input). Containers of these
// types (`std::vector<task_id>`, `std::map<std::string, health_status>`, ...)
// convert through Boost.JSON's generic conversions.
//
// One header per group of types, under <spindle/json/>: ids
// (<spindle/json/id.hpp>) and named enums (<spindle/json/enums.hpp>).

#include <spindle/json/enums.hpp>
#include <spindle/json/id.hpp>

#endif
