//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/supervisor.hpp>

#include "system_state.hpp"

#include <spindle/detail/completion.hpp>
#include <spindle/log.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>

namespace spindle {
namespace detail {

namespace {

/// The type reported for the backoff notice.
struct backoff_notice
{
};

/// The type reported for the restart-step notice.
struct restart_step_notice
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

void supervisor_step_done(actor_base& sup, std::uint64_t seq);

/// A child acknowledged one step of a restart (its suspend or its resume).
struct step_done_envelope final : envelope
{
    std::uint64_t seq_;

    explicit step_done_envelope(std::uint64_t seq) : seq_(seq) { vtable_ = &table; }

    static void invoke(envelope* e, actor_base& self)
    {
        auto const seq = static_cast<step_done_envelope*>(e)->seq_;
        delete static_cast<step_done_envelope*>(e);
        supervisor_step_done(self, seq);
    }

    static void discard(envelope* e, error) noexcept { delete static_cast<step_done_envelope*>(e); }

    static constexpr envelope_vtable table{&invoke, &discard, &typeid(restart_step_notice), nullptr};
};

/// Step numbers are unique in the process, so a notice for an earlier
/// incarnation of a supervisor never matches a step of the current one.
std::atomic<std::uint64_t> step_counter{0};

std::string describe_child(actor_cell const& c)
{
    std::string s = c.type_ ? readable_type_name(*c.type_) : std::string();
    if(c.name_)
        s += " '" + *c.name_ + "'";
    return s;
}

std::string ns_text(std::chrono::nanoseconds d)
{
    return std::to_string(d.count()) + " ns";
}

} // namespace

struct sup_state
{
    struct child
    {
        std::string id;
        boost::intrusive_ptr<actor_cell> cell; ///< null: stopped, spec kept (OTP's `undefined`)
        child_spec spec;
    };

    /// One request to a child in a restart: suspend (end the incarnation),
    /// resume (start the next one) or terminate (a temporary bystander).
    struct step
    {
        boost::intrusive_ptr<actor_cell> cell;
        std::uint8_t flag;
    };

    supervisor& self_;
    supervisor_spec spec_;
    std::vector<child> children_; ///< start order
    std::size_t ids_taken_ = 0;
    restart_window restarts_; ///< within the window, system clock

    // backoff
    std::vector<boost::intrusive_ptr<actor_cell>> pending_; ///< to restart when the backoff timer fires
    std::optional<timer_id> backoff_timer_;
    std::size_t in_a_row_ = 0; ///< restarts since the last stable period
    std::optional<timer_service::time_point> last_restart_;
    std::minstd_rand rng_{std::random_device{}()};

    // the restart under way: its steps run one at a time, each acknowledged
    // by a notice, so the supervisor handles its calls in between
    std::deque<step> steps_;
    std::vector<boost::intrusive_ptr<actor_cell>> queued_; ///< the next restart's children
    std::uint64_t waiting_ = 0; ///< the step in flight (0: none)

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
            if(c.cell)
                v.push_back(c.cell);
        cell().set_children(std::move(v));
    }

    std::size_t index_of(actor_cell const* c) const noexcept
    {
        for(std::size_t i = 0; i < children_.size(); ++i)
            if(c && children_[i].cell.get() == c)
                return i;
        return children_.size();
    }

    std::size_t index_of(std::string_view id) const noexcept
    {
        for(std::size_t i = 0; i < children_.size(); ++i)
            if(children_[i].id == id)
                return i;
        return children_.size();
    }

    static bool running(child const& c) noexcept { return c.cell && c.cell->state() != cell_state::stopped; }

    static std::string type_of(child_spec const& cs)
    {
        return cs.maker() ? readable_type_name(cs.maker()->type()) : std::string("(no actor type)");
    }

