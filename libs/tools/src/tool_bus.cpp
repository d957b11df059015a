//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The tool bus: a snapshot of tools and grants read without locks, calls
// run on the lanes of an executor of its own, timed out by one timer per
// call that cancels the task (and so fires the tool's stop token).

#include <spindle/tools/tool_bus.hpp>

#include "bus_impl.hpp"

#include <spindle/error.hpp>
#include <spindle/log.hpp>

#include <boost/fiber/fss.hpp>

#include <algorithm>
#include <limits>
#include <thread>
#include <utility>

namespace spindle::tools {

namespace json = boost::json;

namespace detail {

namespace {

std::atomic<std::uint64_t> next_bus_number{1};
std::atomic<std::uint64_t> next_bus_serial{1};

constexpr tool_error counted_kinds[] = {
    tool_error::access_denied, tool_error::invalid_params, tool_error::timed_out, tool_error::tool_failed,
    tool_error::cancelled,     tool_error::busy,           tool_error::bus_stopped, tool_error::depth_exceeded,
};

char const* const calls_help = "Tool calls that named an existing tool";
char const* const successes_help = "Tool calls that returned a result";
char const* const errors_help = "Tool calls that failed, by kind of error";
char const* const execution_help = "Execution time of tools, from the start of execute to its end";
char const* const last_help = "Execution time of the latest execution of a tool";
char const* const not_found_help = "Tool calls that named no registered tool";

metrics::labels_type tool_labels(std::string const& bus, std::string const& tool)
{
    return {{"bus", bus}, {"tool", tool}};
}

time_point saturating_add(time_point now, std::chrono::nanoseconds d) noexcept
{
    if(d >= time_point::max() - now)
        return time_point::max();
    return now + d;
}

bool allowed(permission_table const& p, agent_id a, std::string_view tool) noexcept
{
    auto it = p.agents.find(a);
    if(it == p.agents.end())
        return false;
    agent_grants const& g = it->second;
    if(g.all)
        return !std::binary_search(g.denied.begin(), g.denied.end(), tool, std::less<>());
    return std::binary_search(g.granted.begin(), g.granted.end(), tool, std::less<>());
}

void insert_sorted(std::vector<std::string>& v, std::string_view s)
{
    auto it = std::lower_bound(v.begin(), v.end(), s, std::less<>());
    if(it == v.end() || *it != s)
        v.emplace(it, s);
}

bool erase_sorted(std::vector<std::string>& v, std::string_view s)
{
    auto it = std::lower_bound(v.begin(), v.end(), s, std::less<>());
    if(it == v.end() || *it != s)
        return false;
    v.erase(it);
    return true;
}

/** The call whose tool runs on the current fiber (null elsewhere): a
    direct call made from there with a root credential would shed the
    chain of agents the tool serves. Fiber-specific, as a tool may block
    and let other fibers run on its thread. Never destroyed: fibers of
    the system may outlive any static.
*/
boost::fibers::fiber_specific_ptr<call_frame>& current_frame()
{
    static auto* p = new boost::fibers::fiber_specific_ptr<call_frame>([](call_frame*) {});
    return *p;
}

/// Marks the current fiber as running `f`'s tool for its scope.
class running_scope
{
    call_frame* f_;
    call_frame* prev_;

public:
    explicit running_scope(call_frame* f) : f_(f), prev_(current_frame().get())
    {
        current_frame().reset(f); // may throw (std::bad_alloc): then nothing was marked
        f_->running.store(true, std::memory_order_release);
    }
    ~running_scope()
    {
        current_frame().reset(prev_);
        f_->running.store(false, std::memory_order_release);
    }
    running_scope(running_scope const&) = delete;
    running_scope& operator=(running_scope const&) = delete;
};

struct cancel_on_stop
{
    call_frame* f;
    void operator()() const noexcept { f->request_cancel(call_frame::caller_cancelled); }
};

void validate_options(tool_bus_options const& o)
{
    char const* bad = nullptr;
    if(o.timeout.count() <= 0)
        bad = "spindle::tools::tool_bus: timeout must be positive";
    else if(o.max_concurrent == 0 || o.max_concurrent > 65535)
        bad = "spindle::tools::tool_bus: max_concurrent must be between 1 and 65535";
    else if(o.queue_capacity == 0 || o.queue_capacity > (std::size_t(1) << 23))
        bad = "spindle::tools::tool_bus: queue_capacity must be between 1 and 8388608";
    else if(o.max_depth == 0)
        bad = "spindle::tools::tool_bus: max_depth must be at least 1";
    else if(o.shutdown_deadline.count() < 0)
        bad = "spindle::tools::tool_bus: shutdown_deadline must not be negative";
    if(bad)
        spindle::detail::throw_error(error::invalid_argument, bad);
}

} // namespace

std::string describe_call(std::string_view tool, std::string_view agents, std::string_view detail, std::size_t* who)
{
    std::string s = "tool \"";
    s += tool;
    s += "\" called by agent ";
    s += agents;
    if(who)
        *who = s.size();
    if(!detail.empty())
    {
        s += ": ";
        s += detail;
    }
    return s;
}

std::string with_error_text(std::string message, std::size_t who, boost::system::error_code const& ec)
{
    if(who > message.size())
        who = message.size();
    message.insert(who, ": " + ec.message());
    return message;
}

bus_impl::bus_impl(spindle::system& sys, tool_bus_options opts)
    : sys_(sys)
    , timers_(sys.timers())
    , reg_(sys.metrics())
    , opts_(std::move(opts))
    , serial_(next_bus_serial.fetch_add(1))
{
    not_found_ = &reg_.counter("spindle_tool_not_found_total", not_found_help, {{"bus", opts_.name}});
    auto st = std::make_shared<bus_state>();
    st->tools = std::make_shared<tool_table const>();
    st->perms = std::make_shared<permission_table const>();
    state_.store(std::move(st));
}

std::string bus_impl::agent_label(permission_table const& p, agent_id a) const
{
    auto it = p.names.find(a);
    if(it == p.names.end())
        return a.to_string();
    return "\"" + it->second + "\" (" + a.to_string() + ")";
}

call_outcome bus_impl::run(std::shared_ptr<call_frame> const& f, std::stop_token st) noexcept
{
    call_outcome o;
    tool_entry const& e = *f->entry;
    f->stop = std::move(st);
    // the call's span is current while the tool runs, on this fiber
    void* const span = std::exchange(f->trace_span, nullptr);
    void* const active = span ? f->trace->activate(span) : nullptr;
    auto const t0 = timers_.now();
    try
    {
        tool_context ctx(f);
        running_scope running(f.get());
        tool_result r = e.impl->execute(std::move(f->params), ctx);
        std::vector<schema_violation> why;
        if(!r)
        {
            o.ec = r.error() == tool_error::invalid_params ? tool_error::invalid_params : tool_error::tool_failed;
            o.detail = r.message().empty() ? r.error().message() : r.message();
        }
        else if(e.returns && !e.returns->validate(r.value(), why))
        {
            o.ec = tool_error::tool_failed;
            o.detail = "the result does not match the tool's returns schema: " + to_string(why);
        }
        else
            o.value = std::move(r).value();
    }
    catch(boost::system::system_error const& x)
    {
        o.ec = x.code() == tool_error::invalid_params ? tool_error::invalid_params : tool_error::tool_failed;
        try
        {
            o.detail = std::string("the tool threw: ") + x.what();
        }
        catch(...)
        {
        }
    }
    catch(std::exception const& x)
    {
        o.ec = tool_error::tool_failed;
        try
        {
            o.detail = std::string("the tool threw: ") + x.what();
        }
        catch(...)
        {
        }
    }
    catch(...)
    {
        o.ec = tool_error::tool_failed;
        try
        {
            o.detail = "the tool threw a non-standard exception";
        }
        catch(...)
        {
        }
    }
    if(active)
        f->trace->leave(active);
    if(span)
        f->trace->finish(span, static_cast<bool>(o.ec), o.detail);
    auto const ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timers_.now() - t0).count();
    // recorded before the result is published, so a caller that got it sees it counted
    e.series.execution->observe(static_cast<double>(ns) * 1e-9);
    e.last_ns.store(ns, std::memory_order_relaxed);
    return o;
}

json::value bus_impl::call(agent_credential const& cred, tool_key key, json::value params, call_options const& opts,
                           boost::system::error_code& ec, std::string* message, std::size_t* who)
{
    auto st = load();
    agent_id const agent = cred.id();

    // 1. the tool exists
    std::shared_ptr<tool_entry> const* found = nullptr;
    if(key.by_id())
    {
        auto it = st->tools->by_id.find(key.id());
        if(it != st->tools->by_id.end())
            found = &it->second;
    }
    else
    {
        auto it = st->tools->by_name.find(key.name());
        if(it != st->tools->by_name.end())
            found = &it->second;
    }
    if(!found && !st->exec)
    {
        ec = tool_error::bus_stopped;
        if(message)
            *message = "the tool bus has stopped (agent " + agent_label(*st->perms, agent) + ")";
        if(who && message)
            *who = message->size();
        return nullptr;
    }
    if(!found)
    {
        not_found_->inc();
        ec = tool_error::not_found;
        if(message)
        {
            std::string const name = key.by_id() ? key.id().to_string() : "\"" + std::string(key.name()) + "\"";
            *message = "no tool " + std::string(key.by_id() ? "with id " : "named ") + name +
                       " is registered (agent " + agent_label(*st->perms, agent) + ")";
            if(who)
                *who = message->size();
        }
        return nullptr;
    }
    tool_entry const& e = **found;
    e.series.calls->inc();

    // the chain of agents the call is made for: a delegated credential's call's
    std::shared_ptr<call_frame const> via;
    std::span<agent_id const> on_behalf_of;

    auto fail = [&](tool_error err, auto&& detail) -> json::value {
        e.series.errors[static_cast<std::size_t>(err)]->inc();
        ec = err;
        if(message)
        {
            std::string agents = agent_label(*st->perms, agent);
            if(!on_behalf_of.empty())
            {
                agents += " on behalf of ";
                for(std::size_t i = 0; i < on_behalf_of.size(); ++i)
                {
                    if(i)
                        agents += ", ";
                    agents += agent_label(*st->perms, on_behalf_of[i]);
                }
            }
            *message = describe_call(e.schema.name, agents, detail(), who);
        }
        return nullptr;
    };

    // 2. the credential is one this bus issued, still valid
    agent_record const* rec = credential_access::record(cred);
    if(!rec)
        return fail(tool_error::access_denied, [] {
            return std::string("the credential is empty (credentials come from tool_bus::add_agent; a tool calling "
                               "other tools needs tool_options::identity)");
        });
    if(rec->bus_serial != serial_)
        return fail(tool_error::access_denied, [] { return std::string("the credential was issued by another tool bus"); });
    {
        auto it = st->perms->credentials.find(rec->id);
        if(it == st->perms->credentials.end() || it->second.get() != rec)
            return fail(tool_error::access_denied, [] {
                return std::string("the agent was removed from the bus: its credential is void");
            });
    }
    if(cred.delegated())
    {
        via = credential_access::via(cred);
        if(!via || !via->running.load(std::memory_order_acquire))
            return fail(tool_error::access_denied, [] {
                return std::string("the credential was delegated by a tool call that has ended");
            });
        on_behalf_of = std::span<agent_id const>(via->chain.data(), via->chain.size());
    }
    // Inside a running tool of this bus, only that call's own delegated
    // credential may call: any other would shed its callers' limits.
    if(call_frame const* inside = current_frame().get();
       inside && inside->entry->bus.get() == this && via.get() != inside)
    {
        on_behalf_of = std::span<agent_id const>(inside->chain.data(), inside->chain.size());
        return fail(tool_error::access_denied, [&] {
            return "called directly from inside tool \"" + inside->entry->schema.name + "\" with " +
                   (via ? "another call's credential" : "a root credential") +
                   ": a tool calls other tools through its own tool_context";
        });
    }

    // 3. the chain of agents is not too long
    if(on_behalf_of.size() + 1 > opts_.max_depth)
        return fail(tool_error::depth_exceeded, [&] {
            return "a chain of " + std::to_string(on_behalf_of.size() + 1) + " agents exceeds max_depth " +
                   std::to_string(opts_.max_depth);
        });

    // 4. every agent may use it: those called for first, then the caller
    for(agent_id a : on_behalf_of)
        if(!allowed(*st->perms, a, e.schema.name))
            return fail(tool_error::access_denied, [&] {
                return "agent " + agent_label(*st->perms, a) + " may not use \"" + e.schema.name +
                       "\", and no agent may use it on its behalf";
            });
    if(!allowed(*st->perms, agent, e.schema.name))
        return fail(tool_error::access_denied,
                    [&] { return "agent " + agent_label(*st->perms, agent) + " has no grant for \"" + e.schema.name + "\""; });

    // 5. the parameters match the schema
    if(params.is_null())
        params = json::object();
    if(!e.params.validate(params))
        return fail(tool_error::invalid_params, [&] {
            std::vector<schema_violation> why;
            e.params.validate(params, why);
            return to_string(why);
        });

    if(!st->exec)
        return fail(tool_error::bus_stopped, [] { return std::string("the bus has stopped"); });
    if(opts.stop.stop_requested())
        return fail(tool_error::cancelled, [] { return std::string("cancelled before it started"); });

    // the earliest of the caller's deadline, the tool's timeout and the bus's
    auto const now = timers_.now();
    time_point dl = opts.deadline;
    if(opts.timeout != std::chrono::nanoseconds::max())
        dl = std::min(dl, saturating_add(now, opts.timeout));
    dl = std::min(dl, saturating_add(now, e.options.timeout));
    dl = std::min(dl, saturating_add(now, opts_.timeout));
    if(dl <= now)
        return fail(tool_error::timed_out, [] { return std::string("the deadline had passed before it started"); });

    auto frame = std::make_shared<call_frame>();
    frame->entry = *found;
    frame->chain.reserve(on_behalf_of.size() + 1);
    frame->chain.assign(on_behalf_of.begin(), on_behalf_of.end());
    frame->chain.push_back(agent);
    frame->deadline = dl;
    frame->params = std::move(params);
    if(auto const* th = spindle::detail::trace_hooks_table.load(std::memory_order_acquire)) [[unlikely]]
    {
        frame->trace = th;
        frame->trace_span = th->start("tool " + e.schema.name, 1 /* INTERNAL */, {}, {});
        if(frame->trace_span)
        {
            th->set_string(frame->trace_span, "tool.name", e.schema.name);
            th->set_string(frame->trace_span, "tool.caller", agent.to_string());
        }
    }

    // Armed before the task exists: a tool never runs without its timeout.
    boost::system::error_code tec;
    timer_id const timer = timers_.start_at(
        dl, [f = frame]() noexcept { f->request_cancel(call_frame::deadline_passed); }, tec);
    if(tec)
        return fail(tool_error::bus_stopped, [] { return std::string("the actor system has stopped"); });

    task_options to;
    to.timeout = std::chrono::nanoseconds::max(); // the call's timer does it, from the caller's side
    boost::system::error_code sec;
    auto h = st->exec->exec.try_submit(
        [f = frame](std::stop_token stop) { return f->entry->bus->run(f, std::move(stop)); }, to, sec);
    st.reset(); // no snapshot is held while waiting (see ~tool_bus)
    if(sec)
    {
        timers_.cancel(timer);
        frame->detach();
        st = load(); // for the agents' names in the message
        if(sec == task_error::queue_full)
            return fail(tool_error::busy, [&] {
                return "its queue is full (" + std::to_string(opts_.queue_capacity) + " calls waiting)";
            });
        return fail(tool_error::bus_stopped, [] { return std::string("the bus has stopped"); });
    }

    frame->attach(h);
    struct detach_guard
    {
        call_frame& f;
        ~detach_guard() { f.detach(); }
    } guard{*frame};
    {
        std::optional<std::stop_callback<cancel_on_stop>> on_stop;
        if(opts.stop.stop_possible())
            on_stop.emplace(opts.stop, cancel_on_stop{frame.get()});
        h.wait();
    }
    timers_.cancel(timer);
    int const why = frame->detach();

    auto const& r = h.result();
    if(r && !r->ec)
    {
        e.series.successes->inc();
        ec = {};
        return std::move(h).get().value;
    }
    st = load(); // for the agents' names in the message
    if(r)
    {
        auto const err = static_cast<tool_error>(r->ec.value());
        return fail(err, [&] { return r->detail; });
    }
    if(r.error() == task_error::cancelled)
    {
        if(why == call_frame::caller_cancelled)
            return fail(tool_error::cancelled, [] { return std::string("the caller cancelled it; the tool was asked to stop"); });
        return fail(tool_error::timed_out, [&] {
            return "no result by its deadline (the earliest of the caller's, the tool's timeout " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(e.options.timeout).count()) +
                   " ms and the bus's " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(opts_.timeout).count()) +
                   " ms); the tool was asked to stop";
        });
    }
    if(r.error() == task_error::executor_stopped)
        return fail(tool_error::bus_stopped, [] { return std::string("the bus stopped during the call"); });
    // only an exception out of the runner itself (std::bad_alloc) gets here
    return fail(tool_error::tool_failed, [] { return std::string("the tool's runner failed (out of memory)"); });
}

