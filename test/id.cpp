//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/id.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/container_hash/hash.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#if defined(__unix__)
# include <sys/wait.h>
# include <unistd.h>
#endif

using namespace spindle;

static_assert(sizeof(actor_id) == 16);
static_assert(sizeof(task_id) == 16);
static_assert(std::is_trivially_copyable_v<task_id>);
static_assert(!std::is_convertible_v<task_id, actor_id>);
static_assert(!std::is_convertible_v<actor_id, task_id>);
static_assert(!std::is_constructible_v<actor_id, task_id>);
static_assert(!std::is_convertible_v<boost::uuids::uuid, task_id>, "construction from a uuid is explicit");
static_assert(std::is_same_v<agent_id, actor_id>);
static_assert(!std::is_same_v<node_id, component_id>);
static_assert(!std::is_same_v<tool_id, event_id>);
static_assert(!std::is_same_v<event_id, handler_id>);

namespace {

bool is_v4(boost::uuids::uuid const& u)
{
    return (u.data[6] >> 4) == 4 && (u.data[8] & 0xc0) == 0x80;
}

} // namespace

BOOST_AUTO_TEST_CASE(default_is_nil)
{
    task_id id;
    BOOST_TEST(id.is_nil());
    BOOST_TEST(id.to_string() == "00000000-0000-0000-0000-000000000000");
    BOOST_TEST(id == task_id());
}

BOOST_AUTO_TEST_CASE(generate_gives_v4_non_nil)
{
    for(int i = 0; i < 1000; ++i)
    {
        auto id = actor_id::generate();
        BOOST_TEST(!id.is_nil());
        BOOST_TEST(is_v4(id.uuid()));
    }
}

BOOST_AUTO_TEST_CASE(unique_across_threads)
{
    constexpr std::size_t per_thread = 500'000;
    std::vector<task_id> a(per_thread);
    std::vector<task_id> b(per_thread);
    auto fill = [](std::vector<task_id>& v) {
        for(auto& id : v)
            id = task_id::generate();
    };
    std::thread ta(fill, std::ref(a));
    std::thread tb(fill, std::ref(b));
    ta.join();
    tb.join();

    std::vector<task_id> all;
    all.reserve(2 * per_thread);
    all.insert(all.end(), a.begin(), a.end());
    all.insert(all.end(), b.begin(), b.end());
    std::sort(all.begin(), all.end());
    BOOST_TEST((std::adjacent_find(all.begin(), all.end()) == all.end()));
    BOOST_TEST(std::none_of(all.begin(), all.end(), [](task_id const& id) { return id.is_nil(); }));
}

BOOST_AUTO_TEST_CASE(string_round_trip)
{
    for(int i = 0; i < 1000; ++i)
    {
        auto const id = node_id::generate();
        auto const s = id.to_string();
        BOOST_TEST(s.size() == 36u);
        BOOST_TEST(s[8] == '-');
        BOOST_TEST(s[13] == '-');
        BOOST_TEST(s[18] == '-');
        BOOST_TEST(s[23] == '-');
        BOOST_TEST(node_id::from_string(s) == id);

        boost::system::error_code ec = make_error_code(error::cancelled);
        BOOST_TEST(node_id::from_string(s, ec) == id);
        BOOST_TEST(!ec);
    }
}

BOOST_AUTO_TEST_CASE(known_text)
{
    auto const id = event_id::from_string("0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07");
    BOOST_TEST(id.uuid().data[0] == 0x0d);
    BOOST_TEST(id.uuid().data[15] == 0x07);
    BOOST_TEST(id.to_string() == "0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07");

    // Upper case is accepted; output is always lower case.
    auto const upper = event_id::from_string("0D1C2F8E-5B7A-4C1E-9F3D-2A6B8C4E1F07");
    BOOST_TEST(upper == id);
    BOOST_TEST(upper.to_string() == "0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07");

    BOOST_TEST(event_id::from_string("00000000-0000-0000-0000-000000000000").is_nil());
}

