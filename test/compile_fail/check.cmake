#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# cmake -DCOMPILE_COMMANDS=<compile_commands.json> -DSOURCE=<file.cpp>
#       -DOUTPUT_DIR=<scratch dir> -P check.cmake
#
# Compiles SOURCE with the command CMake generated for it and passes only if
#   (a) the compilation fails,
#   (b) the output has exactly one error line, and
#   (c) that line contains every <text> of the source's
#       `// expect-error: <text>` lines (at least one is required: a test
#       that does not say which error it expects would pass on any error).
# An error line is one containing `error:` (so `fatal error:` counts) that
# is not part of a qualified name such as `spindle::error::name_taken`.

foreach(var IN ITEMS COMPILE_COMMANDS SOURCE OUTPUT_DIR)
    if(NOT ${var})
        message(FATAL_ERROR "check.cmake: -D${var}=... is required")
    endif()
endforeach()

# Splits TEXT into lines in OUT. Lines are stored encoded, because `;` and
# unbalanced brackets (both frequent in compiler output) break CMake lists;
# decode each one with _decode_line before looking at it.
function(_split_lines out text)
    string(REPLACE "\r" "" text "${text}")
    string(REPLACE ";" "@SEMICOLON@" text "${text}")
    string(REPLACE "[" "@LBRACKET@" text "${text}")
    string(REPLACE "]" "@RBRACKET@" text "${text}")
    string(REPLACE "\n" ";" text "${text}")
    set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(_decode_line out line)
    string(REPLACE "@SEMICOLON@" ";" line "${line}")
    string(REPLACE "@LBRACKET@" "[" line "${line}")
    string(REPLACE "@RBRACKET@" "]" line "${line}")
    set(${out} "${line}" PARENT_SCOPE)
endfunction()

get_filename_component(source "${SOURCE}" REALPATH)
get_filename_component(name "${source}" NAME)

# What the test expects.
file(READ "${source}" text)
_split_lines(lines "${text}")
set(expected)
foreach(line IN LISTS lines)
    if(line MATCHES "^[ \t]*//[ \t]*expect-error:[ \t]*(.*[^ \t])")
        list(APPEND expected "${CMAKE_MATCH_1}")
    endif()
endforeach()
if(NOT expected)
    message(FATAL_ERROR "${name}: no `// expect-error: <text>` line says which error the test expects")
endif()

# The command CMake would build it with (its target is never built).
if(NOT EXISTS "${COMPILE_COMMANDS}")
    message(FATAL_ERROR "${name}: ${COMPILE_COMMANDS} does not exist (is the generator Ninja or Makefiles?)")
endif()
file(READ "${COMPILE_COMMANDS}" json)
string(JSON count LENGTH "${json}")
set(command)
if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
        string(JSON file GET "${json}" ${i} file)
        string(JSON directory GET "${json}" ${i} directory)
        get_filename_component(file "${file}" REALPATH BASE_DIR "${directory}")
        if(file STREQUAL source)
            string(JSON command GET "${json}" ${i} command)
            break()
        endif()
    endforeach()
endif()
if(NOT command)
    message(FATAL_ERROR "${name}: no compile command for ${source} in ${COMPILE_COMMANDS} (re-run cmake)")
endif()

# Same flags, but the object and dependency files go to our scratch
# directory, and diagnostics are uncoloured so they can be matched.
separate_arguments(args UNIX_COMMAND "${command}")
set(compile)
set(skip_next FALSE)
set(output_next FALSE)
foreach(arg IN LISTS args)
    if(skip_next)
        set(skip_next FALSE)
    elseif(output_next)
        set(output_next FALSE)
        list(APPEND compile "${OUTPUT_DIR}/${name}.o")
    elseif(arg STREQUAL "-o")
        set(output_next TRUE)
        list(APPEND compile "${arg}")
    elseif(arg MATCHES "^-(MT|MF|MQ)$")
        set(skip_next TRUE)
    elseif(NOT arg MATCHES "^-M(M)?D$")
        list(APPEND compile "${arg}")
    endif()
endforeach()
list(GET compile 0 compiler)
if(compiler MATCHES "(g\\+\\+|c\\+\\+|gcc|clang|clang\\+\\+)(-[0-9.]+)?$")
    list(APPEND compile -fdiagnostics-color=never)
endif()

file(REMOVE_RECURSE "${OUTPUT_DIR}")
file(MAKE_DIRECTORY "${OUTPUT_DIR}")
execute_process(
    COMMAND ${compile}
    WORKING_DIRECTORY "${directory}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)

list(JOIN compile " " shown)
set(report "command: ${shown}\nexpected exactly one error line, containing:")
foreach(e IN LISTS expected)
    _decode_line(e "${e}")
    string(APPEND report "\n    ${e}")
endforeach()
string(APPEND report "\n----- compiler output -----\n${output}---------------------------")

# Prints the whole report unformatted (FATAL_ERROR would re-wrap the
# compiler's lines), then fails with REASON.
function(_fail reason)
    message(NOTICE "${report}")
    message(FATAL_ERROR "${name}: ${reason}")
endfunction()

if(result EQUAL 0)
    _fail("compiled, but it must not")
endif()

# Error lines are kept as plain strings, not a list: they may contain `;`.
_split_lines(lines "${output}")
set(error_count 0)
set(error_line "")
foreach(line IN LISTS lines)
    _decode_line(line "${line}")
    if(line MATCHES "(^|[^:A-Za-z0-9_])error:($|[^:])")
        math(EXPR error_count "${error_count} + 1")
        set(error_line "${line}")
    endif()
endforeach()
if(NOT error_count EQUAL 1)
    _fail("${error_count} error lines; exactly one is expected")
endif()

set(missing "")
foreach(e IN LISTS expected)
    _decode_line(e "${e}")
    string(FIND "${error_line}" "${e}" at)
    if(at EQUAL -1)
        string(APPEND missing "\n    \"${e}\"")
    endif()
endforeach()
if(missing)
    _fail("the error line\n  ${error_line}\nlacks${missing}")
endif()

message(STATUS "${name}: fails as expected: ${error_line}")