tool_id bus_impl::register_tool(std::shared_ptr<tool> t, tool_options const& opts, boost::system::error_code& ec,
                                std::string* why)
{
    auto fail = [&](boost::system::error_code err, std::string msg) {
        ec = err;
        if(why)
            *why = std::move(msg);
        return tool_id();
    };
    if(!t)
        return fail(error::invalid_argument, "the tool is null");
    if(opts.timeout.count() <= 0)
        return fail(error::invalid_argument, "tool_options::timeout must be positive");
    auto e = std::make_shared<tool_entry>();
    e->schema = t->schema();
    std::string w;
    check_schema(e->schema, ec, &w);
    if(ec)
        return fail(ec, "tool \"" + e->schema.name + "\": " + w);
    e->params = json_schema::compile(effective_parameters(e->schema), ec);
    if(!ec && !e->schema.returns.is_null())
        e->returns = json_schema::compile(e->schema.returns, ec);
    if(ec)
        return fail(ec, "tool \"" + e->schema.name + "\": malformed schema");
    e->function_spec = to_function_spec(e->schema);
    e->options = opts;
    if(auto const* rec = credential_access::record(opts.identity))
    {
        // checked again at each nested call: the agent may be removed later
        bool valid = !opts.identity.delegated() && rec->bus_serial == serial_;
        if(valid)
        {
            auto cur = load();
            auto it = cur->perms->credentials.find(rec->id);
            valid = it != cur->perms->credentials.end() && it->second.get() == rec;
        }
        if(!valid)
            return fail(error::invalid_argument, "tool \"" + e->schema.name +
                                                     "\": tool_options::identity is not a root credential of this "
                                                     "bus's registered agents");
    }
    e->impl = std::move(t);
    e->id = tool_id::generate();
    e->bus = shared_from_this();

    auto const labels = tool_labels(opts_.name, e->schema.name);
    e->series.calls = &reg_.striped_counter("spindle_tool_calls_total", calls_help, labels);
    e->series.successes = &reg_.striped_counter("spindle_tool_successes_total", successes_help, labels);
    for(tool_error k : counted_kinds)
    {
        auto l = labels;
        l.emplace_back("kind", std::string(to_string(k)));
        e->series.errors[static_cast<std::size_t>(k)] = &reg_.counter("spindle_tool_errors_total", errors_help, l);
    }
    e->series.execution =
        &reg_.histogram("spindle_tool_execution_seconds", execution_help, metrics::default_buckets(), labels);

    std::lock_guard lk(write_mtx_);
    auto cur = load();
    if(!cur->exec)
        return fail(tool_error::bus_stopped, "tool \"" + e->schema.name + "\": the bus has stopped");
    if(cur->tools->by_name.count(e->schema.name))
        return fail(tool_error::name_taken, "tool \"" + e->schema.name + "\": a tool of that name is registered");
    tool_id const id = e->id;
    update([&](bus_state& s) {
        auto tools = std::make_shared<tool_table>(*s.tools);
        tools->by_id.emplace(e->id, e);
        tools->by_name.emplace(e->schema.name, e);
        s.tools = std::move(tools);
    });
    ec = {};
    return id;
}