BOOST_AUTO_TEST_CASE(parse_errors)
{
    char const* const bad[] = {
        "",
        "not-a-uuid",
        "0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f0",   // 35 chars
        "0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f077", // 37 chars
        "{0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07}",
        "0d1c2f8e5b7a4c1e9f3d2a6b8c4e1f07",
        "0d1c2f8e-5b7a-4c1e-9f3d_2a6b8c4e1f07",  // wrong separator
        "0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f0g",  // bad digit
        " 0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f0",
        "0d1c2f8-e5b7a-4c1e-9f3d-2a6b8c4e1f07",  // dash moved
    };
    for(auto const* s : bad)
    {
        BOOST_TEST_CONTEXT("input: " << s)
        {
            boost::system::error_code ec;
            auto id = tool_id::from_string(s, ec);
            BOOST_TEST(ec == make_error_code(error::invalid_argument));
            BOOST_TEST(id.is_nil());
            BOOST_CHECK_THROW(tool_id::from_string(s), system_error);
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_error_message_names_input_and_type)
{
    try
    {
        (void)handler_id::from_string("bogus\n\"id\"");
        BOOST_FAIL("no exception");
    }
    catch(system_error const& e)
    {
        BOOST_TEST(e.code() == make_error_code(error::invalid_argument));
        std::string const what = e.what();
        BOOST_TEST(what.find("handler_id") != std::string::npos);
        // Quoted and escaped, so a bad input cannot forge log lines.
        BOOST_TEST(what.find(R"("bogus\x0a\"id\"")") != std::string::npos);
        BOOST_TEST(what.find('\n') == std::string::npos);
    }

    // Long input is cut short in the message.
    std::string const huge(10'000, 'z');
    try
    {
        (void)handler_id::from_string(huge);
        BOOST_FAIL("no exception");
    }
    catch(system_error const& e)
    {
        BOOST_TEST(std::string_view(e.what()).size() < 400u);
        BOOST_TEST(std::string_view(e.what()).find("...") != std::string_view::npos);
    }
}

BOOST_AUTO_TEST_CASE(stream_output)
{
    auto const id = component_id::from_string("0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07");
    std::ostringstream os;
    os << id;
    BOOST_TEST(os.str() == "0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07");

    std::ostringstream padded;
    padded.width(38);
    padded.fill('*');
    padded << id;
    BOOST_TEST(padded.str() == "**0d1c2f8e-5b7a-4c1e-9f3d-2a6b8c4e1f07");
}

BOOST_AUTO_TEST_CASE(ordering_matches_text)
{
    std::vector<actor_id> ids;
    for(int i = 0; i < 200; ++i)
        ids.push_back(actor_id::generate());
    std::sort(ids.begin(), ids.end());
    for(std::size_t i = 1; i < ids.size(); ++i)
    {
        BOOST_TEST((ids[i - 1] < ids[i]));
        BOOST_TEST(ids[i - 1].to_string() < ids[i].to_string());
    }
    auto const a = ids.front();
    BOOST_TEST(((a <=> a) == std::strong_ordering::equal));
    BOOST_TEST((a != ids.back()));

    std::set<actor_id> set(ids.begin(), ids.end());
    BOOST_TEST(set.size() == ids.size());
}

BOOST_AUTO_TEST_CASE(hashing)
{
    std::unordered_map<actor_id, std::size_t> by_id;
    std::vector<actor_id> ids;
    for(std::size_t i = 0; i < 10'000; ++i)
    {
        ids.push_back(actor_id::generate());
        by_id.emplace(ids.back(), i);
    }
    BOOST_TEST(by_id.size() == ids.size());
    for(std::size_t i = 0; i < ids.size(); ++i)
        BOOST_TEST_REQUIRE(by_id.at(ids[i]) == i);
    BOOST_TEST(by_id.count(actor_id()) == 0u);

    // A parsed copy is the same key.
    BOOST_TEST(by_id.count(actor_id::from_string(ids[42].to_string())) == 1u);

    // boost::hash and std::hash agree, so either kind of container works.
    BOOST_TEST(boost::hash<actor_id>()(ids[7]) == std::hash<actor_id>()(ids[7]));

    // Ids that differ only in their last byte (hand-made ones, not random)
    // still land in different buckets.
    std::unordered_set<std::size_t> hashes;
    boost::uuids::uuid u{};
    for(int i = 0; i < 256; ++i)
    {
        u.data[15] = static_cast<std::uint8_t>(i);
        hashes.insert(std::hash<task_id>()(task_id(u)) % 1031);
    }
    BOOST_TEST(hashes.size() > 200u);
}

#if defined(__unix__)
BOOST_AUTO_TEST_CASE(forked_child_does_not_repeat_parent_ids)
{
    // Warm this thread's generator so the child inherits its state.
    (void)task_id::generate();

    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    pid_t const pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if(pid == 0)
    {
        auto const id = task_id::generate();
        auto const n = ::write(fds[1], id.uuid().data, 16);
        ::_exit(n == 16 ? 0 : 1);
    }
    ::close(fds[1]);
    auto const parent = task_id::generate();
    boost::uuids::uuid child_uuid{};
    auto const n = ::read(fds[0], child_uuid.data, 16);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST_REQUIRE(n == 16);
    BOOST_TEST((task_id(child_uuid) != parent));
    BOOST_TEST(!task_id(child_uuid).is_nil());
}
#endif
