#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# Helpers shared by Spindle's CMake files. A new component is one call:
#
#   spindle_add_component(<name>
#       [SOURCES <file>...]         compiled sources; none: an INTERFACE target
#       [LINK <target>...]          what its users link too (PUBLIC)
#       [DEPENDENCIES <spec>...]    find_package() arguments, one string each,
#                                   that the installed package needs for it
#       [PKG_CONFIG_REQUIRES <m>...] pkg-config modules its users need (tbb)
#       [PKG_CONFIG_LIBS <flag>...]) what else its users link, as compiler
#                                   flags (-lboost_json), for its .pc file
#
# It creates `spindle_<name>` (alias and exported name `spindle::<name>`),
# its install rules, and registers <name> with the config package written
# by spindle_install_package().

include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SPINDLE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/spindle"
    CACHE STRING "Where the spindle CMake package is installed (relative to the prefix)")
mark_as_advanced(SPINDLE_INSTALL_CMAKEDIR)

function(spindle_add_component name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LINK;DEPENDENCIES;PKG_CONFIG_REQUIRES;PKG_CONFIG_LIBS")
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "spindle_add_component(${name}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
    endif()
    set(target spindle_${name})

    if(arg_SOURCES)
        add_library(${target} ${arg_SOURCES})
        set(usage PUBLIC)
        target_compile_definitions(${target} PRIVATE SPINDLE_SOURCE)
        get_target_property(type ${target} TYPE)
        if(type STREQUAL "SHARED_LIBRARY")
            # SPINDLE_DECL becomes an export in our sources, an import in users'.
            target_compile_definitions(${target} PUBLIC SPINDLE_DYN_LINK)
            # Before 1.0 a minor release may break the ABI.
            set_target_properties(${target} PROPERTIES
                VERSION ${PROJECT_VERSION}
                SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
        endif()
    else()
        add_library(${target} INTERFACE)
        set(usage INTERFACE)
    endif()
    add_library(spindle::${name} ALIAS ${target})
    set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})

    target_compile_features(${target} ${usage} cxx_std_20)
    target_include_directories(${target} ${usage}
        "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
        "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
    if(arg_LINK)
        target_link_libraries(${target} ${usage} ${arg_LINK})
    endif()

    install(TARGETS ${target}
        EXPORT spindle-${name}-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(EXPORT spindle-${name}-targets
        NAMESPACE spindle::
        DESTINATION ${SPINDLE_INSTALL_CMAKEDIR})

    # The components it links (spindle::<c> in LINK): the installed package
    # loads them with it, so that asking for it alone is enough.
    set(requires)
    foreach(link IN LISTS arg_LINK)
        if(link MATCHES "^spindle::(.+)$")
            list(APPEND requires ${CMAKE_MATCH_1})
        endif()
    endforeach()
    if(NOT name STREQUAL "core" AND NOT "core" IN_LIST requires)
        list(PREPEND requires core)
    endif()

    set_property(GLOBAL APPEND PROPERTY SPINDLE_COMPONENTS ${name})
    set_property(GLOBAL PROPERTY SPINDLE_DEPENDENCIES_${name} "${arg_DEPENDENCIES}")
    set_property(GLOBAL PROPERTY SPINDLE_REQUIRES_${name} "${requires}")

    spindle_install_pkg_config(${name} ${target} "${requires}"
        "${arg_PKG_CONFIG_REQUIRES}" "${arg_PKG_CONFIG_LIBS}")
endfunction()

# Writes and installs spindle-<name>.pc, for builds that do not use CMake
# (b2, make): `pkg-config --cflags --libs spindle-http` gives what a program
# using spindle::http needs (the components it links come as Requires).
# The prefix is found relative to the .pc file, so the installed tree can move.
function(spindle_install_pkg_config name target requires pc_requires pc_libs)
    set(pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
    file(RELATIVE_PATH to_prefix "/prefix/${pc_dir}" "/prefix")
    string(REGEX REPLACE "/$" "" to_prefix "${to_prefix}")
    set(modules)
    foreach(c IN LISTS requires)
        list(APPEND modules spindle-${c})
    endforeach()
    list(APPEND modules ${pc_requires})
    list(JOIN modules ", " modules)
    list(JOIN pc_libs " " libs)
    set(cflags "-I\${includedir}")
    get_target_property(type ${target} TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
        set(libs "-L\${libdir} -l${target} ${libs}")
        if(type STREQUAL "SHARED_LIBRARY")
            string(APPEND cflags " -DSPINDLE_DYN_LINK")
        endif()
    endif()
    if(name STREQUAL "core")
        string(APPEND cflags " -DBOOST_LOG_DYN_LINK -pthread")
    endif()
    string(STRIP "${libs}" libs)
    set(file "${PROJECT_BINARY_DIR}/pkgconfig/spindle-${name}.pc")
    file(CONFIGURE OUTPUT "${file}" CONTENT [=[
prefix=${pcfiledir}/@to_prefix@
includedir=${prefix}/@CMAKE_INSTALL_INCLUDEDIR@
libdir=${prefix}/@CMAKE_INSTALL_LIBDIR@

Name: spindle-@name@
Description: Spindle, an actor framework on Boost.Fiber: the @name@ component (compile with -std=c++20)
Version: @PROJECT_VERSION@
Requires: @modules@
Cflags: @cflags@
Libs: @libs@
]=] @ONLY)
    install(FILES "${file}" DESTINATION "${pc_dir}")
endfunction()

# spindle_link_by_prefix(<target> <name> [<prefix>=<link-target>]...)
#
# Links <target> to spindle::core, and to each <link-target> whose <prefix>
# starts <name>: `json_value.cpp` with "json=spindle::json" also links
# spindle::json. Tests and examples are named after what they use.
function(spindle_link_by_prefix target name)
    target_link_libraries(${target} PRIVATE spindle::core)
    foreach(rule IN LISTS ARGN)
        if(NOT rule MATCHES "^([^=]+)=(.+)$")
            message(FATAL_ERROR "spindle_link_by_prefix: '${rule}' is not <prefix>=<target>")
        endif()
        set(prefix "${CMAKE_MATCH_1}")
        set(link "${CMAKE_MATCH_2}")
        string(LENGTH "${prefix}" length)
        string(SUBSTRING "${name}" 0 ${length} head)
        if(head STREQUAL prefix)
            if(NOT TARGET ${link})
                message(FATAL_ERROR "'${name}' needs ${link} (its name starts with '${prefix}'), "
                    "but this build defines no such target")
            endif()
            target_link_libraries(${target} PRIVATE ${link})
        endif()
    endforeach()
endfunction()

# Installs the public headers and the `spindle` config package covering
# every component added so far. Call it once, after all components.
function(spindle_install_package)
    install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")

    get_property(components GLOBAL PROPERTY SPINDLE_COMPONENTS)
    list(JOIN components " " names)
    set(SPINDLE_PACKAGE_COMPONENTS "set(_spindle_components ${names})\n")
    foreach(name IN LISTS components)
        get_property(deps GLOBAL PROPERTY SPINDLE_DEPENDENCIES_${name})
        string(APPEND SPINDLE_PACKAGE_COMPONENTS "set(_spindle_dependencies_${name}")
        foreach(dep IN LISTS deps)
            string(APPEND SPINDLE_PACKAGE_COMPONENTS " [==[${dep}]==]")
        endforeach()
        string(APPEND SPINDLE_PACKAGE_COMPONENTS ")\n")
        get_property(requires GLOBAL PROPERTY SPINDLE_REQUIRES_${name})
        list(JOIN requires " " requires)
        string(APPEND SPINDLE_PACKAGE_COMPONENTS "set(_spindle_requires_${name} ${requires})\n")
    endforeach()

    set(dir "${PROJECT_BINARY_DIR}/cmake")
    configure_package_config_file(
        "${PROJECT_SOURCE_DIR}/cmake/spindle-config.cmake.in"
        "${dir}/spindle-config.cmake"
        INSTALL_DESTINATION ${SPINDLE_INSTALL_CMAKEDIR}
        NO_SET_AND_CHECK_MACRO)
    # Before 1.0 only the same minor version is compatible.
    write_basic_package_version_file("${dir}/spindle-config-version.cmake"
        COMPATIBILITY SameMinorVersion)
    install(FILES "${dir}/spindle-config.cmake" "${dir}/spindle-config-version.cmake"
        DESTINATION ${SPINDLE_INSTALL_CMAKEDIR})
endfunction()
