//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_DETAIL_CONFIG_HPP
#define SPINDLE_DETAIL_CONFIG_HPP

#include <boost/config.hpp>

// SPINDLE_DECL marks what the compiled libraries export. With
// SPINDLE_DYN_LINK the libraries are shared; SPINDLE_SOURCE is defined
// only while the library's own sources are compiled.
#if defined(SPINDLE_DYN_LINK)
# if defined(SPINDLE_SOURCE)
#  define SPINDLE_DECL BOOST_SYMBOL_EXPORT
# else
#  define SPINDLE_DECL BOOST_SYMBOL_IMPORT
# endif
#else
# define SPINDLE_DECL
#endif

#if __cplusplus < 202002L && !defined(_MSVC_LANG)
# error "Spindle requires C++20"
#endif

/// The cache line size used to keep hot atomics apart (no false sharing).
#define SPINDLE_CACHELINE 64

#endif
