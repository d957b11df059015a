//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/detail/actor_cell.hpp>

#include "message_tally.hpp"
#include "system_state.hpp"

#include <spindle/detail/chaos_hooks.hpp>
#include <spindle/detail/completion.hpp>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <typeinfo>

namespace spindle {
namespace detail {

std::string describe_exception(std::exception_ptr ep)
{
    try
    {
        std::rethrow_exception(ep);
    }
    catch(std::exception const& e)
    {
        return readable_type_name(typeid(e)) + ": " + e.what();
    }
    catch(...)
    {
        return "non-standard exception";
    }
}

actor_cell::actor_cell(std::shared_ptr<system_state> sys, mailbox_options const& mb)
    : mb_(mb)
    , sys_(std::move(sys))
    , id_(actor_id::generate())
{
}

boost::intrusive_ptr<actor_cell> actor_cell::make_proxy(system_state& sys, cell_proxy* proxy, actor_id const& id,
    std::type_info const& type, std::string const& name)
{
    boost::intrusive_ptr<actor_cell> c(new actor_cell(sys.shared_from_this(), mailbox_options{}), false);
    c->proxy_ = proxy;
    c->id_ = id;
    c->type_ = &type;
    if(!name.empty())
        c->name_ = std::make_unique<std::string const>(name);
    c->started_ = true;
    c->mb_.never_schedule(); // never queued on a worker
    c->state_.store(cell_state::running, std::memory_order_release);
    return c;
}

void actor_cell::end_proxy(exit_reason why, std::string what) noexcept
{
    if(!mb_.close().was_open)
        return;
    lock_.lock();
    exit_reason_ = why;
    if(!what.empty())
    {
        try
        {
            exit_what_ = std::make_unique<std::string>(std::move(what));
        }
        catch(...)
        {
            // out of memory: the notices go out without the text
        }
    }
    state_.store(cell_state::stopped, std::memory_order_release);
    lock_.unlock();
    notify_watchers();
}

void actor_cell::abandon() noexcept
{
    auto const d = mb_.close();
    mailbox::discard(d.system);
    dead_letter_list(d.user);
}

void actor_cell::dead_letter_list(envelope* e) noexcept
{
    while(e)
    {
        envelope* n = e->next_;
        sys_->dead_letter_(e, *this, error::actor_stopped);
        e = n;
    }
}

void actor_cell::dead_letter(envelope* e, error reason) noexcept
{
    sys_->dead_letter_(e, *this, reason);
}

actor_cell::~actor_cell()
{
    if(proxy_)
        proxy_->release(*this);
    // a cell dies only when stopped (mailbox drained) or never started: the
    // mailbox discards whatever a never-started cell still holds
    delete behavior_;
    if(factory_)
        factory_->release();
    delete watchers_;
    delete ext_.load(std::memory_order_relaxed);
}

void actor_cell::post_system(envelope* e) noexcept
{
    switch(mb_.push_system(e))
    {
    case push_result::ok_schedule:
        sys_->schedule(this);
        break;
    case push_result::closed:
        e->vtable_->discard(e, error::actor_stopped);
        break;
    default:
        break;
    }
}

void actor_cell::set_behavior(actor_base* b) noexcept
{
    behavior_ = b;
    b->cell_ = this;
}

send_status actor_cell::post(envelope* e, bool may_block) noexcept
{
    if(actor_cell const* from = tl_current_cell)
        e->sender_ = from->id_;
    if(trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire)) [[unlikely]]
        if(e->vtable_->traced)
            e->trace_ = h->capture();
    if(proxy_) [[unlikely]]
        return proxy_->post(*this, e, may_block);
    envelope* evicted = nullptr;
    switch(may_block ? mb_.push_wait(e, evicted) : mb_.push(e, evicted))
    {
    case push_result::ok_schedule:
        if(evicted)
            drop(evicted);
        sys_->schedule(this);
        return send_status::ok;
    case push_result::ok:
        if(evicted)
            drop(evicted);
        return send_status::ok;
    case push_result::refused:
        return refuse(e);
    case push_result::dropped:
        return drop(e);
    case push_result::closed:
        break;
    }
    sys_->dead_letter_(e, *this, error::actor_stopped);
    return send_status::stopped;
}

send_status actor_cell::refuse(envelope* e) noexcept
{
    sys_->refused_.fetch_add(1, std::memory_order_relaxed);
    sys_->count_overflow(type_, false);
    try
    {
        ext().refused.fetch_add(1, std::memory_order_relaxed);
    }
    catch(...)
    {
        // out of memory for the per-actor count: the system's still counts it
    }
    sys_->dead_letter_(e, *this, error::mailbox_full);
    return send_status::mailbox_full;
}

send_status actor_cell::drop(envelope* e) noexcept
{
    sys_->dropped_.fetch_add(1, std::memory_order_relaxed);
    sys_->count_overflow(type_, true);
    try
    {
        ext().dropped.fetch_add(1, std::memory_order_relaxed);
    }
    catch(...)
    {
        // out of memory for the per-actor count: the system's still counts it
    }
    sys_->dead_letter_(e, *this, error::message_dropped);
    return send_status::dropped;
}

bool actor_cell::signal(std::uint8_t flags) noexcept
{
    if(proxy_) [[unlikely]]
    {
        if(state_.load(std::memory_order_acquire) == cell_state::stopped)
            return false;
        if(flags & (flag_stop | flag_terminate))
            proxy_->stop(*this);
        return true;
    }
    if(state_.load(std::memory_order_acquire) == cell_state::stopped)
        return false;
    auto const r = mb_.raise(flags);
    if(r == push_result::closed)
        return false;
    if(r == push_result::ok_schedule)
        sys_->schedule(this);
    return true;
}

cell_ext& actor_cell::ext()
{
    if(auto* e = ext_.load(std::memory_order_acquire))
        return *e;
    auto fresh = std::make_unique<cell_ext>();
    cell_ext* expected = nullptr;
    if(ext_.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel))
        return *fresh.release();
    return *expected;
}

