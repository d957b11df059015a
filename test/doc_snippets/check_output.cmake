#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# cmake -DPROGRAM=<exe> -DEXPECTED=<file> -P check_output.cmake
#
# Runs a documentation program and fails unless it exits with 0 and prints
# exactly what the documentation says it prints (the EXPECTED file).

execute_process(COMMAND "${PROGRAM}"
    OUTPUT_VARIABLE output
    RESULT_VARIABLE result
    TIMEOUT 100)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} failed (${result}); it printed:\n${output}")
endif()
file(READ "${EXPECTED}" expected)
if(NOT output STREQUAL expected)
    message(FATAL_ERROR "${PROGRAM} does not print what its documentation says.\n"
        "The documentation says:\n${expected}\nThe program printed:\n${output}")
endif()