    /** Starts a child from `cs` and waits until its first `pre_start` has
        returned. `slot` is the index of a kept spec (restart_child), or
        `children_.size()` for a new one.
    */
    boost::system::error_code start(child_spec cs, std::size_t slot, basic_actor_ref& out, std::string& reason)
    {
        if(!cs.maker())
        {
            reason = "the child spec was not made by child_spec::of";
            return error::invalid_argument;
        }
        if(cs.shutdown() < std::chrono::nanoseconds::zero())
        {
            reason = "child_spec shutdown must be >= 0 (got " + ns_text(cs.shutdown()) + ")";
            return error::invalid_argument;
        }
        bool const fresh = slot == children_.size();
        if(fresh)
        {
            ++ids_taken_;
            if(cs.id().empty())
                cs.id(cs.spawn().name.empty() ? "child-" + std::to_string(ids_taken_) : cs.spawn().name);
            if(index_of(cs.id()) != children_.size())
            {
                reason = "child id '" + cs.id() + "' is in use in this supervisor";
                return error::name_taken;
            }
        }
        std::string const who = type_of(cs) + " '" + cs.id() + "'";
        boost::system::error_code ec;
        boost::intrusive_ptr<actor_cell> c;
        try
        {
            c = cs.maker()->spawn(sys(), cs.spawn(), &cell(), ec);
        }
        catch(...)
        {
            // the constructor threw: nothing was started
            reason = who + ": constructor threw " + describe_exception(std::current_exception());
            SPINDLE_LOG_ACTOR(warning, "supervisor", cell().id_) << "child did not start: " << reason;
            return error::start_failed;
        }
        if(ec)
        {
            reason = who + ": " + ec.message();
            return ec;
        }
        if(auto const& d = cs.decider() ? cs.decider() : spec_.decider)
        {
            auto shared = std::make_shared<decider_type const>(d);
            auto& x = c->ext();
            x.decider_lock.lock();
            x.decider = std::move(shared);
            x.decider_lock.unlock();
        }
        auto const shutdown = cs.shutdown();
        if(fresh)
            children_.push_back(child{cs.id(), c, std::move(cs)});
        else
            children_[slot].cell = c;
        sync();
        // in order, as OTP does: a child's pre_start (a supervisor's whole
        // subtree) has run before the next child starts
        if(!wait(c->await_start(), shutdown))
            missed(*c, "start");
        if(c->state() == cell_state::stopped)
        {
            std::string why;
            if(auto* x = c->ext_if())
                why = x->start_failure;
            auto const i = index_of(c.get());
            if(i < children_.size())
            {
                if(fresh)
                    children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
                else
                    children_[i].cell.reset();
                sync();
            }
            if(why.empty())
            {
                reason = who + ": stopped while starting";
                return error::actor_stopped;
            }
            reason = who + ": pre_start failed: " + why;
            return error::start_failed;
        }
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

    /** Stops child `i` and waits for it. Its spec is kept (for
        `restart_child`) unless `forget` or the child is temporary.
    */
    void terminate(std::size_t i, exit_reason why, std::string what, bool forget = false)
    {
        auto c = children_[i].cell;
        auto const shutdown = children_[i].spec.shutdown();
        if(forget || children_[i].spec.restart() == restart_type::temporary)
            children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
        else
            children_[i].cell.reset();
        sync();
        if(c && !wait(c->request(actor_cell::flag_terminate, why, std::move(what)), shutdown))
            missed(*c, "stop");
    }

    /// Stops every child in reverse start order, each one (and so its whole
    /// subtree) finishing or missing its deadline before the next.
    void stop_children() noexcept
    {
        steps_.clear();
        queued_.clear();
        waiting_ = 0;
        while(!children_.empty())
        {
            try
            {
                terminate(children_.size() - 1, exit_reason::shutdown, {}, true);
            }
            catch(...)
            {
                // out of memory for the acknowledgement: ask without waiting
                auto c = std::move(children_.back());
                children_.pop_back();
                if(c.cell)
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
        throw supervisor_escalation(why);
    }

    /// The next backoff delay (and counts this restart in the row).
    std::chrono::nanoseconds backoff_delay(timer_service::time_point now)
    {
        auto const& b = spec_.backoff;
        auto const stable = b.reset_after > std::chrono::nanoseconds::zero() ? b.reset_after : spec_.intensity.window;
        if(last_restart_ && now - *last_restart_ >= stable)
            in_a_row_ = 0;
        last_restart_ = now;
        double const n = static_cast<double>(in_a_row_++);
        if(b.base <= std::chrono::nanoseconds::zero())
            return std::chrono::nanoseconds::zero();
        double d = static_cast<double>(b.base.count()) * std::pow(std::max(1.0, b.multiplier), n);
        d = std::min(d, static_cast<double>(b.max.count()));
        if(b.random_factor > 0.0)
            d *= 1.0 + std::uniform_real_distribution<double>(0.0, b.random_factor)(rng_);
        return std::chrono::nanoseconds(static_cast<std::int64_t>(d));
    }

    /// Queues a restart of `cells` (children) and runs it when no other is under way.
    void enqueue(std::vector<boost::intrusive_ptr<actor_cell>> const& cells)
    {
        for(auto const& c : cells)
            if(std::find(queued_.begin(), queued_.end(), c) == queued_.end())
                queued_.push_back(c);
        advance();
    }

    /** Turns the queued children into steps: first each running one ends
        in reverse start order (a temporary bystander is terminated and
        forgotten), then each new incarnation starts in start order.
    */
    void plan()
    {
        std::vector<std::size_t> idx;
        for(auto const& c : queued_)
        {
            auto i = index_of(c.get());
            if(i < children_.size() && std::find(idx.begin(), idx.end(), i) == idx.end())
                idx.push_back(i);
        }
        queued_.clear();
        std::sort(idx.begin(), idx.end());
        std::vector<boost::intrusive_ptr<actor_cell>> restart;
        for(auto it = idx.rbegin(); it != idx.rend(); ++it)
        {
            auto& c = children_[*it];
            if(c.spec.restart() == restart_type::temporary)
            {
                // never restarted, not even as a bystander (OTP): removed
                steps_.push_back(step{c.cell, actor_cell::flag_terminate});
                continue;
            }
            steps_.push_back(step{c.cell, actor_cell::flag_suspend});
        }
        for(auto i : idx)
            if(children_[i].spec.restart() != restart_type::temporary)
                restart.push_back(children_[i].cell);
        for(auto it = idx.rbegin(); it != idx.rend(); ++it)
            if(children_[*it].spec.restart() == restart_type::temporary)
                children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(*it));
        sync();
        for(auto& c : restart)
            steps_.push_back(step{std::move(c), actor_cell::flag_resume});
    }

    /// Runs steps until one has to be waited for (or none is left).
    void advance()
    {
        while(waiting_ == 0)
        {
            if(steps_.empty())
            {
                if(queued_.empty())
                    return;
                plan();
                continue;
            }
            auto s = std::move(steps_.front());
            steps_.pop_front();
            std::shared_ptr<completion_state<void>> ack;
            if(s.flag == actor_cell::flag_terminate)
                ack = s.cell->request(actor_cell::flag_terminate, exit_reason::shutdown, {});
            else if(index_of(s.cell.get()) < children_.size())
                ack = s.cell->request(s.flag);
            if(!ack || ack->ready())
                continue;
            auto const seq = step_counter.fetch_add(1, std::memory_order_relaxed) + 1;
            waiting_ = seq;
            boost::intrusive_ptr<actor_cell> me(&cell());
            ack->on_complete([me, seq] {
                try
                {
                    me->post_system(new step_done_envelope(seq));
                }
                catch(...)
                {
                }
            });
        }
    }

    void on_step_done(std::uint64_t seq)
    {
        if(seq != waiting_)
            return; // a step of an earlier incarnation of this supervisor
        waiting_ = 0;
        advance();
    }

    void on_exit(actor_cell* c, exit_reason why, std::string what, std::uint32_t incarnation, directive decided)
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
        std::string const who = describe_child(*c) + " '" + children_[i].id + "'";
        if(failed && decided == directive::escalate)
        {
            sys().report_failure(*c, what, directive::escalate);
            give_up("child " + who + " failed: " + what + " (its decider escalated)");
        }
        if(failed && decided == directive::stop)
        {
            // the decider stops it for good: as terminate_child (the spec stays)
            sys().report_failure(*c, what, directive::stop);
            terminate(i, why, std::move(what));
            return;
        }
        auto const rt = children_[i].spec.restart();
        if(rt == restart_type::temporary || (rt == restart_type::transient && !failed))
        {
            if(failed)
                sys().report_failure(*c, what, directive::stop);
            terminate(i, why, std::move(what));
            return;
        }
        if(spec_.strategy == supervision_strategy::escalate)
        {
            if(failed)
                sys().report_failure(*c, what, directive::escalate);
            give_up("child " + who + (failed ? " failed: " + what : std::string(" exited")));
        }

        // restart intensity: at most max_restarts within the window
        auto const now = sys().timers_->now();
        if(static_cast<std::ptrdiff_t>(restarts_.expire(now, spec_.intensity.window)) >= spec_.intensity.max_restarts)
        {
            if(failed)
                sys().report_failure(*c, what, directive::escalate);
            give_up("restart intensity exceeded: " + std::to_string(restarts_.size() + 1) + " restarts within " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(spec_.intensity.window).count()) +
                    " ms (limit " + std::to_string(spec_.intensity.max_restarts) + "); last: child " + who +
                    (failed ? " failed: " + what : std::string(" exited")));
        }
        restarts_.record(now);
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
                if(ch.cell)
                    batch.push_back(ch.cell);
            break;
        case supervision_strategy::rest_for_one:
            for(std::size_t k = i; k < children_.size(); ++k)
                if(children_[k].cell)
                    batch.push_back(children_[k].cell);
            break;
        }