namespace {
std::size_t ack_slot(std::uint8_t flag) noexcept
{
    return flag == actor_cell::flag_suspend ? 0 : flag == actor_cell::flag_resume ? 1 : 2;
}
} // namespace

std::shared_ptr<completion_state<void>> actor_cell::request(std::uint8_t flag, exit_reason why, std::string what)
{
    auto& x = ext();
    auto ack = std::make_shared<completion_state<void>>();
    lock_.lock();
    if(state_.load(std::memory_order_relaxed) == cell_state::stopped)
    {
        lock_.unlock();
        return nullptr;
    }
    x.acks[ack_slot(flag)] = ack;
    if(flag == flag_terminate)
    {
        x.term_reason = why;
        x.term_what = std::move(what);
    }
    lock_.unlock();
    // a closed mailbox means the actor is stopping: do_stop completes the ack
    if(mb_.raise(flag) == push_result::ok_schedule)
        sys_->schedule(this);
    return ack;
}

void actor_cell::complete_ack(std::size_t slot) noexcept
{
    auto* x = ext_if();
    if(!x)
        return;
    std::shared_ptr<completion_state<void>> ack;
    lock_.lock();
    ack.swap(x->acks[slot]);
    lock_.unlock();
    if(ack)
        ack->set_value();
}

std::shared_ptr<completion_state<void>> actor_cell::await_start()
{
    auto& x = ext();
    auto ack = std::make_shared<completion_state<void>>();
    std::lock_guard lk(lock_);
    if(started_ || state_.load(std::memory_order_relaxed) == cell_state::stopped)
        return nullptr;
    x.acks[3] = ack;
    return ack;
}

std::vector<boost::intrusive_ptr<actor_cell>> actor_cell::children() const
{
    std::vector<boost::intrusive_ptr<actor_cell>> out;
    auto* x = ext_if();
    if(!x)
        return out;
    std::lock_guard lk(const_cast<spinlock&>(lock_));
    out = x->children;
    return out;
}

void actor_cell::set_children(std::vector<boost::intrusive_ptr<actor_cell>> c)
{
    auto& x = ext();
    lock_.lock();
    x.children.swap(c);
    lock_.unlock();
    // the old list's references are released here, outside the lock
}

bool actor_cell::suspended() const noexcept
{
    return state() == cell_state::suspended;
}