agent_credential bus_impl::add_agent(agent_id id, std::string_view name, boost::system::error_code& ec)
{
    if(id.is_nil())
    {
        ec = error::invalid_argument;
        return {};
    }
    auto rec = std::make_shared<agent_record>();
    rec->id = id;
    rec->bus_serial = serial_;
    std::lock_guard lk(write_mtx_);
    auto cur = load();
    if(!cur->exec)
    {
        ec = tool_error::bus_stopped;
        return {};
    }
    if(cur->perms->credentials.count(id))
    {
        ec = tool_error::agent_exists;
        return {};
    }
    update([&](bus_state& s) {
        auto p = std::make_shared<permission_table>(*s.perms);
        p->credentials.emplace(id, rec);
        if(!name.empty())
            p->names[id] = std::string(name);
        s.perms = std::move(p);
    });
    ec = {};
    return credential_access::make(std::move(rec), {}, false);
}

void bus_impl::shutdown(std::chrono::nanoseconds deadline)
{
    std::shared_ptr<executor_box> box;
    {
        std::lock_guard lk(write_mtx_);
        box = load()->exec;
        if(!box)
            return;
        update([](bus_state& s) { s.exec.reset(); });
    }
    box->exec.shutdown(deadline);
}

} // namespace detail

//------------------------------------------------------------------------------
// tool_bus

