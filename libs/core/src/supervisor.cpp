//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/supervisor.hpp>

#include "system_state.hpp"

#include <spindle/detail/completion.hpp>
#include <spindle/log.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace spindle {
namespace detail {

namespace {

/// What a supervisor throws to fail itself: its parent (or the root
/// guardian) then decides, as for any other failure.
struct supervisor_gave_up : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

/// The type reported for the backoff notice.
struct backoff_notice
{
};

/// The backoff timer's notice, on the supervisor's system queue.
struct restart_due_envelope final : envelope
{
    restart_due_envelope() { vtable_ = &table; }

    static void invoke(envelope* e, actor_base& self)
    {
        delete static_cast<restart_due_envelope*>(e);
        supervisor_restart_due(self);
    }

    static void discard(envelope* e, error) noexcept { delete static_cast<restart_due_envelope*>(e); }

    static constexpr envelope_vtable table{&invoke, &discard, &typeid(backoff_notice), nullptr};
};

std::string describe_child(actor_cell const& c)
{
    std::string s = type_name(c);
    if(c.name_)
        s += " '" + *c.name_ + "'";
    return s;
}

} // namespace

struct sup_state
{
    struct child
    {
        boost::intrusive_ptr<actor_cell> cell;
        child_spec spec;
    };

    supervisor& self_;
    supervisor_spec spec_;
    std::vector<child> children_; ///< start order
    std::vector<timer_service::time_point> restarts_; ///< within the window, system clock
    std::vector<boost::intrusive_ptr<actor_cell>> pending_; ///< to restart when the backoff timer fires
    std::optional<timer_id> backoff_timer_;
    bool stopping_ = false;

    sup_state(supervisor& self, supervisor_spec spec) : self_(self), spec_(std::move(spec)) {}

    /// The state of the supervisor behind `b` (only supervisors have children).
    static sup_state& of(actor_base& b) noexcept { return *static_cast<supervisor&>(b).st_; }

    actor_cell& cell() const noexcept { return *self_.self().cell(); }
    system_state& sys() const noexcept { return *cell().sys_; }

    void sync()
    {
        std::vector<boost::intrusive_ptr<actor_cell>> v;
        v.reserve(children_.size());
        for(auto const& c : children_)
            v.push_back(c.cell);
        cell().set_children(std::move(v));
    }

    std::size_t index_of(actor_cell const* c) const noexcept
    {
        for(std::size_t i = 0; i < children_.size(); ++i)
            if(children_[i].cell.get() == c)
                return i;
        return children_.size();
    }

    boost::system::error_code start(child_spec const& cs, basic_actor_ref& out)
    {
        if(!cs.maker())
            return error::invalid_argument;
        boost::system::error_code ec;
        auto c = cs.maker()->spawn(sys(), cs.spawn(), &cell(), ec);
        if(ec)
            return ec;
        children_.push_back(child{c, cs});
        sync();
        // in order, as OTP does: a child's pre_start (a supervisor's whole
        // subtree) has run before the next child starts
        if(!wait(c->await_start(), cs.shutdown()))
            missed(*c, "start");
        out = basic_actor_ref(std::move(c));
        return {};
    }

    /// Waits (parking this fiber) for an acknowledgement, up to `d` of real time.
    bool wait(std::shared_ptr<completion_state<void>> const& ack, std::chrono::nanoseconds d) const
    {
        if(!ack)
            return true;
        return ack->wait(wait_deadline::after(d), std::stop_token{}) == wake_status::done;
    }

    void missed(actor_cell const& c, char const* what) const
    {
        SPINDLE_LOG_ACTOR(warning, "supervisor", cell().id_)
            << "child " << describe_child(c) << " missed its deadline to " << what << "; moving on";
        sys().publish(event_type::deadline_missed, c, std::string("supervisor: did not ") + what + " in time");
    }

    /// Stops child `i` for good and forgets it.
    void terminate(std::size_t i, exit_reason why, std::string what)
    {
        auto c = std::move(children_[i]);
        children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
        sync();
        if(!wait(c.cell->request(actor_cell::flag_terminate, why, std::move(what)), c.spec.shutdown()))
            missed(*c.cell, "stop");
    }

    /// Stops every child in reverse start order, each one (and so its whole
    /// subtree) finishing or missing its deadline before the next.
    void stop_children() noexcept
    {
        while(!children_.empty())
        {
            try
            {
                terminate(children_.size() - 1, exit_reason::shutdown, {});
            }
            catch(...)
            {
                // out of memory for the acknowledgement: ask without waiting
                auto c = std::move(children_.back());
                children_.pop_back();
                c.cell->signal(actor_cell::flag_stop);
            }
        }
        try
        {
            sync();
        }
        catch(...)
        {
        }
    }