actor_cell::run_result actor_cell::run(std::uint32_t budget, std::uint32_t& handled, message_tally& tally) noexcept
{
    handled = 0;
    for(;;)
    {
        std::uint8_t flags = 0;
        envelope* e = nullptr;
        bool from_sys = false;
        switch(mb_.pop(handled < budget, flags, e))
        {
        case mailbox::next::idle:
            return run_result::idle;
        case mailbox::next::more:
            return run_result::more; // let others run first
        case mailbox::next::system:
            from_sys = true;
            break;
        case mailbox::next::flags:
        case mailbox::next::user:
            break;
        }

        if(flags)
        {
            if(flags & flag_start)
            {
                do_start();
                std::shared_ptr<completion_state<void>> ack;
                lock_.lock();
                started_ = true;
                if(auto* x = ext_if())
                    ack.swap(x->acks[3]);
                lock_.unlock();
                if(ack)
                    ack->set_value();
            }
            if(flags & flag_suspend)
            {
                do_suspend();
                complete_ack(0);
            }
            if(flags & flag_resume)
            {
                do_resume();
                complete_ack(1);
            }
            if(flags & flag_terminate)
            {
                exit_reason why = exit_reason::shutdown;
                std::string what;
                if(auto* x = ext_if())
                {
                    lock_.lock();
                    why = x->term_reason;
                    what.swap(x->term_what);
                    lock_.unlock();
                }
                do_stop(why, std::move(what));
                return run_result::stopped;
            }
            if((flags & flag_stop) && state() != cell_state::stopped)
            {
                bool const shutting = sys_->stopping_.load(std::memory_order_acquire);
                std::string why_text;
                if(auto* x = ext_if())
                {
                    lock_.lock();
                    why_text.swap(x->stop_what);
                    lock_.unlock();
                }
                if(parent_ && !shutting)
                {
                    // a supervised child asked to stop: its supervisor decides
                    if(state() != cell_state::suspended)
                        exit_to_parent(exit_reason::normal, std::move(why_text));
                }
                else
                {
                    do_stop(shutting ? exit_reason::shutdown : exit_reason::normal, std::move(why_text));
                    return run_result::stopped;
                }
            }
            if(state() == cell_state::stopped)
                return run_result::stopped;
            continue;
        }

        if(!from_sys)
        {
            ++handled;
            if(e->vtable_->actor)
                tally.count(e->vtable_);
        }
        std::type_info const* const mtype = e->vtable_->type;
        actor_id const sender = e->sender_; // the envelope is gone once invoked
        behavior_->directive_ = directive::resume;
        std::exception_ptr thrown;
        try
        {
            if(chaos_hooks const* c = chaos_hooks_table.load(std::memory_order_acquire); c && !from_sys) [[unlikely]]
                chaos_before_handler(*c, e, *behavior_); // may throw (the envelope gone): an injected failure
            if(trace_hooks const* h = trace_hooks_table.load(std::memory_order_acquire);
               h && !from_sys && e->vtable_->traced) [[unlikely]]
                traced_invoke(*h, e, *behavior_);
            else
                e->vtable_->invoke(e, *behavior_);
        }
        catch(...)
        {
            thrown = std::current_exception();
        }
        // the common case: handled, nothing reported, nothing requested
        if(!thrown && behavior_ && behavior_->directive_ == directive::resume && !behavior_->reported_) [[likely]]
            continue;
        if(after_handler(std::move(thrown), from_sys, mtype, sender))
            return run_result::stopped;
    }
}

