#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# SPINDLE_SANITIZE: a comma-separated list of sanitizers (address, undefined,
# thread; empty: none) that every target of this build is compiled and
# linked with. tools/test --sanitize=... configures a build directory of its
# own with it.
#
# Boost.Fiber switches stacks behind the sanitizers' backs. Debian's
# Boost.Fiber and Boost.Context are built on the fcontext back end without
# sanitizer annotations, and the project uses Debian's packages only (no
# copy of Boost's sources), so this build links them as they are, and
# announces their stack switches to ASan or TSan from outside: every
# executable gets wrappers of libboost_context's switch functions (and, for
# TSan, of Boost.Fiber's locks) (test/sanitize/fiber_switch.cpp;
# doc/reliability.md).
#
# Sets SPINDLE_BOOST_FIBER: the target spindle::core links for Boost.Fiber.

include_guard(GLOBAL)

set(SPINDLE_SANITIZE "" CACHE STRING
    "Sanitizers to build with, comma-separated: address, undefined, thread (empty: none)")
set(SPINDLE_BOOST_FIBER Boost::fiber)

if(SPINDLE_SANITIZE)
    string(REPLACE "," ";" spindle_sanitizers "${SPINDLE_SANITIZE}")
    foreach(s IN LISTS spindle_sanitizers)
        if(NOT s MATCHES "^(address|undefined|thread)$")
            message(FATAL_ERROR "SPINDLE_SANITIZE: unknown sanitizer '${s}' "
                "(expected a comma-separated list of address, undefined, thread)")
        endif()
    endforeach()
    if("address" IN_LIST spindle_sanitizers AND "thread" IN_LIST spindle_sanitizers)
        message(FATAL_ERROR "SPINDLE_SANITIZE: address and thread cannot be combined")
    endif()

    set(flags "-fsanitize=${SPINDLE_SANITIZE}" -fno-omit-frame-pointer)
    if("undefined" IN_LIST spindle_sanitizers)
        # A finding fails the test instead of scrolling by in its log.
        list(APPEND flags -fno-sanitize-recover=undefined)
        # Clang before 15 cannot compile a coroutine with UBSan's `function`
        # check (its prologue data): "error in backend: Cannot represent a
        # difference across sections" (LLVM #49689), e.g. test/async_ask.cpp.
        # Debian 12's Clang is 14: that one check is left out there.
        if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 15)
            list(APPEND flags -fno-sanitize=function)
        endif()
    endif()
    add_compile_options(${flags})
    add_link_options("-fsanitize=${SPINDLE_SANITIZE}")

    if("address" IN_LIST spindle_sanitizers OR "thread" IN_LIST spindle_sanitizers)
        # Boost.Context's fcontext switches, announced to ASan or TSan: definitions
        # of make/jump/ontop_fcontext that wrap libboost_context's, linked
        # into every executable (test/sanitize/fiber_switch.cpp says why).
        # Not instrumented itself; kept out of the installed targets.
        add_library(spindle_sanitizer_fibers OBJECT
            "${CMAKE_CURRENT_LIST_DIR}/../test/sanitize/fiber_switch.cpp")
        target_compile_options(spindle_sanitizer_fibers PRIVATE -fno-sanitize=all)
        if("thread" IN_LIST spindle_sanitizers)
            # and Boost.Fiber's mutexes, announced to TSan (the same file)
            target_compile_definitions(spindle_sanitizer_fibers PRIVATE SPINDLE_TSAN_FIBER_MUTEXES=1)
        endif()
        target_link_libraries(spindle_sanitizer_fibers INTERFACE ${CMAKE_DL_LIBS})
        link_libraries("$<BUILD_INTERFACE:spindle_sanitizer_fibers>")
    endif()

endif()

# SPINDLE_FUZZ: builds test/fuzz/ as libFuzzer programs (Clang only; Debian:
# clang and libfuzzer-14-dev). Every target gets libFuzzer's coverage
# instrumentation, so that the fuzzers see inside Spindle's libraries.
option(SPINDLE_FUZZ "Build the libFuzzer targets of test/fuzz (needs Clang)" OFF)
if(SPINDLE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "SPINDLE_FUZZ needs Clang (libFuzzer), not ${CMAKE_CXX_COMPILER_ID}: "
            "configure with -DCMAKE_CXX_COMPILER=clang++-14")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()
