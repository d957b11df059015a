//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Fuzz target: Boost.JSON -> Spindle's types (<spindle/json.hpp>): every id
// type and every named enum from any JSON document. Checked: the throwing
// and the error-code forms agree, and whatever decodes encodes back to a
// value that decodes to the same thing.

#include <spindle/json.hpp>
#include <spindle/http/health_status.hpp>

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace {

namespace json = boost::json;

[[noreturn]] void fail(char const* what)
{
    std::fprintf(stderr, "json_decode: %s\n", what);
    std::abort();
}

template<class T>
void check(json::value const& jv)
{
    auto const r = json::try_value_to<T>(jv);
    bool threw = false;
    T thrown_form{};
    try
    {
        thrown_form = json::value_to<T>(jv);
    }
    catch(std::exception const&)
    {
        threw = true;
    }
    if(threw != r.has_error())
        fail("value_to and try_value_to disagree");
    if(!r)
        return;
    if(!(thrown_form == *r))
        fail("value_to and try_value_to decode differently");
    json::value const back = json::value_from(*r);
    auto const again = json::try_value_to<T>(back);
    if(!again || !(*again == *r))
        fail("a decoded value does not survive value_from and value_to");
}

void check_all(json::value const& jv)
{
    check<spindle::actor_id>(jv);
    check<spindle::task_id>(jv);
    check<spindle::node_id>(jv);
    check<spindle::component_id>(jv);
    check<spindle::tool_id>(jv);
    check<spindle::event_id>(jv);
    check<spindle::handler_id>(jv);
    check<spindle::event_type>(jv);
    check<spindle::node_type>(jv);
    check<spindle::supervision_strategy>(jv);
    check<spindle::restart_type>(jv);
    check<spindle::actor_state>(jv);
    check<spindle::circuit_state>(jv);
    check<spindle::health_status>(jv);
    check<spindle::overflow_policy>(jv);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    boost::system::error_code ec;
    auto const jv = json::parse(std::string_view(reinterpret_cast<char const*>(data), size), ec);
    if(ec)
        return 0;
    check_all(jv);
    // the elements of a document too: a message is a structure of such values
    if(jv.is_array())
        for(auto const& e : jv.get_array())
            check_all(e);
    else if(jv.is_object())
        for(auto const& kv : jv.get_object())
            check_all(kv.value());
    return 0;
}