    [[noreturn]] void give_up(std::string why)
    {
        SPINDLE_LOG_ACTOR(error, "supervisor", cell().id_) << "escalating: " << why;
        sys().publish(event_type::supervisor_escalated, cell(), why);
        stop_children();
        throw supervisor_gave_up(why);
    }

    std::chrono::nanoseconds backoff_delay() const noexcept
    {
        auto const& b = spec_.backoff;
        if(b.base <= std::chrono::nanoseconds::zero())
            return std::chrono::nanoseconds::zero();
        double const n = restarts_.empty() ? 0.0 : static_cast<double>(restarts_.size() - 1);
        double const d = static_cast<double>(b.base.count()) * std::pow(std::max(1.0, b.multiplier), n);
        if(d >= static_cast<double>(b.max.count()))
            return b.max;
        return std::chrono::nanoseconds(static_cast<std::int64_t>(d));
    }

    /// Restarts `cells` (children) in start order: first ends the running
    /// ones in reverse start order, then starts each new incarnation.
    void restart(std::vector<boost::intrusive_ptr<actor_cell>> const& cells)
    {
        std::vector<std::size_t> idx;
        for(auto const& c : cells)
        {
            auto i = index_of(c.get());
            if(i < children_.size() && std::find(idx.begin(), idx.end(), i) == idx.end())
                idx.push_back(i);
        }
        std::sort(idx.begin(), idx.end());
        for(auto it = idx.rbegin(); it != idx.rend(); ++it)
        {
            auto& c = children_[*it];
            if(c.cell->suspended())
                continue;
            if(!wait(c.cell->request(actor_cell::flag_suspend), c.spec.shutdown()))
                missed(*c.cell, "stop for a restart");
        }
        for(auto i : idx)
        {
            // copied: a child that fails in pre_start posts a new notice, handled later
            auto c = children_[i];
            if(!wait(c.cell->request(actor_cell::flag_resume), c.spec.shutdown()))
                missed(*c.cell, "start");
        }
    }

    void on_exit(actor_cell* c, exit_reason why, std::string what, std::uint32_t incarnation)
    {
        auto const i = index_of(c);
        if(i == children_.size())
        {
            // not (or no longer) ours: nobody restarts it
            c->request(actor_cell::flag_terminate, why, std::move(what));
            return;
        }
        if(c->restarts_.load(std::memory_order_acquire) != incarnation || !c->suspended())
            return; // a notice from an incarnation already restarted
        bool const failed = why == exit_reason::failure;
        auto const rt = children_[i].spec.restart();
        if(rt == restart_type::temporary || (rt == restart_type::transient && !failed))
        {
            if(failed)
                sys().report_failure(*c, what, directive::stop);
            terminate(i, why, std::move(what));
            return;
        }
        std::string const who = describe_child(*c);
        if(spec_.strategy == supervision_strategy::escalate)
        {
            if(failed)
                sys().report_failure(*c, what, directive::resume);
            give_up("child " + who + (failed ? " failed: " + what : std::string(" exited")));
        }

        // restart intensity: at most max_restarts within the window
        auto const now = sys().timers_->now();
        std::erase_if(restarts_, [&](auto t) { return now - t >= spec_.intensity.window; });
        if(restarts_.size() >= spec_.intensity.max_restarts)
        {
            if(failed)
                sys().report_failure(*c, what, directive::resume);
            give_up("restart intensity exceeded: " + std::to_string(restarts_.size() + 1) + " restarts within " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(spec_.intensity.window).count()) +
                    " ms (limit " + std::to_string(spec_.intensity.max_restarts) + "); last: child " + who +
                    (failed ? " failed: " + what : std::string(" exited")));
        }
        restarts_.push_back(now);
        if(failed)
            sys().report_failure(*c, what, directive::restart);

        std::vector<boost::intrusive_ptr<actor_cell>> batch;
        switch(spec_.strategy)
        {
        case supervision_strategy::one_for_one:
        case supervision_strategy::escalate:
            batch.emplace_back(c);
            break;
        case supervision_strategy::one_for_all:
            for(auto const& ch : children_)
                batch.push_back(ch.cell);
            break;
        case supervision_strategy::rest_for_one:
            for(std::size_t k = i; k < children_.size(); ++k)
                batch.push_back(children_[k].cell);
            break;
        }