bool actor_cell::after_handler(std::exception_ptr thrown, bool from_sys, std::type_info const* mtype,
                               actor_id const& sender) noexcept
{
    bool failed = thrown != nullptr;
    std::string failure;
    if(failed)
    {
        try
        {
            failure = describe_exception(thrown);
        }
        catch(...)
        {
        }
    }
    bool reported = false;
    bool requested = false;
    if(!failed && behavior_)
    {
        if(behavior_->reported_)
        {
            // fail(what): a failure, but the message itself was handled
            failed = reported = true;
            failure = std::move(*behavior_->reported_);
            behavior_->reported_.reset();
        }
        else if(parent_ && behavior_->directive_ == directive::restart)
        {
            // under a supervisor, a requested restart goes through it
            failed = reported = requested = true;
            failure = "restart requested by the actor";
        }
    }
    if(failed)
    {
        // the failing message is not redelivered: one bad message cannot loop
        sys_->publish(event_type::actor_failed, *this, failure);
        if(!from_sys && !reported)
            sys_->dead_letter_type(mtype, *this, error::handler_failed, sender);
        if(parent_)
        {
            directive const d = requested ? directive::restart : decide_failure(thrown, failure);
            if(d == directive::resume)
            {
                // the decider keeps this object: the next message goes to it
                sys_->report_failure(*this, failure, directive::resume);
                return false;
            }
            exit_to_parent(exit_reason::failure, std::move(failure), d);
            return false;
        }
        if(behavior_)
            behavior_->directive_ = root_decide(failure);
    }
    switch(behavior_ ? behavior_->directive_ : directive::stop)
    {
    case directive::resume:
        break;
    case directive::stop:
    case directive::escalate:
        if(parent_)
        {
            exit_to_parent(exit_reason::normal, {});
            return false;
        }
        if(!failed)
            do_stop(exit_reason::normal);
        else
            do_stop(exit_reason::failure, std::move(failure));
        return true;
    case directive::restart:
        do_restart();
        if(state() == cell_state::stopped)
            return true;
        break;
    }
    return false;
}

void actor_cell::end_incarnation(directive reported) noexcept
{
    if(behavior_)
    {
        try
        {
            behavior_->post_stop();
        }
        catch(...)
        {
            try
            {
                sys_->report_failure(*this, describe_exception(std::current_exception()), reported);
            }
            catch(...)
            {
            }
        }
        delete behavior_;
        behavior_ = nullptr;
    }
    mb_.pause(true);
    state_.store(cell_state::suspended, std::memory_order_release);
}

void actor_cell::do_suspend() noexcept
{
    if(state() == cell_state::suspended || state() == cell_state::stopped)
        return;
    end_incarnation(directive::restart);
}

bool actor_cell::recreate(std::string& what) noexcept
{
    try
    {
        set_behavior(factory_->create());
        return true;
    }
    catch(...)
    {
        try
        {
            what = describe_exception(std::current_exception());
        }
        catch(...)
        {
        }
        sys_->publish(event_type::actor_failed, *this, what);
        return false;
    }
}

void actor_cell::do_resume() noexcept
{
    if(state() != cell_state::suspended)
        return;
    std::string what;
    if(!recreate(what))
    {
        post_exit_again(std::move(what));
        return;
    }
    restarts_.fetch_add(1, std::memory_order_acq_rel);
    sys_->restarts_.fetch_add(1, std::memory_order_relaxed);
    sys_->publish(event_type::actor_restarted, *this, "restart " + std::to_string(restarts_.load()));
    mb_.pause(false);
    do_start();
}

void actor_cell::do_start() noexcept
{
    // the state stays `starting` (first start) or `suspended` (a restart:
    // introspection reads `restarting`) until pre_start has returned
    for(;;)
    {
        behavior_->directive_ = directive::resume;
        std::string what;
        std::exception_ptr ep;
        bool failed = false;
        try
        {
            behavior_->pre_start();
        }
        catch(...)
        {
            failed = true;
            ep = std::current_exception();
            try
            {
                what = describe_exception(ep);
            }
            catch(...)
            {
            }
        }
        if(!failed && behavior_->reported_)
        {
            // fail(what) in pre_start: as if it had thrown
            failed = true;
            what = std::move(*behavior_->reported_);
            behavior_->reported_.reset();
        }
        if(!failed)
        {
            state_.store(cell_state::running, std::memory_order_release);
            // an actor may decide in pre_start that it has nothing to do
            if(behavior_->directive_ == directive::stop)
            {
                if(parent_)
                    exit_to_parent(exit_reason::normal, {});
                else
                    do_stop(exit_reason::normal);
                return;
            }
            sys_->publish(event_type::actor_started, *this);
            return;
        }
        sys_->publish(event_type::actor_failed, *this, what);
        if(!started_)
        {
            // the first pre_start: the actor cannot start, under a supervisor
            // (which reports it from start_child) as under the root guardian
            if(parent_)
            {
                try
                {
                    ext().start_failure = what;
                }
                catch(...)
                {
                }
            }
            sys_->report_failure(*this, what, directive::stop);
            do_stop(exit_reason::failure, std::move(what));
            return;
        }
        // the pre_start of a restart: a failure of the new incarnation
        directive d = parent_ ? decide_failure(ep, what) : root_decide(what);
        if(d == directive::resume)
        {
            if(parent_)
                sys_->report_failure(*this, what, directive::resume);
            state_.store(cell_state::running, std::memory_order_release);
            sys_->publish(event_type::actor_started, *this);
            return;
        }
        if(parent_)
        {
            exit_to_parent(exit_reason::failure, std::move(what), d);
            return;
        }
        if(d != directive::restart)
        {
            do_stop(exit_reason::failure, std::move(what));
            return;
        }
        if(!renew())
            return;
    }
}

