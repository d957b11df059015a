//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_TYPE_LIST_HPP
#define SPINDLE_DETAIL_TYPE_LIST_HPP

#include <type_traits>

namespace spindle::detail {

template<class... Ts>
struct type_list
{
};

template<class T, class List>
struct contains;

template<class T, class... Ts>
struct contains<T, type_list<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)>
{
};

template<class T, class List>
inline constexpr bool contains_v = contains<T, List>::value;

} // namespace spindle::detail

#endif
