//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/context.hpp>

#include <spindle/detail/ows.hpp>

#include <boost/system/system_error.hpp>

#include <random>

namespace spindle::trace {

namespace {

class category_impl final : public boost::system::error_category
{
public:
    constexpr category_impl() noexcept : boost::system::error_category(0x5370696e646c6554ULL) {}

    char const* name() const noexcept override { return "spindle.trace"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    char const* message(int ev, char*, std::size_t) const noexcept override
    {
        switch(static_cast<error>(ev))
        {
        case error::bad_traceparent: return "traceparent is not version-traceid-parentid-flags in lower-case hex";
        case error::bad_traceparent_version: return "traceparent version ff is invalid";
        case error::zero_trace_id: return "traceparent trace-id is all zeros";
        case error::zero_span_id: return "traceparent parent-id is all zeros";
        case error::bad_tracestate: return "tracestate has an invalid or duplicate list-member";
        case error::tracestate_too_long: return "tracestate has more than 32 list-members";
        case error::bad_option: return "invalid tracing option";
        case error::export_rejected: return "OTLP receiver rejected the spans";
        case error::export_failed: return "OTLP export failed (retries exhausted or deadline passed)";
        }
        return "unknown spindle.trace error";
    }
};
constexpr category_impl the_category;

constexpr char hex_digits[] = "0123456789abcdef";

int lc_hex(char c) noexcept
{
    if(c >= '0' && c <= '9')
        return c - '0';
    if(c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

template<std::size_t N>
bool parse_hex(std::string_view s, std::array<std::uint8_t, N>& out) noexcept
{
    if(s.size() != 2 * N)
        return false;
    for(std::size_t i = 0; i < N; ++i)
    {
        int const hi = lc_hex(s[2 * i]), lo = lc_hex(s[2 * i + 1]);
        if(hi < 0 || lo < 0)
            return false;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

template<std::size_t N>
std::string to_hex(std::array<std::uint8_t, N> const& a)
{
    std::string s(2 * N, '0');
    for(std::size_t i = 0; i < N; ++i)
    {
        s[2 * i] = hex_digits[a[i] >> 4];
        s[2 * i + 1] = hex_digits[a[i] & 15];
    }
    return s;
}

std::mt19937_64& rng() noexcept
{
    thread_local std::mt19937_64 g{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    return g;
}

template<std::size_t N>
void fill_random(std::array<std::uint8_t, N>& a) noexcept
{
    auto& g = rng();
    for(;;)
    {
        bool nonzero = false;
        for(std::size_t i = 0; i < N; i += 8)
        {
            std::uint64_t v = g();
            for(std::size_t j = 0; j < 8 && i + j < N; ++j, v >>= 8)
            {
                a[i + j] = static_cast<std::uint8_t>(v);
                nonzero |= a[i + j] != 0;
            }
        }
        if(nonzero)
            return;
    }
}

bool is_lcalpha(char c) noexcept { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_key_char(char c) noexcept
{
    return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

using spindle::detail::trim_ows;

} // namespace

boost::system::error_category const& error_category() noexcept
{
    return the_category;
}

std::string trace_id::to_hex() const { return trace::to_hex(bytes); }
std::string span_id::to_hex() const { return trace::to_hex(bytes); }

trace_id trace_id::random() noexcept
{
    trace_id t;
    fill_random(t.bytes);
    return t;
}

span_id span_id::random() noexcept
{
    span_id s;
    fill_random(s.bytes);
    return s;
}

std::optional<trace_id> trace_id::from_hex(std::string_view hex) noexcept
{
    trace_id t;
    if(!parse_hex(hex, t.bytes) || !t.valid())
        return std::nullopt;
    return t;
}

std::optional<span_id> span_id::from_hex(std::string_view hex) noexcept
{
    span_id s;
    if(!parse_hex(hex, s.bytes) || !s.valid())
        return std::nullopt;
    return s;
}

// key = simple-key / multi-tenant-key
// simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
// multi-tenant-key = tenant-id "@" system-id
// tenant-id = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
// system-id = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
bool valid_tracestate_key(std::string_view key) noexcept
{
    auto const at = key.find('@');
    auto rest_ok = [](std::string_view s) {
        for(char c : s)
            if(!is_key_char(c))
                return false;
        return true;
    };
    if(at == std::string_view::npos)
        return !key.empty() && key.size() <= 256 && is_lcalpha(key[0]) && rest_ok(key.substr(1));
    std::string_view const tenant = key.substr(0, at), system = key.substr(at + 1);
    return !tenant.empty() && tenant.size() <= 241 && (is_lcalpha(tenant[0]) || is_digit(tenant[0]))
        && rest_ok(tenant.substr(1)) && !system.empty() && system.size() <= 14 && is_lcalpha(system[0])
        && rest_ok(system.substr(1));
}

// value = 0*255(chr) nblk-chr ; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E ; chr = %x20 / nblk-chr
bool valid_tracestate_value(std::string_view value) noexcept
{
    if(value.empty() || value.size() > 256)
        return false;
    auto nblk = [](char c) { return c >= 0x21 && c <= 0x7e && c != ',' && c != '='; };
    for(char c : value)
        if(c != ' ' && !nblk(c))
            return false;
    return nblk(value.back());
}

trace_state trace_state::parse(std::string_view header, boost::system::error_code& ec)
{
    ec = {};
    trace_state st;
    while(true)
    {
        auto const comma = header.find(',');
        std::string_view const member = trim_ows(header.substr(0, comma));
        if(!member.empty())
        {
            auto const eq = member.find('=');
            if(eq == std::string_view::npos)
            {
                ec = error::bad_tracestate;
                return {};
            }
            std::string_view const key = member.substr(0, eq), value = member.substr(eq + 1);
            if(!valid_tracestate_key(key) || !valid_tracestate_value(value) || st.get(key))
            {
                ec = error::bad_tracestate;
                return {};
            }
            if(st.members_.size() == 32)
            {
                ec = error::tracestate_too_long;
                return {};
            }
            st.members_.emplace_back(std::string(key), std::string(value));
        }
        if(comma == std::string_view::npos)
            break;
        header.remove_prefix(comma + 1);
    }
    return st;
}

trace_state trace_state::parse(std::string_view header)
{
    boost::system::error_code ec;
    auto st = parse(header, ec);
    if(ec)
        throw boost::system::system_error(ec, "spindle::trace::trace_state::parse");
    return st;
}

std::string trace_state::to_header() const
{
    std::string s;
    for(auto const& [k, v] : members_)
    {
        if(!s.empty())
            s += ',';
        s += k;
        s += '=';
        s += v;
    }
    return s;
}

std::optional<std::string_view> trace_state::get(std::string_view key) const noexcept
{
    for(auto const& [k, v] : members_)
        if(k == key)
            return std::string_view(v);
    return std::nullopt;
}

void trace_state::set(std::string_view key, std::string_view value, boost::system::error_code& ec)
{
    if(!valid_tracestate_key(key) || !valid_tracestate_value(value))
    {
        ec = error::bad_tracestate;
        return;
    }
    ec = {};
    erase(key);
    members_.emplace(members_.begin(), std::string(key), std::string(value));
    if(members_.size() > 32)
        members_.pop_back();
}

void trace_state::erase(std::string_view key) noexcept
{
    for(auto it = members_.begin(); it != members_.end(); ++it)
        if(it->first == key)
        {
            members_.erase(it);
            return;
        }
}

span_context parse_traceparent(std::string_view h, boost::system::error_code& ec) noexcept
{
    ec = {};
    span_context ctx;
    // version "-" trace-id "-" parent-id "-" trace-flags: 2+1+32+1+16+1+2 = 55
    std::array<std::uint8_t, 1> version{};
    if(h.size() < 2 || !parse_hex(h.substr(0, 2), version))
    {
        ec = error::bad_traceparent;
        return {};
    }
    if(version[0] == 0xff)
    {
        ec = error::bad_traceparent_version;
        return {};
    }
    if(h.size() < 55 || (version[0] == 0 && h.size() != 55) || (h.size() > 55 && h[55] != '-'))
    {
        ec = error::bad_traceparent;
        return {};
    }
    std::array<std::uint8_t, 1> flags{};
    if(h[2] != '-' || h[35] != '-' || h[52] != '-' || !parse_hex(h.substr(3, 32), ctx.trace.bytes)
        || !parse_hex(h.substr(36, 16), ctx.span.bytes) || !parse_hex(h.substr(53, 2), flags))
    {
        ec = error::bad_traceparent;
        return {};
    }
    if(!ctx.trace.valid())
    {
        ec = error::zero_trace_id;
        return {};
    }
    if(!ctx.span.valid())
    {
        ec = error::zero_span_id;
        return {};
    }
    // a higher version's other flags may mean something else: keep only sampled
    ctx.flags = version[0] == 0 ? flags[0] : (flags[0] & trace_flags::sampled);
    ctx.remote = true;
    return ctx;
}

span_context parse_traceparent(std::string_view header)
{
    boost::system::error_code ec;
    auto ctx = parse_traceparent(header, ec);
    if(ec)
        throw boost::system::system_error(ec, "spindle::trace::parse_traceparent");
    return ctx;
}

std::optional<span_context> extract(std::string_view traceparent, std::string_view tracestate) noexcept
{
    boost::system::error_code ec;
    span_context ctx = parse_traceparent(traceparent, ec);
    if(ec)
        return std::nullopt;
    try
    {
        ctx.state = trace_state::parse(tracestate, ec);
    }
    catch(...)
    {
        ctx.state = {};
    }
    return ctx;
}

std::string format_traceparent(span_context const& ctx)
{
    std::string s;
    s.reserve(55);
    s += "00-";
    s += ctx.trace.to_hex();
    s += '-';
    s += ctx.span.to_hex();
    s += '-';
    std::uint8_t const f = ctx.flags & (trace_flags::sampled | trace_flags::random);
    s += hex_digits[f >> 4];
    s += hex_digits[f & 15];
    return s;
}

} // namespace spindle::trace