tool_bus::tool_bus(spindle::system& sys, tool_bus_options opts)
{
    detail::validate_options(opts);
    if(sys.stopping())
        spindle::detail::throw_error(error::system_stopped, "spindle::tools::tool_bus");
    if(opts.name.empty())
        opts.name = "tools-" + std::to_string(detail::next_bus_number.fetch_add(1));
    executor_options eo;
    eo.name = "tool_bus/" + opts.name;
    eo.max_concurrent = opts.max_concurrent;
    eo.queue_capacity = opts.queue_capacity;
    eo.submit_timeout = std::chrono::nanoseconds::zero();
    eo.shutdown_deadline = opts.shutdown_deadline;
    eo.trace_tasks = false; // the call's own span ("tool <name>") is current while the tool runs
    std::shared_ptr<detail::executor_box> box;
    try
    {
        box = std::make_shared<detail::executor_box>(sys, std::move(eo));
    }
    catch(boost::system::system_error const& e)
    {
        if(e.code() == error::invalid_argument)
            spindle::detail::throw_error(error::invalid_argument,
                                         ("spindle::tools::tool_bus: the name \"" + opts.name +
                                          "\" is already in use in this system")
                                             .c_str());
        throw;
    }
    impl_ = std::make_shared<detail::bus_impl>(sys, std::move(opts));
    impl_->exec_owner_ = box;
    impl_->update([&](detail::bus_state& s) { s.exec = box; });
    detail::bus_impl* self = impl_.get();
    impl_->last_collector_ = impl_->reg_.add_collector(
        "spindle_tool_last_execution_seconds", detail::last_help, metrics::metric_type::gauge,
        [self](std::vector<metrics::sample>& out) {
            auto st = self->load();
            for(auto const& [name, e] : st->tools->by_name)
                out.emplace_back(detail::tool_labels(self->opts_.name, name),
                                 static_cast<double>(e->last_ns.load(std::memory_order_relaxed)) * 1e-9);
        });
}