        auto const delay = backoff_delay(now);
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
        enqueue(batch);
    }

    void on_restart_due()
    {
        backoff_timer_.reset();
        auto batch = std::move(pending_);
        pending_.clear();
        enqueue(batch);
    }
};

void supervisor_child_exit(actor_base& sup, actor_cell* child, exit_reason why, std::string what,
                           std::uint32_t incarnation, directive decided)
{
    sup_state::of(sup).on_exit(child, why, std::move(what), incarnation, decided);
}

void supervisor_restart_due(actor_base& sup)
{
    sup_state::of(sup).on_restart_due();
}

namespace {
void supervisor_step_done(actor_base& sup, std::uint64_t seq)
{
    sup_state::of(sup).on_step_done(seq);
}
} // namespace

} // namespace detail

// --- supervisor_spec ---

boost::system::error_code supervisor_spec::validate(std::string& what) const
{
    what.clear();
    auto bad = [&](std::string text) {
        what = std::move(text);
        return boost::system::error_code(error::invalid_argument);
    };
    if(intensity.window <= std::chrono::nanoseconds::zero())
        return bad("intensity.window must be > 0 (got " + detail::ns_text(intensity.window) + ")");
    if(intensity.max_restarts < 0)
        return bad("intensity.max_restarts must be >= 0 (got " + std::to_string(intensity.max_restarts) + ")");
    if(backoff.base < std::chrono::nanoseconds::zero())
        return bad("backoff.base must be >= 0 (got " + detail::ns_text(backoff.base) + ")");
    if(backoff.base > std::chrono::nanoseconds::zero() && backoff.max < backoff.base)
        return bad("backoff.max must be >= backoff.base (got " + detail::ns_text(backoff.max) + " < " +
                   detail::ns_text(backoff.base) + ")");
    if(!(backoff.multiplier >= 1.0))
        return bad("backoff.multiplier must be >= 1 (got " + std::to_string(backoff.multiplier) + ")");
    if(!(backoff.random_factor >= 0.0 && backoff.random_factor <= 1.0))
        return bad("backoff.random_factor must be in [0, 1] (got " + std::to_string(backoff.random_factor) + ")");
    if(backoff.reset_after < std::chrono::nanoseconds::zero())
        return bad("backoff.reset_after must be >= 0 (got " + detail::ns_text(backoff.reset_after) + ")");
    std::set<std::string> ids;
    std::set<std::string> names;
    for(std::size_t i = 0; i < children.size(); ++i)
    {
        auto const& c = children[i];
        std::string const field = "children[" + std::to_string(i) + "]";
        if(!c.maker())
            return bad(field + " was not made by child_spec::of");
        if(c.shutdown() < std::chrono::nanoseconds::zero())
            return bad(field + ".shutdown must be >= 0 (got " + detail::ns_text(c.shutdown()) + ")");
        std::string const id = !c.id().empty() ? c.id() : c.spawn().name;
        if(!id.empty() && !ids.insert(id).second)
            return bad(field + ".id '" + id + "' is not unique");
        if(!c.spawn().name.empty() && !names.insert(c.spawn().name).second)
            return bad(field + ".name '" + c.spawn().name + "' is not unique");
    }
    return {};
}