bool actor_cell::stop_with(std::string what) noexcept
{
    try
    {
        auto& x = ext();
        lock_.lock();
        x.stop_what = std::move(what);
        lock_.unlock();
    }
    catch(...)
    {
        // out of memory: stop without the reason
    }
    return signal(flag_stop);
}

void actor_cell::close_and_drain() noexcept
{
    auto const d = mb_.close();
    mailbox::discard(d.system);
    dead_letter_list(d.user);
}

void actor_cell::do_stop(exit_reason why, std::string what) noexcept
{
    if(state() == cell_state::stopped)
        return;
    exit_reason_ = why;
    if(!what.empty())
    {
        try
        {
            exit_what_ = std::make_unique<std::string>(std::move(what));
        }
        catch(...)
        {
        }
    }
    state_.store(cell_state::stopping, std::memory_order_release);
    close_and_drain();
    if(behavior_)
    {
        try
        {
            behavior_->post_stop();
        }
        catch(...)
        {
            try
            {
                sys_->report_failure(*this, describe_exception(std::current_exception()), directive::stop);
            }
            catch(...)
            {
            }
        }
        delete behavior_;
        behavior_ = nullptr;
    }
    if(factory_)
    {
        factory_->release();
        factory_ = nullptr;
    }
    std::shared_ptr<completion_state<void>> acks[4];
    mb_.pause(false);
    lock_.lock();
    state_.store(cell_state::stopped, std::memory_order_release);
    if(auto* x = ext_if())
        for(int i = 0; i < 4; ++i)
            acks[i].swap(x->acks[i]);
    lock_.unlock();
    notify_watchers();
    if(sys_->events_.wants(event_type::actor_stopped))
    {
        std::string detail = to_string(why);
        if(exit_what_)
            detail += ": " + *exit_what_;
        sys_->publish(event_type::actor_stopped, *this, std::move(detail));
    }
    for(auto& a : acks)
        if(a)
            a->set_value();
}

bool actor_cell::renew() noexcept
{
    state_.store(cell_state::suspended, std::memory_order_release); // reads `restarting`
    try
    {
        behavior_->post_stop();
    }
    catch(...)
    {
        try
        {
            sys_->report_failure(*this, describe_exception(std::current_exception()), directive::restart);
        }
        catch(...)
        {
        }
    }
    delete behavior_;
    behavior_ = nullptr;
    restarts_.fetch_add(1, std::memory_order_acq_rel);
    sys_->restarts_.fetch_add(1, std::memory_order_relaxed);
    if(std::string what; !recreate(what))
    {
        if(parent_)
        {
            mb_.pause(true);
            state_.store(cell_state::suspended, std::memory_order_release);
            post_exit_again(std::move(what));
            return false;
        }
        try
        {
            sys_->report_failure(*this, what, directive::stop);
        }
        catch(...)
        {
        }
        do_stop(exit_reason::failure, std::move(what));
        return false;
    }
    sys_->publish(event_type::actor_restarted, *this, "restart " + std::to_string(restarts_.load()));
    return true;
}

void actor_cell::do_restart() noexcept
{
    if(renew())
        do_start();
}

} // namespace detail
} // namespace spindle