tool_bus::~tool_bus()
{
    impl_->shutdown(impl_->opts_.shutdown_deadline);
    // A caller reaches the executor only through a snapshot, which it holds
    // for a few instructions and never while it waits: once no snapshot
    // refers to the executor, nothing can, and it may go.
    std::shared_ptr<detail::executor_box> box = std::move(impl_->exec_owner_);
    while(box && box.use_count() > 1)
        std::this_thread::yield();
    box.reset();
    impl_->reg_.remove_collector(impl_->last_collector_);
    // the entries keep the bus alive for calls still running: let go of them
    std::lock_guard lk(impl_->write_mtx_);
    impl_->update([](detail::bus_state& s) { s.tools = std::make_shared<detail::tool_table const>(); });
}

tool_id tool_bus::register_tool(std::shared_ptr<tool> t, tool_options const& opts, boost::system::error_code& ec)
{
    return impl_->register_tool(std::move(t), opts, ec, nullptr);
}

tool_id tool_bus::register_tool(std::shared_ptr<tool> t, tool_options const& opts)
{
    boost::system::error_code ec;
    std::string why;
    tool_id id = impl_->register_tool(std::move(t), opts, ec, &why);
    if(ec)
        spindle::detail::throw_error(ec, ("spindle::tools::tool_bus::register_tool: " + why).c_str());
    return id;
}

