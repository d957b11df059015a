//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Built against the installed package: spindle::json converts core types.

#include <spindle/json.hpp>
#include <spindle/core.hpp>

#include <boost/json/serialize.hpp>

int main()
{
    auto const v = boost::json::value_from(spindle::overflow_policy::drop_newest);
    return boost::json::serialize(v) == "\"drop_newest\"" ? 0 : 1;
}
