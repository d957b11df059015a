//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TOOLS_BUILTIN_TOOLS_HPP
#define SPINDLE_TOOLS_BUILTIN_TOOLS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/tools/tool.hpp>

#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>

/** @file
    Ready-made tools: `echo`, for tests and benchmarks, and `calculator`,
    which language models are notoriously bad at doing in their heads.
*/

namespace spindle::tools {

/** Makes the `echo` tool: returns its parameters unchanged.

    Parameters: an object with a required string `message` (at most 4096
    characters); other members are allowed and echoed too.

    @return The tool.
    @throws std::bad_alloc if memory runs out.
*/
SPINDLE_DECL std::shared_ptr<tool> make_echo_tool();

/** Makes the `calculator` tool: evaluates an arithmetic expression.

    Parameters: `{"expression": "<text>"}` (1 to 1000 characters). Result:
    `{"result": <number>}`. See @ref evaluate_expression for the syntax. A
    malformed expression fails the call with `tool_error::invalid_params`
    and a message pointing at the offending character.

    @return The tool.
    @throws std::bad_alloc if memory runs out.
*/
SPINDLE_DECL std::shared_ptr<tool> make_calculator_tool();

/** Evaluates an arithmetic expression in double precision.

    Syntax: numbers (`12`, `0.5`, `1e-3`), `+ - * / %` (`%` is `fmod`),
    `^` (power, right-associative, binding tighter than unary minus:
    `-2^2` is -4), parentheses, the constants `pi` and `e`, and the
    functions `sqrt abs floor ceil round exp ln log10 sin cos tan asin
    acos atan` of one argument and `min max pow atan2` of two. Spaces are
    ignored. Nesting is limited to 64 levels.

    @param expr The expression.
    @param ec Set to `tool_error::invalid_params` for a syntax error, an
    unknown name, a division by zero or a result that is not finite; cleared
    otherwise.
    @param why If not null, receives what is wrong and where, e.g.
    `unexpected ')' at offset 4`.
    @return The value, or 0 on error.
*/
SPINDLE_DECL double evaluate_expression(std::string_view expr, boost::system::error_code& ec,
                                        std::string* why = nullptr);

} // namespace spindle::tools

#endif