bool tool_bus::unregister_tool(tool_key key)
{
    std::lock_guard lk(impl_->write_mtx_);
    auto cur = impl_->load();
    std::shared_ptr<detail::tool_entry> e;
    if(key.by_id())
    {
        auto it = cur->tools->by_id.find(key.id());
        if(it != cur->tools->by_id.end())
            e = it->second;
    }
    else
    {
        auto it = cur->tools->by_name.find(key.name());
        if(it != cur->tools->by_name.end())
            e = it->second;
    }
    if(!e)
        return false;
    impl_->update([&](detail::bus_state& s) {
        auto tools = std::make_shared<detail::tool_table>(*s.tools);
        tools->by_id.erase(e->id);
        tools->by_name.erase(e->schema.name);
        s.tools = std::move(tools);
    });
    return true;
}

namespace {

tool_info info_of(detail::tool_entry const& e)
{
    tool_info i{e.id, e.schema, e.options, e.options.identity.id()};
    i.options.identity = {}; // the credential stays with the bus
    return i;
}

detail::tool_entry const* find_entry(detail::bus_state const& s, tool_key key)
{
    if(key.by_id())
    {
        auto it = s.tools->by_id.find(key.id());
        return it == s.tools->by_id.end() ? nullptr : it->second.get();
    }
    auto it = s.tools->by_name.find(key.name());
    return it == s.tools->by_name.end() ? nullptr : it->second.get();
}

} // namespace

std::optional<tool_info> tool_bus::find(tool_key tool) const
{
    auto st = impl_->load();
    if(auto const* e = find_entry(*st, tool))
        return info_of(*e);
    return std::nullopt;
}

std::vector<tool_info> tool_bus::tools() const
{
    auto st = impl_->load();
    std::vector<tool_info> v;
    v.reserve(st->tools->by_name.size());
    for(auto const& [name, e] : st->tools->by_name)
        v.push_back(info_of(*e));
    std::sort(v.begin(), v.end(), [](tool_info const& a, tool_info const& b) { return a.schema.name < b.schema.name; });
    return v;
}

//------------------------------------------------------------------------------
// agents

agent_credential tool_bus::add_agent(std::string_view name)
{
    boost::system::error_code ec;
    agent_credential c = impl_->add_agent(agent_id::generate(), name, ec);
    if(ec)
        spindle::detail::throw_error(ec, "spindle::tools::tool_bus::add_agent");
    return c;
}

agent_credential tool_bus::add_agent(agent_id agent, std::string_view name, boost::system::error_code& ec)
{
    return impl_->add_agent(agent, name, ec);
}

agent_credential tool_bus::add_agent(agent_id agent, std::string_view name)
{
    boost::system::error_code ec;
    agent_credential c = impl_->add_agent(agent, name, ec);
    if(ec)
    {
        std::string what = "spindle::tools::tool_bus::add_agent: agent " + agent.to_string();
        what += ec == tool_error::agent_exists ? " is already registered" : ec == error::invalid_argument ? ": a nil id" : "";
        spindle::detail::throw_error(ec, what.c_str());
    }
    return c;
}

bool tool_bus::remove_agent(agent_id agent)
{
    std::lock_guard lk(impl_->write_mtx_);
    auto cur = impl_->load();
    if(!cur->perms->credentials.count(agent))
        return false;
    impl_->update([&](detail::bus_state& s) {
        auto p = std::make_shared<detail::permission_table>(*s.perms);
        p->credentials.erase(agent);
        p->agents.erase(agent);
        p->names.erase(agent);
        s.perms = std::move(p);
    });
    return true;
}

bool tool_bus::has_agent(agent_id agent) const
{
    return impl_->load()->perms->credentials.count(agent) != 0;
}

//------------------------------------------------------------------------------
// permissions

void tool_bus::grant(agent_id agent, tool_key tool, boost::system::error_code& ec)
{
    std::lock_guard lk(impl_->write_mtx_);
    auto cur = impl_->load();
    std::string name;
    if(tool.by_id())
    {
        auto const* e = find_entry(*cur, tool);
        if(!e)
        {
            ec = tool_error::not_found;
            return;
        }
        name = e->schema.name;
    }
    else
    {
        if(!is_valid_tool_name(tool.name()))
        {
            ec = error::invalid_argument;
            return;
        }
        name = std::string(tool.name());
    }
    impl_->update([&](detail::bus_state& s) {
        auto p = std::make_shared<detail::permission_table>(*s.perms);
        auto& g = p->agents[agent];
        detail::erase_sorted(g.denied, name);
        if(!g.all)
            detail::insert_sorted(g.granted, name);
        s.perms = std::move(p);
    });
    ec = {};
}

void tool_bus::grant(agent_id agent, tool_key tool)
{
    boost::system::error_code ec;
    grant(agent, tool, ec);
    if(ec)
    {
        std::string what = "spindle::tools::tool_bus::grant: ";
        what += tool.by_id() ? "no tool with id " + tool.id().to_string() : "invalid tool name \"" + std::string(tool.name()) + "\"";
        spindle::detail::throw_error(ec, what.c_str());
    }
}

