//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_HPP
#define SPINDLE_TOOLS_HPP

// The tool bus (`spindle::tools`, link target `spindle::tools`): tools with
// JSON schemas, permissions, timeouts and metrics, and agents as tools.

#include <spindle/tools/agent_tool.hpp>
#include <spindle/tools/builtin_tools.hpp>
#include <spindle/tools/describe.hpp>
#include <spindle/tools/error.hpp>
#include <spindle/tools/json_schema.hpp>
#include <spindle/tools/tool.hpp>
#include <spindle/tools/tool_bus.hpp>
#include <spindle/tools/tool_schema.hpp>

#endif
