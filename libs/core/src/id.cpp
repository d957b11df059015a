//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/id.hpp>

#include <boost/uuid/random_generator.hpp>

#include <algorithm>
#include <atomic>
#include <ostream>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
# include <pthread.h>
# define SPINDLE_ID_HAS_ATFORK 1
#endif

namespace spindle::detail {

std::string quote_input(std::string_view s);

namespace {

// A forked child inherits the parent's per-thread generator state and would
// repeat the parent's ids. The child bumps this counter and every thread
// reseeds when it sees a new value; the check is one relaxed load per id.
std::atomic<unsigned> fork_generation{0};

#if defined(SPINDLE_ID_HAS_ATFORK)
void on_fork_child() noexcept
{
    fork_generation.fetch_add(1, std::memory_order_relaxed);
}

[[maybe_unused]] int const atfork_registered
    = ::pthread_atfork(nullptr, nullptr, &on_fork_child);
#endif

// boost::uuids::random_generator would make a getrandom() call per id; a
// Mersenne Twister seeded once per thread costs a few nanoseconds instead.
struct thread_generator
{
    boost::uuids::random_generator_mt19937 generate;
    unsigned generation = fork_generation.load(std::memory_order_relaxed);
};

constexpr char hex_digits[] = "0123456789abcdef";

// Offsets of the dashes in the canonical form.
constexpr bool is_dash_position(std::size_t i) noexcept
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

int hex_value(char c) noexcept
{
    if(c >= '0' && c <= '9')
        return c - '0';
    if(c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if(c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

// Bad input ends up in exception messages and from there in logs: keep it
// short and printable so that it can neither flood nor forge log lines.
std::string quote_input(std::string_view s)
{
    constexpr std::size_t max_shown = 64;
    std::string out;
    out.reserve(std::min(s.size(), max_shown) + 8);
    out += '"';
    for(std::size_t i = 0; i < s.size() && i < max_shown; ++i)
    {
        auto const c = static_cast<unsigned char>(s[i]);
        if(c == '"' || c == '\\')
        {
            out += '\\';
            out += static_cast<char>(c);
        }
        else if(c < 0x20 || c >= 0x7f)
        {
            out += "\\x";
            out += hex_digits[c >> 4];
            out += hex_digits[c & 0xf];
        }
        else
        {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    if(s.size() > max_shown)
        out += "...";
    return out;
}

boost::uuids::uuid generate_uuid()
{
    thread_local thread_generator tg;
    unsigned const generation = fork_generation.load(std::memory_order_relaxed);
    if(tg.generation != generation) [[unlikely]]
    {
        tg.generate = boost::uuids::random_generator_mt19937();
        tg.generation = generation;
    }
    return tg.generate();
}

void uuid_to_chars(boost::uuids::uuid const& u, char* out) noexcept
{
    std::size_t byte = 0;
    for(std::size_t i = 0; i < 36; ++i)
    {
        if(is_dash_position(i))
        {
            out[i] = '-';
            continue;
        }
        out[i] = hex_digits[u.data[byte] >> 4];
        out[++i] = hex_digits[u.data[byte] & 0xf];
        ++byte;
    }
}

bool uuid_from_chars(std::string_view s, boost::uuids::uuid& u) noexcept
{
    if(s.size() != 36)
        return false;
    boost::uuids::uuid parsed;
    std::size_t byte = 0;
    for(std::size_t i = 0; i < 36; ++i)
    {
        if(is_dash_position(i))
        {
            if(s[i] != '-')
                return false;
            continue;
        }
        int const high = hex_value(s[i]);
        int const low = hex_value(s[i + 1]);
        if(high < 0 || low < 0)
            return false;
        parsed.data[byte++] = static_cast<std::uint8_t>((high << 4) | low);
        ++i;
    }
    u = parsed;
    return true;
}

std::ostream& write_uuid(std::ostream& os, boost::uuids::uuid const& u)
{
    char buf[36];
    uuid_to_chars(u, buf);
    return os << std::string_view(buf, sizeof buf);
}

void throw_bad_id(std::string_view type_name, std::string_view input)
{
    std::string what = "spindle::";
    what += type_name;
    what += "::from_string: ";
    what += quote_input(input);
    what += " is not a UUID (expected the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)";
    throw_error(make_error_code(error::invalid_argument), what.c_str());
}

} // namespace spindle::detail