bool tool_bus::revoke(agent_id agent, tool_key tool)
{
    std::lock_guard lk(impl_->write_mtx_);
    auto cur = impl_->load();
    std::string name;
    if(tool.by_id())
    {
        auto const* e = find_entry(*cur, tool);
        if(!e)
            return false;
        name = e->schema.name;
    }
    else
        name = std::string(tool.name());
    bool const before = detail::allowed(*cur->perms, agent, name);
    auto it = cur->perms->agents.find(agent);
    if(it == cur->perms->agents.end())
        return false;
    impl_->update([&](detail::bus_state& s) {
        auto p = std::make_shared<detail::permission_table>(*s.perms);
        auto& g = p->agents[agent];
        detail::erase_sorted(g.granted, name);
        if(g.all)
            detail::insert_sorted(g.denied, name);
        s.perms = std::move(p);
    });
    return before;
}

void tool_bus::grant_all(agent_id agent)
{
    std::lock_guard lk(impl_->write_mtx_);
    impl_->update([&](detail::bus_state& s) {
        auto p = std::make_shared<detail::permission_table>(*s.perms);
        auto& g = p->agents[agent];
        g.all = true;
        g.granted.clear();
        g.denied.clear();
        s.perms = std::move(p);
    });
}

bool tool_bus::revoke_all(agent_id agent)
{
    std::lock_guard lk(impl_->write_mtx_);
    auto cur = impl_->load();
    auto it = cur->perms->agents.find(agent);
    if(it == cur->perms->agents.end())
        return false;
    bool const had = it->second.all || !it->second.granted.empty();
    impl_->update([&](detail::bus_state& s) {
        auto p = std::make_shared<detail::permission_table>(*s.perms);
        p->agents.erase(agent);
        s.perms = std::move(p);
    });
    return had;
}

bool tool_bus::may_use(agent_id agent, tool_key tool) const
{
    auto st = impl_->load();
    auto const* e = find_entry(*st, tool);
    return e && detail::allowed(*st->perms, agent, e->schema.name);
}

void tool_bus::name_agent(agent_id agent, std::string_view name)
{
    std::lock_guard lk(impl_->write_mtx_);
    impl_->update([&](detail::bus_state& s) {
        auto p = std::make_shared<detail::permission_table>(*s.perms);
        if(name.empty())
            p->names.erase(agent);
        else
            p->names[agent] = std::string(name);
        s.perms = std::move(p);
    });
}

json::array tool_bus::list_available_tools(agent_id agent) const
{
    auto st = impl_->load();
    std::vector<detail::tool_entry const*> v;
    for(auto const& [name, e] : st->tools->by_name)
        if(detail::allowed(*st->perms, agent, name))
            v.push_back(e.get());
    std::sort(v.begin(), v.end(), [](auto a, auto b) { return a->schema.name < b->schema.name; });
    json::array out;
    out.reserve(v.size());
    for(auto const* e : v)
        out.push_back(e->function_spec);
    return out;
}

//------------------------------------------------------------------------------
// calls

json::value tool_bus::call(agent_credential const& agent, tool_key tool, json::value params,
                           call_options const& opts, boost::system::error_code& ec)
{
    return impl_->call(agent, tool, std::move(params), opts, ec, nullptr);
}

json::value tool_bus::call(agent_credential const& agent, tool_key tool, json::value params,
                           call_options const& opts)
{
    boost::system::error_code ec;
    std::string message;
    json::value v = impl_->call(agent, tool, std::move(params), opts, ec, &message);
    if(ec)
        spindle::detail::throw_error(ec, message.c_str());
    return v;
}

json::value tool_bus::call(agent_credential const& agent, tool_key tool, json::value params,
                           timer_service::time_point deadline)
{
    call_options o;
    o.deadline = deadline;
    return call(agent, tool, std::move(params), o);
}

call_result tool_bus::try_call(agent_credential const& agent, tool_key tool, json::value params,
                               call_options const& opts)
{
    call_result r;
    std::size_t who = 0;
    r.value = impl_->call(agent, tool, std::move(params), opts, r.error, &r.message, &who);
    if(r.error)
        r.message = detail::with_error_text(std::move(r.message), who, r.error);
    return r;
}

//------------------------------------------------------------------------------
// state

tool_stats tool_bus::stats(tool_key tool, boost::system::error_code& ec) const
{
    tool_stats s;
    auto st = impl_->load();
    auto const* e = find_entry(*st, tool);
    if(!e)
    {
        ec = tool_error::not_found;
        return s;
    }
    auto const& m = e->series;
    auto err = [&](tool_error k) { return m.errors[static_cast<std::size_t>(k)]->value(); };
    s.calls = m.calls->value();
    s.successes = m.successes->value();
    s.access_denied = err(tool_error::access_denied);
    s.invalid_params = err(tool_error::invalid_params);
    s.timed_out = err(tool_error::timed_out);
    s.tool_failed = err(tool_error::tool_failed);
    s.cancelled = err(tool_error::cancelled);
    s.busy = err(tool_error::busy);
    s.bus_stopped = err(tool_error::bus_stopped);
    s.depth_exceeded = err(tool_error::depth_exceeded);
    s.errors = s.access_denied + s.invalid_params + s.timed_out + s.tool_failed + s.cancelled + s.busy +
               s.bus_stopped + s.depth_exceeded;
    s.executions = m.execution->count();
    s.total_time = std::chrono::nanoseconds(static_cast<std::int64_t>(m.execution->sum() * 1e9 + 0.5));
    s.last_time = std::chrono::nanoseconds(e->last_ns.load(std::memory_order_relaxed));
    ec = {};
    return s;
}