void supervisor_spec::validate() const
{
    std::string what;
    if(auto ec = validate(what))
        throw system_error(ec, "spindle::supervisor_spec: " + what);
}

// --- supervisor ---

supervisor::supervisor(supervisor_spec spec)
{
    spec.validate();
    st_ = std::make_unique<detail::sup_state>(*this, std::move(spec));
}

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
        std::string reason;
        if(auto ec = st_->start(cs, st_->children_.size(), r, reason))
        {
            // a child that cannot start fails the supervisor (its parent decides)
            st_->stop_children();
            throw system_error(ec, "spindle::supervisor: starting a child: " + reason);
        }
    }
}

void supervisor::post_stop()
{
    if(st_->backoff_timer_)
        st_->sys().timers_->cancel(*st_->backoff_timer_);
    st_->backoff_timer_.reset();
    st_->pending_.clear();
    st_->stop_children();
    if(st_->spec_.on_stop)
        st_->spec_.on_stop();
}

detail::sup_started supervisor::on(detail::sup_start_child const& m)
{
    detail::sup_started r;
    r.ec = st_->start(m.spec, st_->children_.size(), r.ref, r.reason);
    return r;
}

bool supervisor::on(detail::sup_terminate_child const& m)
{
    for(std::size_t i = 0; i < st_->children_.size(); ++i)
    {
        auto const& c = st_->children_[i];
        bool const match = m.child_id.empty() ? (c.cell && c.cell->id_ == m.id) : c.id == m.child_id;
        if(match)
        {
            if(!detail::sup_state::running(c))
                return false;
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
        if(c.cell)
            out.emplace_back(c.cell);
    return out;
}

detail::sup_started supervisor::on(detail::sup_restart_child const& m)
{
    detail::sup_started r;
    auto const i = st_->index_of(m.child_id);
    if(i == st_->children_.size())
    {
        r.ec = error::unknown_actor;
        r.reason = "no child with id '" + m.child_id + "'";
        return r;
    }
    if(detail::sup_state::running(st_->children_[i]))
    {
        r.ec = error::child_running;
        r.reason = "child '" + m.child_id + "' is running";
        return r;
    }
    r.ec = st_->start(st_->children_[i].spec, i, r.ref, r.reason);
    return r;
}

detail::sup_started supervisor::on(detail::sup_delete_child const& m)
{
    detail::sup_started r;
    auto const i = st_->index_of(m.child_id);
    if(i == st_->children_.size())
        r.ec = error::unknown_actor;
    else if(detail::sup_state::running(st_->children_[i]))
        r.ec = error::child_running;
    else
    {
        st_->children_.erase(st_->children_.begin() + static_cast<std::ptrdiff_t>(i));
        st_->sync();
    }
    return r;
}

child_counts supervisor::on(detail::sup_count_children)
{
    child_counts n;
    for(auto const& c : st_->children_)
    {
        ++n.specs;
        if(detail::sup_state::running(c))
            ++n.active;
        if(c.spec.maker()->node(c.spec.spawn()) == node_type::supervisor)
            ++n.supervisors;
        else
            ++n.workers;
    }
    return n;
}

std::vector<child_info> supervisor::on(detail::sup_child_infos)
{
    std::vector<child_info> out;
    out.reserve(st_->children_.size());
    for(auto const& c : st_->children_)
    {
        child_info i;
        i.id = c.id;
        i.restart = c.spec.restart();
        i.node = c.spec.maker()->node(c.spec.spawn());
        i.type = detail::readable_type_name(c.spec.maker()->type());
        if(c.cell)
        {
            i.ref = basic_actor_ref(c.cell);
            i.state = detail::state_of(*c.cell);
        }
        out.push_back(std::move(i));
    }
    return out;
}

// --- supervisor_ref ---

namespace {

template<class R, class M>
R ask_sup(actor_ref<supervisor> const& ref, M m, boost::system::error_code& ec)
{
    if(!ref)
    {
        ec = error::invalid_argument;
        return R{};
    }
    ec = {};
    return ref.ask(std::move(m)).get(ec);
}

[[noreturn]] void throw_with(boost::system::error_code ec, std::string const& where, std::string const& reason)
{
    if(reason.empty())
        detail::throw_error(ec, where.c_str());
    throw system_error(ec, where + ": " + reason);
}

} // namespace

basic_actor_ref supervisor_ref::start_child(
    child_spec const& spec, boost::system::error_code& ec, std::string& reason) const
{
    reason.clear();
    auto r = ask_sup<detail::sup_started>(ref_, detail::sup_start_child{spec}, ec);
    if(ec)
        return {};
    ec = r.ec;
    reason = std::move(r.reason);
    return ec ? basic_actor_ref() : r.ref;
}

basic_actor_ref supervisor_ref::start_child(child_spec const& spec, boost::system::error_code& ec) const
{
    std::string reason;
    return start_child(spec, ec, reason);
}

basic_actor_ref supervisor_ref::start_child(child_spec const& spec) const
{
    boost::system::error_code ec;
    std::string reason;
    auto r = start_child(spec, ec, reason);
    if(ec)
        throw_with(ec, "spindle::supervisor_ref::start_child", reason);
    return r;
}

bool supervisor_ref::terminate_child(basic_actor_ref const& child, boost::system::error_code& ec) const
{
    if(!child)
    {
        ec = error::invalid_argument;
        return false;
    }
    return ask_sup<bool>(ref_, detail::sup_terminate_child{child.id(), {}}, ec);
}

bool supervisor_ref::terminate_child(basic_actor_ref const& child) const
{
    boost::system::error_code ec;
    auto r = terminate_child(child, ec);
    if(ec)
        detail::throw_error(ec, "spindle::supervisor_ref::terminate_child");
    return r;
}

bool supervisor_ref::terminate_child(std::string_view id, boost::system::error_code& ec) const
{
    if(id.empty())
    {
        ec = error::invalid_argument;
        return false;
    }
    return ask_sup<bool>(ref_, detail::sup_terminate_child{actor_id{}, std::string(id)}, ec);
}

bool supervisor_ref::terminate_child(std::string_view id) const
{
    boost::system::error_code ec;
    auto r = terminate_child(id, ec);
    if(ec)
        detail::throw_error(ec, "spindle::supervisor_ref::terminate_child");
    return r;
}

basic_actor_ref supervisor_ref::restart_child(std::string_view id, boost::system::error_code& ec) const
{
    auto r = ask_sup<detail::sup_started>(ref_, detail::sup_restart_child{std::string(id)}, ec);
    if(ec)
        return {};
    ec = r.ec;
    return ec ? basic_actor_ref() : r.ref;
}

basic_actor_ref supervisor_ref::restart_child(std::string_view id) const
{
    boost::system::error_code ec;
    auto r = ask_sup<detail::sup_started>(ref_, detail::sup_restart_child{std::string(id)}, ec);
    if(!ec)
        ec = r.ec;
    if(ec)
        throw_with(ec, "spindle::supervisor_ref::restart_child", r.reason);
    return r.ref;
}

void supervisor_ref::delete_child(std::string_view id, boost::system::error_code& ec) const
{
    auto r = ask_sup<detail::sup_started>(ref_, detail::sup_delete_child{std::string(id)}, ec);
    if(!ec)
        ec = r.ec;
}

void supervisor_ref::delete_child(std::string_view id) const
{
    boost::system::error_code ec;
    delete_child(id, ec);
    if(ec)
        throw_with(ec, "spindle::supervisor_ref::delete_child", "child '" + std::string(id) + "'");
}

child_counts supervisor_ref::count_children(boost::system::error_code& ec) const
{
    return ask_sup<child_counts>(ref_, detail::sup_count_children{}, ec);
}

child_counts supervisor_ref::count_children() const
{
    boost::system::error_code ec;
    auto r = count_children(ec);
    if(ec)
        detail::throw_error(ec, "spindle::supervisor_ref::count_children");
    return r;
}

std::vector<child_info> supervisor_ref::which_children(boost::system::error_code& ec) const
{
    return ask_sup<std::vector<child_info>>(ref_, detail::sup_child_infos{}, ec);
}

std::vector<child_info> supervisor_ref::which_children() const
{
    boost::system::error_code ec;
    auto r = which_children(ec);
    if(ec)
        detail::throw_error(ec, "spindle::supervisor_ref::which_children");
    return r;
}

std::vector<basic_actor_ref> supervisor_ref::children(boost::system::error_code& ec) const
{
    return ask_sup<std::vector<basic_actor_ref>>(ref_, detail::sup_which_children{}, ec);
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
