//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_TYPE_NAME_HPP
#define SPINDLE_DETAIL_TYPE_NAME_HPP

#include <spindle/detail/config.hpp>

#include <string>
#include <typeinfo>

namespace spindle::detail {

/** A demangled type name without its `(anonymous namespace)::` parts, for
    texts users read (failure reports, span names, chaos rule matching).
    Metric labels keep the full demangled name.

    @param t The type.
    @return E.g. `demo::explain` for `demo::(anonymous namespace)::explain`.
*/
SPINDLE_DECL std::string readable_type_name(std::type_info const& t);

} // namespace spindle::detail

#endif