tool_stats tool_bus::stats(tool_key tool) const
{
    boost::system::error_code ec;
    auto s = stats(tool, ec);
    if(ec)
        spindle::detail::throw_error(ec, "spindle::tools::tool_bus::stats");
    return s;
}

void tool_bus::shutdown(std::chrono::nanoseconds deadline)
{
    impl_->shutdown(deadline);
}

void tool_bus::shutdown()
{
    impl_->shutdown(impl_->opts_.shutdown_deadline);
}

tool_bus_options const& tool_bus::options() const noexcept
{
    return impl_->opts_;
}

spindle::system& tool_bus::system() const noexcept
{
    return impl_->sys_;
}

//------------------------------------------------------------------------------
// tool_context

tool_id tool_context::tool() const noexcept
{
    return frame_ ? frame_->entry->id : tool_id();
}

std::string_view tool_context::tool_name() const noexcept
{
    return frame_ ? std::string_view(frame_->entry->schema.name) : std::string_view();
}

agent_id tool_context::caller() const noexcept
{
    return frame_ ? frame_->chain.back() : agent_id();
}

std::span<agent_id const> tool_context::callers() const noexcept
{
    return frame_ ? std::span<agent_id const>(frame_->chain.data(), frame_->chain.size()) : std::span<agent_id const>();
}

timer_service::time_point tool_context::deadline() const noexcept
{
    return frame_ ? frame_->deadline : timer_service::time_point::max();
}

std::stop_token tool_context::stop_token() const noexcept
{
    return frame_ ? frame_->stop : std::stop_token();
}

timer_service& tool_context::timers() const
{
    if(!frame_)
        spindle::detail::throw_error(tool_error::bus_stopped, "spindle::tools::tool_context::timers: empty context");
    return frame_->entry->bus->timers_;
}

spindle::system& tool_context::system() const
{
    if(!frame_)
        spindle::detail::throw_error(tool_error::bus_stopped, "spindle::tools::tool_context::system: empty context");
    return frame_->entry->bus->sys_;
}

agent_credential::agent_credential(std::shared_ptr<detail::agent_record const> rec,
                                   std::weak_ptr<detail::call_frame const> via, bool delegated) noexcept
    : rec_(std::move(rec)), via_(std::move(via)), delegated_(delegated)
{
}

agent_id agent_credential::id() const noexcept
{
    return rec_ ? rec_->id : agent_id();
}

namespace {

/// The identity of `f`'s tool, bound to `f` (empty if the tool has none).
agent_credential delegated(std::shared_ptr<detail::call_frame const> const& f)
{
    auto const& rec = detail::credential_access::shared_record(f->entry->options.identity);
    if(!rec)
        return {};
    return detail::credential_access::make(rec, f, true);
}

json::value context_call(std::shared_ptr<detail::call_frame const> const& f, tool_key tool, json::value params, boost::system::error_code& ec,
                         std::string* message, std::size_t* who = nullptr)
{
    if(!f)
    {
        ec = tool_error::bus_stopped;
        if(message)
            *message = "an empty tool_context cannot call tools";
        if(who)
            *who = message ? message->size() : 0;
        return nullptr;
    }
    call_options o;
    o.deadline = f->deadline;
    o.stop = f->stop;
    return f->entry->bus->call(delegated(f), tool, std::move(params), o, ec, message, who);
}

} // namespace

agent_credential tool_context::credential() const
{
    return frame_ ? delegated(frame_) : agent_credential();
}

json::value tool_context::call(tool_key tool, json::value params, boost::system::error_code& ec) const
{
    return context_call(frame_, tool, std::move(params), ec, nullptr);
}

json::value tool_context::call(tool_key tool, json::value params) const
{
    boost::system::error_code ec;
    std::string message;
    json::value v = context_call(frame_, tool, std::move(params), ec, &message);
    if(ec)
        spindle::detail::throw_error(ec, message.c_str());
    return v;
}

call_result tool_context::try_call(tool_key tool, json::value params) const
{
    call_result r;
    std::size_t who = 0;
    r.value = context_call(frame_, tool, std::move(params), r.error, &r.message, &who);
    if(r.error)
        r.message = detail::with_error_text(std::move(r.message), who, r.error);
    return r;
}

tool::~tool() = default;

namespace detail {

tool_result agent_failure(boost::system::error_code const& ec, std::string_view tool_name)
{
    std::string what = "agent tool \"" + std::string(tool_name) + "\": ";
    if(ec == error::handler_failed)
        what += "the agent's handler threw (the runtime restarts or stops the agent as configured)";
    else if(ec == error::ask_timeout)
        what += "the agent did not reply by the deadline";
    else if(ec == error::actor_stopped || ec == error::system_stopped)
        what += "the agent has stopped";
    else if(ec == error::mailbox_full)
        what += "the agent's mailbox is full";
    else if(ec == tool_error::cancelled)
        what += "the call was cancelled while the agent worked";
    else
        what += "the agent failed";
    return tool_result::failure(tool_error::tool_failed, std::move(what));
}

} // namespace detail

} // namespace spindle::tools
