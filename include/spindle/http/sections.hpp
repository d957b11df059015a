//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_HTTP_SECTIONS_HPP
#define SPINDLE_HTTP_SECTIONS_HPP

#include <spindle/detail/config.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

/** @file
    Sections of the application's own in `GET /api/system`: a component the
    HTTP library does not know (a tool bus, a connection pool, a cache)
    shows its state on the live page by registering a function that returns
    its JSON view.

    @code
    web.add_section("tools", [&bus] { return spindle::tools::describe(bus); });
    @endcode

    `/api/system` then carries `"sections": {"tools": ...}`, and the live
    page draws a panel per section: arrays of objects as tables, objects as
    key/value rows.

    A section is called each time the document is built: on the HTTP
    server's I/O thread, while the request waits. It must be quick and must
    not block (read atomics or a snapshot, as the figures of the system
    itself are read); something slow to obtain is kept fresh elsewhere (a
    timer, a health check) and the section returns the latest value. An
    exception it throws becomes `{"error": "<what()>"}` for that section
    alone: the rest of the document is served as usual.
*/

namespace spindle::http {

/** Computes one section: its JSON view, built afresh on each call.
    It may be called by several threads at once (several requests, several
    I/O threads).
*/
using section_function = std::function<boost::json::value()>;

/** Tells whether `name` may name a section: 1 to 64 characters, each a
    letter, a digit, an underscore, a hyphen, a colon or a period, the first a letter or a digit.

    @param name The name.
    @return True if it is valid.
*/
SPINDLE_DECL bool is_valid_section_name(std::string_view name) noexcept;

/** The named sections of a `/api/system` document (see the file comment),
    in the order they were added.

    @par Thread safety
    Every member may be called concurrently from any thread: sections may be
    added and removed while documents are being built. Building reads an
    immutable list published through an atomic `shared_ptr`, so it takes no
    lock that a writer holds; writers serialise on a mutex of their own.
*/
class SPINDLE_DECL section_registry
{
public:
    /// An empty registry.
    section_registry();

    /// Destroys the sections. No call may be in progress (see @ref remove).
    ~section_registry();

    section_registry(section_registry const&) = delete;
    section_registry& operator=(section_registry const&) = delete;

    /** Adds a section, included in every document built from now on.

        @param name Its key under `sections` (see @ref is_valid_section_name).
        @param fn The function that computes it.
        @param ec `error::invalid_argument` for an invalid name or an empty
        `fn`, `error::name_taken` if a section of that name exists; cleared
        on success.
        @throws std::bad_alloc if memory runs out.
    */
    void add(std::string name, section_function fn, boost::system::error_code& ec);

    /** Throwing form of @ref add.
        @param name Its key under `sections`.
        @param fn The function that computes it.
        @throws spindle::system_error as the `error_code` form, with a
        message naming the section.
    */
    void add(std::string name, section_function fn);

    /** Removes a section. Documents built from now on leave it out; calls
        of its function in progress (other requests) are waited for, so once
        this returns the function is not called again and what it refers to
        may be destroyed. Called from inside a section of this registry, it
        does not wait.

        @param name The section.
        @return False if there was no such section.
        @par Thread safety
        Any thread; it may wait as long as one call of the section takes,
        so call it from a plain thread rather than from an actor.
    */
    bool remove(std::string_view name);

    /// @return True if a section of that name is registered.
    bool contains(std::string_view name) const;

    /// @return The names of the sections, in the order they were added.
    std::vector<std::string> names() const;

    /// @return How many sections are registered.
    std::size_t size() const noexcept;

    /** Calls every section and returns their values by name, in the order
        they were added. A section that throws is `{"error": "<what()>"}`
        (`"unknown exception"` for what is not a `std::exception`).

        @return The object of sections.
        @throws std::bad_alloc if memory runs out while building it.
    */
    boost::json::object render() const;

    /// @cond
    struct impl;
    /// @endcond

private:
    std::shared_ptr<impl> impl_;
};

} // namespace spindle::http

#endif
