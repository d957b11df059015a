//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/error.hpp>

#include <boost/throw_exception.hpp>

namespace spindle {

namespace {
class category_impl final : public boost::system::error_category
{
public:
    constexpr category_impl() noexcept : boost::system::error_category(0x5e1d1e0c0ffee001ULL) {}

    char const* name() const noexcept override { return "spindle"; }

    std::string message(int ev) const override { return message(ev, nullptr, 0); }

    char const* message(int ev, char*, std::size_t) const noexcept override
    {
        switch(static_cast<error>(ev))
        {
        case error::mailbox_full: return "mailbox full";
        case error::actor_stopped: return "actor stopped";
        case error::ask_timeout: return "ask timed out";
        case error::unknown_actor: return "unknown actor";
        case error::name_taken: return "name already registered";
        case error::system_stopped: return "actor system stopped";
        case error::handler_failed: return "handler failed";
        case error::no_reply: return "handler produced no reply";
        case error::timer_not_found: return "timer not found";
        case error::cancelled: return "operation cancelled";
        case error::invalid_argument: return "invalid argument";
        case error::transport_failed: return "transport could not send the message";
        case error::message_dropped: return "message dropped by the mailbox overflow policy";
        case error::start_failed: return "actor failed to start";
        case error::child_running: return "child is running";
        }
        return "unknown spindle error";
    }
};
constexpr category_impl the_category;
} // namespace

boost::system::error_category const& error_category() noexcept
{
    return the_category;
}

void detail::throw_error(boost::system::error_code const& ec, char const* what)
{
    boost::throw_exception(system_error(ec, what));
}

} // namespace spindle
