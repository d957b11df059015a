//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/tracing.hpp>

#include "pipeline.hpp"

#include <boost/core/demangle.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/fss.hpp>
#include <boost/system/system_error.hpp>

#include <cstdlib>
#include <typeinfo>
#include <unistd.h>

namespace spindle::trace {

namespace {

std::mutex g_install_mutex;
std::shared_ptr<tracing::impl> g_pipe; // guarded by std::atomic_load/store
std::atomic<bool> g_on{false};

// The current span belongs to the fiber: a handler that blocks and resumes
// on another worker keeps it, which a thread_local would not.
boost::fibers::fiber_specific_ptr<span>& current_slot()
{
    static boost::fibers::fiber_specific_ptr<span> slot;
    return slot;
}

std::string env(char const* name)
{
    char const* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

[[noreturn]] void bad_option(std::string const& what)
{
    throw boost::system::system_error(make_error_code(error::bad_option), what);
}

} // namespace

namespace detail {
std::shared_ptr<tracing::impl> installed_pipeline() noexcept
{
    if(!g_on.load(std::memory_order_acquire))
        return nullptr;
    return std::atomic_load_explicit(&g_pipe, std::memory_order_acquire);
}
} // namespace detail

// ---------------------------------------------------------------- deadline

export_deadline::clock_type::time_point export_deadline::limit() const
{
    std::lock_guard lk(m_);
    return limit_;
}

void export_deadline::lower(clock_type::time_point limit)
{
    {
        std::lock_guard lk(m_);
        if(limit < limit_)
            limit_ = limit;
    }
    cv_.notify_all();
}

bool export_deadline::sleep_until(clock_type::time_point t)
{
    std::unique_lock lk(m_);
    for(;;)
    {
        auto const until = std::min(t, limit_);
        if(clock_type::now() >= until)
            return clock_type::now() < limit_;
        cv_.wait_until(lk, until);
    }
}

// ---------------------------------------------------------------- spans

bool span::is_recording() const noexcept
{
    if(!rec_)
        return false;
    std::lock_guard lk(rec_->m);
    return !rec_->ended;
}

void span::set_attribute(std::string key, attribute_value value)
{
    if(!rec_)
        return;
    std::lock_guard lk(rec_->m);
    if(rec_->ended)
        return;
    for(auto& a : rec_->data.attributes)
        if(a.key == key)
        {
            a.value = std::move(value);
            return;
        }
    rec_->data.attributes.push_back(attribute(std::move(key), false));
    rec_->data.attributes.back().value = std::move(value);
}

void span::add_event(std::string name, trace::attributes attrs)
{
    if(!rec_)
        return;
    auto const now = std::chrono::system_clock::now();
    std::lock_guard lk(rec_->m);
    if(!rec_->ended)
        rec_->data.events.push_back({std::move(name), now, std::move(attrs)});
}

void span::add_link(span_context ctx, trace::attributes attrs)
{
    if(!rec_ || !ctx.valid())
        return;
    std::lock_guard lk(rec_->m);
    if(!rec_->ended)
        rec_->data.links.push_back({std::move(ctx), std::move(attrs)});
}

void span::set_status(status_code code, std::string_view message)
{
    if(!rec_ || code == status_code::unset)
        return;
    std::lock_guard lk(rec_->m);
    if(rec_->ended || rec_->data.status == status_code::ok)
        return;
    rec_->data.status = code;
    // the description is only meaningful for an error
    rec_->data.status_message = code == status_code::error ? std::string(message) : std::string();
}

void span::update_name(std::string name)
{
    if(!rec_)
        return;
    std::lock_guard lk(rec_->m);
    if(!rec_->ended)
        rec_->data.name = std::move(name);
}

void span::record_exception(std::exception_ptr ep)
{
    if(!rec_ || !ep)
        return;
    trace::attributes attrs;
    try
    {
        std::rethrow_exception(ep);
    }
    catch(std::exception const& e)
    {
        attrs.emplace_back("exception.type", boost::core::demangle(typeid(e).name()));
        attrs.emplace_back("exception.message", std::string(e.what()));
    }
    catch(...)
    {
        attrs.emplace_back("exception.type", "unknown");
    }
    add_event("exception", std::move(attrs));
}

void span::end(std::optional<std::chrono::system_clock::time_point> end)
{
    if(!rec_)
        return;
    span_data d;
    {
        std::lock_guard lk(rec_->m);
        if(rec_->ended)
            return;
        rec_->ended = true;
        rec_->data.end = end ? *end : std::chrono::system_clock::now();
        d = std::move(rec_->data);
    }
    rec_->pipe->on_end(std::move(d));
}

span start_span(std::string name, span_options opts)
{
    std::optional<span_context> parent = std::move(opts.parent);
    if(!parent && !opts.root)
        if(span const* cur = current_slot().get(); cur && cur->context().valid())
            parent = cur->context();
    if(parent && !parent->valid())
        parent.reset();

    span s;
    auto pipe = detail::installed_pipeline();
    if(!pipe)
    {
        // no SDK: the parent's context passes through unchanged
        if(parent)
            s.ctx_ = *parent;
        return s;
    }
    span_context& ctx = s.ctx_;
    if(parent)
    {
        ctx.trace = parent->trace;
        ctx.state = parent->state;
        ctx.flags = parent->flags & trace_flags::random;
    }
    else
    {
        ctx.trace = trace_id::random();
        ctx.flags = trace_flags::random;
    }
    ctx.span = span_id::random();
    auto const decision = pipe->sampler->should_sample(parent ? &*parent : nullptr, ctx.trace, name, opts.kind);
    if(decision == sampling_decision::record_and_sample)
        ctx.flags |= trace_flags::sampled;
    if(decision == sampling_decision::drop)
        return s;
    auto rec = std::make_shared<detail::span_record>();
    rec->pipe = std::move(pipe);
    span_data& d = rec->data;
    d.context = ctx;
    if(parent)
        d.parent = parent->span;
    d.name = std::move(name);
    d.kind = opts.kind;
    d.start = opts.start ? *opts.start : std::chrono::system_clock::now();
    d.attributes = std::move(opts.attributes);
    d.links = std::move(opts.links);
    rec->pipe->started.fetch_add(1, std::memory_order_relaxed);
    s.rec_ = std::move(rec);
    return s;
}

span_context const* detail::current_context() noexcept
{
    span const* cur = current_slot().get();
    return cur && cur->context().valid() ? &cur->context() : nullptr;
}

span current_span()
{
    if(span const* cur = current_slot().get())
        return *cur;
    return {};
}

scope::scope(span s)
{
    auto& slot = current_slot();
    span* cur = slot.get();
    if(!cur)
    {
        slot.reset(new span(std::move(s)));
        return;
    }
    previous_ = std::exchange(*cur, std::move(s));
}

scope::~scope()
{
    auto& slot = current_slot();
    span* cur = slot.get();
    if(!cur)
        return;
    // A fiber keeps its slot for its next scope and frees it when it ends.
    // A thread's main context (main, an HTTP I/O thread) is never destroyed
    // before the process ends, so nothing would free its slot: free it when
    // its outermost scope ends instead.
    if(!previous_.context().valid() && !previous_.is_recording() &&
       boost::fibers::context::active()->is_context(boost::fibers::type::main_context))
    {
        slot.reset(nullptr); // deletes the span
        return;
    }
    *cur = std::move(previous_);
}

// ---------------------------------------------------------------- pipeline

void tracing::impl::on_end(span_data&& d) noexcept
{
    ended.fetch_add(1, std::memory_order_relaxed);
    bool wake = false;
    {
        std::lock_guard lk(m);
        if(stopped || queue.size() >= opts.batch.max_queue_size)
        {
            queue_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        try
        {
            queue.push_back(std::move(d));
        }
        catch(...)
        {
            queue_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        wake = queue.size() == opts.batch.max_export_batch_size;
    }
    if(wake)
        cv.notify_one();
}

void tracing::impl::run() noexcept
{
    using clock = std::chrono::steady_clock;
    std::vector<span_data> batch;
    std::unique_lock lk(m);
    auto next = clock::now() + opts.batch.schedule_delay;
    for(;;)
    {
        cv.wait_until(lk, next, [&] {
            return stopping || flush_requested != flush_done || queue.size() >= opts.batch.max_export_batch_size;
        });
        bool const draining = stopping || flush_requested != flush_done;
        if(queue.empty())
        {
            if(stopping)
                break;
            flush_done = flush_requested;
            done_cv.notify_all();
            next = clock::now() + opts.batch.schedule_delay;
            continue;
        }
        if(!draining && queue.size() < opts.batch.max_export_batch_size && clock::now() < next)
            continue;
        std::size_t const n = std::min(queue.size(), opts.batch.max_export_batch_size);
        batch.clear();
        for(std::size_t i = 0; i < n; ++i)
        {
            batch.push_back(std::move(queue.front()));
            queue.pop_front();
        }
        auto limit = clock::now() + opts.batch.export_timeout;
        if(stopping)
            limit = std::min(limit, stop_limit);
        export_deadline dl(limit);
        current = &dl;
        if(stopping && clock::now() >= stop_limit)
        {
            export_dropped.fetch_add(batch.size(), std::memory_order_relaxed);
            current = nullptr;
            continue;
        }
        lk.unlock();
        boost::system::error_code ec;
        try
        {
            ec = exporter->export_spans(batch, resource, dl);
        }
        catch(...)
        {
            ec = error::export_failed;
        }
        batches.fetch_add(1, std::memory_order_relaxed);
        if(ec)
            export_dropped.fetch_add(batch.size(), std::memory_order_relaxed);
        else
            exported.fetch_add(batch.size(), std::memory_order_relaxed);
        lk.lock();
        current = nullptr;
        if(queue.size() < opts.batch.max_export_batch_size)
            next = clock::now() + opts.batch.schedule_delay;
    }
    stopped = true;
    done_cv.notify_all();
}

void tracing::impl::shutdown() noexcept
{
    {
        std::lock_guard lk(m);
        if(stopping)
            return;
        stopping = true;
        stop_limit = std::chrono::steady_clock::now() + opts.batch.shutdown_timeout;
        if(current)
            current->lower(stop_limit);
    }
    cv.notify_all();
    if(thread.joinable())
        thread.join();
    {
        std::lock_guard lk(m);
        stopped = true;
        export_dropped.fetch_add(queue.size(), std::memory_order_relaxed);
        queue.clear();
    }
    if(installed)
    {
        std::lock_guard lk(g_install_mutex);
        detail::install_hooks(false, false, false);
        g_on.store(false, std::memory_order_release);
        std::atomic_store_explicit(&g_pipe, std::shared_ptr<tracing::impl>(), std::memory_order_release);
        installed = false;
    }
}

// ---------------------------------------------------------------- tracing

tracing::tracing(tracing_options opts) : impl_(std::make_shared<impl>())
{
    impl& p = *impl_;
    if(std::string const n = env("OTEL_SERVICE_NAME"); !n.empty())
        opts.service_name = n;
    if(opts.batch.max_queue_size == 0 || opts.batch.max_export_batch_size == 0)
        bad_option("spindle::trace::tracing: max_queue_size and max_export_batch_size must be positive");
    p.sampler = opts.sampler;
    if(!p.sampler)
    {
        boost::system::error_code ec;
        p.sampler = sampler_from_name(env("OTEL_TRACES_SAMPLER"), env("OTEL_TRACES_SAMPLER_ARG"), ec);
        if(ec)
            bad_option("spindle::trace::tracing: unknown OTEL_TRACES_SAMPLER '" + env("OTEL_TRACES_SAMPLER") + "'");
    }
    p.exporter = opts.exporter;
    if(!p.exporter)
    {
        std::string url = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        if(url.empty())
        {
            std::string base = opts.endpoint;
            if(std::string const e = env("OTEL_EXPORTER_OTLP_ENDPOINT"); !e.empty())
                base = e;
            if(base.empty())
                base = "http://localhost:4318";
            while(!base.empty() && base.back() == '/')
                base.pop_back();
            url = base + "/v1/traces";
        }
        otlp_http_options o;
        o.url = url;
        p.exporter = std::make_shared<otlp_http_exporter>(std::move(o));
        p.url = url;
    }
    p.resource.emplace_back("service.name", opts.service_name);
    if(!opts.service_version.empty())
        p.resource.emplace_back("service.version", opts.service_version);
    char host[256] = {};
    if(::gethostname(host, sizeof host - 1) == 0 && host[0])
        p.resource.emplace_back("host.name", std::string(host));
    p.resource.emplace_back("telemetry.sdk.name", "spindle");
    p.resource.emplace_back("telemetry.sdk.language", "cpp");
    p.resource.emplace_back("telemetry.sdk.version", "0.1.0");
    for(auto& a : opts.resource)
        p.resource.push_back(a);
    p.opts = std::move(opts);

    std::lock_guard lk(g_install_mutex);
    if(g_on.load(std::memory_order_acquire))
        bad_option("spindle::trace::tracing: tracing is already installed in this process");
    p.thread = std::thread([&p] { p.run(); });
    std::atomic_store_explicit(&g_pipe, impl_, std::memory_order_release);
    g_on.store(true, std::memory_order_release);
    p.installed = true;
    detail::install_hooks(true, p.opts.actors, detail::drops_unsampled_children(*p.sampler));
}

tracing::tracing(tracing&& other) noexcept = default;

tracing::~tracing()
{
    if(impl_)
        impl_->shutdown();
}

void tracing::shutdown()
{
    if(impl_)
        impl_->shutdown();
}

bool tracing::force_flush(std::chrono::milliseconds timeout)
{
    impl& p = *impl_;
    std::unique_lock lk(p.m);
    if(p.stopping)
        return p.queue.empty();
    std::uint64_t const ticket = ++p.flush_requested;
    p.cv.notify_all();
    return p.done_cv.wait_for(lk, timeout, [&] { return p.flush_done >= ticket || p.stopped; });
}

tracing_stats tracing::stats() const noexcept
{
    impl const& p = *impl_;
    tracing_stats s;
    s.spans_started = p.started.load(std::memory_order_relaxed);
    s.spans_ended = p.ended.load(std::memory_order_relaxed);
    s.queue_dropped = p.queue_dropped.load(std::memory_order_relaxed);
    s.export_dropped = p.export_dropped.load(std::memory_order_relaxed);
    s.exported = p.exported.load(std::memory_order_relaxed);
    s.batches = p.batches.load(std::memory_order_relaxed);
    return s;
}

trace::attributes const& tracing::resource() const noexcept { return impl_->resource; }
std::string const& tracing::url() const noexcept { return impl_->url; }

tracing init_tracing(std::string_view service_name, std::string_view endpoint)
{
    tracing_options o;
    o.service_name = std::string(service_name);
    o.endpoint = std::string(endpoint);
    return tracing(std::move(o));
}

std::unique_ptr<tracing> init_tracing(tracing_options opts, boost::system::error_code& ec)
{
    ec = {};
    try
    {
        return std::make_unique<tracing>(std::move(opts));
    }
    catch(boost::system::system_error const& e)
    {
        ec = e.code();
    }
    catch(std::exception const&)
    {
        ec = error::bad_option;
    }
    return nullptr;
}

} // namespace spindle::trace