        auto const delay = backoff_delay();
        if(delay > std::chrono::nanoseconds::zero())
        {
            pending_.insert(pending_.end(), batch.begin(), batch.end());
            if(!backoff_timer_)
            {
                boost::intrusive_ptr<actor_cell> me(&cell());
                backoff_timer_ = sys().timers_->start(delay, [me] {
                    try
                    {
                        me->post_system(new restart_due_envelope);
                    }
                    catch(...)
                    {
                    }
                });
            }
            return;
        }
        restart(batch);
    }

    void on_restart_due()
    {
        backoff_timer_.reset();
        auto batch = std::move(pending_);
        pending_.clear();
        restart(batch);
    }
};

void supervisor_child_exit(actor_base& sup, actor_cell* child, exit_reason why, std::string what, std::uint32_t incarnation)
{
    sup_state::of(sup).on_exit(child, why, std::move(what), incarnation);
}

void supervisor_restart_due(actor_base& sup)
{
    sup_state::of(sup).on_restart_due();
}

} // namespace detail

supervisor::supervisor(supervisor_spec spec) : st_(std::make_unique<detail::sup_state>(*this, std::move(spec))) {}

supervisor::~supervisor() = default;

supervisor_spec const& supervisor::spec() const noexcept
{
    return st_->spec_;
}

void supervisor::pre_start()
{
    st_->cell().ext().strategy.store(st_->spec_.strategy, std::memory_order_relaxed);
    for(auto const& cs : st_->spec_.children)
    {
        basic_actor_ref r;
        if(auto ec = st_->start(cs, r))
        {
            // a child that cannot start fails the supervisor (its parent decides)
            st_->stop_children();
            detail::throw_error(ec, "spindle::supervisor: starting a child");
        }
    }
}

void supervisor::post_stop()
{
    st_->stopping_ = true;
    if(st_->backoff_timer_)
        st_->sys().timers_->cancel(*st_->backoff_timer_);
    st_->pending_.clear();
    st_->stop_children();
    if(st_->spec_.on_stop)
        st_->spec_.on_stop();
}

detail::sup_started supervisor::on(detail::sup_start_child const& m)
{
    detail::sup_started r;
    r.ec = st_->start(m.spec, r.ref);
    return r;
}

bool supervisor::on(detail::sup_terminate_child const& m)
{
    for(std::size_t i = 0; i < st_->children_.size(); ++i)
    {
        if(st_->children_[i].cell->id_ == m.id)
        {
            st_->terminate(i, exit_reason::shutdown, {});
            return true;
        }
    }
    return false;
}

std::vector<basic_actor_ref> supervisor::on(detail::sup_which_children)
{
    std::vector<basic_actor_ref> out;
    out.reserve(st_->children_.size());
    for(auto const& c : st_->children_)
        out.emplace_back(c.cell);
    return out;
}

// --- supervisor_ref ---

basic_actor_ref supervisor_ref::start_child(child_spec const& spec, boost::system::error_code& ec) const
{
    if(!ref_)
    {
        ec = error::invalid_argument;
        return {};
    }
    auto r = ref_.ask(detail::sup_start_child{spec}).get(ec);
    if(ec)
        return {};
    ec = r.ec;
    return r.ref;
}

basic_actor_ref supervisor_ref::start_child(child_spec const& spec) const
{
    boost::system::error_code ec;
    auto r = start_child(spec, ec);
    if(ec)
        detail::throw_error(ec, "spindle::supervisor_ref::start_child");
    return r;
}

bool supervisor_ref::terminate_child(basic_actor_ref const& child, boost::system::error_code& ec) const
{
    if(!ref_ || !child)
    {
        ec = error::invalid_argument;
        return false;
    }
    return ref_.ask(detail::sup_terminate_child{child.id()}).get(ec);
}

bool supervisor_ref::terminate_child(basic_actor_ref const& child) const
{
    boost::system::error_code ec;
    auto r = terminate_child(child, ec);
    if(ec)
        detail::throw_error(ec, "spindle::supervisor_ref::terminate_child");
    return r;
}

std::vector<basic_actor_ref> supervisor_ref::children(boost::system::error_code& ec) const
{
    if(!ref_)
    {
        ec = error::invalid_argument;
        return {};
    }
    return ref_.ask(detail::sup_which_children{}).get(ec);
}

std::vector<basic_actor_ref> supervisor_ref::children() const
{
    boost::system::error_code ec;
    auto r = children(ec);
    if(ec)
        detail::throw_error(ec, "spindle::supervisor_ref::children");
    return r;
}

} // namespace spindle
