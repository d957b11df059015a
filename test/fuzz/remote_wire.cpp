//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Fuzz target: what a node reads off NATS (libs/remote, doc/remote.md): the
// binary frame `\0SPN | name length | name | version | payload`, or else a
// JSON payload, decoded as a JSON message type and as a binary one.
// Checked: a frame that parses writes back to the same bytes; a decode
// either succeeds or throws a std::exception (the node counts it as a
// decode error), and what decodes survives encode + decode.

#include <spindle/remote/detail/frame.hpp>
#include <spindle/remote/message_traits.hpp>

#include <boost/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

struct order
{
    std::string item;
    std::int64_t quantity = 0;
    std::vector<double> prices;
    bool operator==(order const&) const = default;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, order const& o)
{
    jv = {{"item", o.item}, {"quantity", o.quantity}, {"prices", boost::json::value_from(o.prices)}};
}

order tag_invoke(boost::json::value_to_tag<order>, boost::json::value const& jv)
{
    auto const& o = jv.as_object();
    return {boost::json::value_to<std::string>(o.at("item")), boost::json::value_to<std::int64_t>(o.at("quantity")),
        boost::json::value_to<std::vector<double>>(o.at("prices"))};
}

struct sample
{
    std::uint32_t sensor;
    std::int16_t celsius;
    std::array<std::uint8_t, 6> raw;
    bool operator==(sample const&) const = default;
};

} // namespace fuzz

template<>
struct spindle::remote::message_traits<fuzz::order>
{
    static constexpr std::string_view name = "fuzz.order";
    static constexpr unsigned version = 2;
    static constexpr codec encoding = codec::json;
};

template<>
struct spindle::remote::message_traits<fuzz::sample>
{
    static constexpr std::string_view name = "fuzz.sample";
    static constexpr unsigned version = 1;
    static constexpr codec encoding = codec::binary;
};

namespace {

namespace rd = spindle::remote::detail;

[[noreturn]] void fail(char const* what)
{
    std::fprintf(stderr, "remote_wire: %s\n", what);
    std::abort();
}

template<class M>
void decode_as(std::string_view payload)
{
    M m;
    try
    {
        m = rd::decode<M>(payload);
    }
    catch(std::exception const&)
    {
        return; // a decode error, counted by the node
    }
    std::string out;
    rd::encode(m, out);
    M again;
    try
    {
        again = rd::decode<M>(out);
    }
    catch(std::exception const& e)
    {
        std::fprintf(stderr, "re-decode threw: %s\n", e.what());
        fail("an encoded message does not decode");
    }
    if(!(again == m))
    {
        // NaN never equals itself: JSON has no NaN, so value_from refuses
        // nothing here; compare the encodings instead
        std::string out2;
        rd::encode(again, out2);
        if(out2 != out)
            fail("a decoded message does not survive encode + decode");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string_view const d(reinterpret_cast<char const*>(data), size);
    std::string_view name, payload;
    unsigned version = 0;
    if(rd::parse_frame(d, name, version, payload))
    {
        if(name.size() >= 256 || payload.data() + payload.size() != d.data() + d.size())
            fail("a frame's parts lie outside it");
        std::string back;
        rd::append_frame(back, name, version, payload);
        if(d.substr(0, 4) == std::string_view("\0SPN", 4))
        {
            if(back != d)
                fail("a parsed frame does not write back to the same bytes");
        }
        else
        {
            // a traced frame (\0SPT) writes back untraced: the same parts
            std::string_view name2, payload2;
            unsigned version2 = 0;
            if(!rd::parse_frame(back, name2, version2, payload2) || name2 != name || version2 != version
                || payload2 != payload)
                fail("a parsed traced frame does not write back to the same name, version and payload");
        }
        if(name == spindle::remote::message_traits<fuzz::sample>::name)
            decode_as<fuzz::sample>(payload);
        else
            decode_as<fuzz::order>(payload);
        return 0;
    }
    decode_as<fuzz::order>(d);
    decode_as<fuzz::sample>(d);
    return 0;
}
