#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# cmake -DBUILD_DIR=... -DPREFIX=... -DCONSUMER_DIR=... [-DCONFIG=...] -P install.cmake
#
# Installs the build into a fresh PREFIX (so files removed from the project
# cannot linger there) and clears the consumer's build directory.

foreach(var IN ITEMS BUILD_DIR PREFIX CONSUMER_DIR)
    if(NOT ${var})
        message(FATAL_ERROR "install.cmake: -D${var}=... is required")
    endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}" "${CONSUMER_DIR}")
set(config_args)
if(CONFIG)
    set(config_args --config "${CONFIG}")
endif()
execute_process(
    COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
    RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${result})")
endif()
