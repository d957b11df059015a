//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/event_stream.hpp>

#include <spindle/error.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace spindle {
namespace detail {

namespace {

constexpr std::uint32_t recent_mask =
    event_filter::bit(event_type::actor_failed) | event_filter::bit(event_type::actor_restarted) |
    event_filter::bit(event_type::supervisor_escalated) | event_filter::bit(event_type::deadline_missed) |
    event_filter::bit(event_type::task_failed) | event_filter::bit(event_type::task_timed_out) |
    event_filter::bit(event_type::circuit_opened) | event_filter::bit(event_type::circuit_half_open) |
    event_filter::bit(event_type::circuit_closed) | event_filter::bit(event_type::custom);

} // namespace

/// One subscription: its filter, bounded buffer and delivery thread.
struct subscriber
{
    handler_id id{};
    event_filter filter;
    std::function<void(event const&)> fn;
    std::size_t capacity = 0;

    // Plain mutex: publishers hold it only to push (never across a fiber
    // suspension), the delivery thread only to pop.
    std::mutex m;
    std::condition_variable cv;
    std::deque<event> q;
    bool closed = false;
    std::atomic<std::uint64_t> dropped{0};
    std::thread thread;

    void run() noexcept
    {
        std::unique_lock lk(m);
        for(;;)
        {
            cv.wait(lk, [&] { return closed || !q.empty(); });
            if(closed)
                return;
            event e = std::move(q.front());
            q.pop_front();
            lk.unlock();
            try
            {
                fn(e);
            }
            catch(...)
            {
                // a subscriber's failure is its own; the stream goes on
            }
            lk.lock();
        }
    }
};

struct event_stream_impl
{
    std::atomic<std::uint32_t> interest{recent_mask};
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> dropped{0};

    std::mutex subs_mtx; // guards subs (copy-on-write) and closed
    std::shared_ptr<std::vector<std::shared_ptr<subscriber>> const> subs =
        std::make_shared<std::vector<std::shared_ptr<subscriber>> const>();
    bool closed = false;

    // Orders publications: the sequence number and the fan-out happen
    // together, so every subscriber sees events in sequence order. Taken only
    // when someone wants the event, never across a fiber suspension.
    std::mutex publish_mtx;

    mutable std::mutex recent_mtx;
    std::deque<event> recent;

    void recompute_interest() // under subs_mtx
    {
        std::uint32_t m = recent_mask;
        for(auto const& s : *subs)
            m |= s->filter.mask();
        interest.store(m, std::memory_order_release);
    }

    std::shared_ptr<std::vector<std::shared_ptr<subscriber>> const> snapshot()
    {
        std::lock_guard lk(subs_mtx);
        return subs;
    }

    static void finish(std::shared_ptr<subscriber> const& s) noexcept
    {
        {
            std::lock_guard lk(s->m);
            s->closed = true;
            s->q.clear();
        }
        s->cv.notify_all();
        if(!s->thread.joinable())
            return;
        if(s->thread.get_id() == std::this_thread::get_id())
            s->thread.detach(); // unsubscribing from its own callback: it ends when that returns
        else
            s->thread.join();
    }
};

} // namespace detail

event_stream::event_stream() : impl_(std::make_unique<detail::event_stream_impl>()) {}

event_stream::~event_stream()
{
    close();
}

handler_id event_stream::subscribe(event_filter filter, std::function<void(event const&)> fn, subscribe_options opts)
{
    if(!fn || opts.buffer == 0)
        detail::throw_error(error::invalid_argument, "spindle::event_stream::subscribe: empty callback or zero buffer");
    auto s = std::make_shared<detail::subscriber>();
    s->id = handler_id::generate();
    s->filter = filter;
    s->fn = std::move(fn);
    s->capacity = opts.buffer;
    std::lock_guard lk(impl_->subs_mtx);
    if(impl_->closed)
        detail::throw_error(error::system_stopped, "spindle::event_stream::subscribe");
    // the thread keeps its subscriber alive: one that unsubscribes itself
    // is detached and outlives the stream's reference
    s->thread = std::thread([s] { s->run(); });
    auto next = std::make_shared<std::vector<std::shared_ptr<detail::subscriber>>>(*impl_->subs);
    next->push_back(s);
    impl_->subs = std::move(next);
    impl_->recompute_interest();
    return s->id;
}

bool event_stream::unsubscribe(handler_id h) noexcept
{
    std::shared_ptr<detail::subscriber> gone;
    {
        std::lock_guard lk(impl_->subs_mtx);
        auto const& cur = *impl_->subs;
        auto it = std::find_if(cur.begin(), cur.end(), [h](auto const& s) { return s->id == h; });
        if(it == cur.end())
            return false;
        gone = *it;
        try
        {
            auto next = std::make_shared<std::vector<std::shared_ptr<detail::subscriber>>>();
            next->reserve(cur.size());
            for(auto const& s : cur)
                if(s != gone)
                    next->push_back(s);
            impl_->subs = std::move(next);
        }
        catch(...)
        {
            return false; // out of memory: the subscription stays
        }
        impl_->recompute_interest();
    }
    detail::event_stream_impl::finish(gone);
    return true;
}

bool event_stream::wants(event_type t) const noexcept
{
    return impl_->interest.load(std::memory_order_relaxed) & event_filter::bit(t);
}

void event_stream::publish(event e) noexcept
{
    auto const bit = event_filter::bit(e.type);
    if(!(impl_->interest.load(std::memory_order_acquire) & bit))
        return;
    try
    {
        e.id = event_id::generate();
        e.time = std::chrono::system_clock::now();
        auto subs = impl_->snapshot();
        std::lock_guard order(impl_->publish_mtx);
        e.sequence = impl_->next_id.fetch_add(1, std::memory_order_relaxed);
        bool reached = false;
        for(auto const& s : *subs)
        {
            if(!s->filter.matches(e))
                continue;
            reached = true;
            bool full = false;
            {
                std::lock_guard lk(s->m);
                if(s->closed)
                    continue;
                if(s->q.size() >= s->capacity)
                    full = true;
                else
                    s->q.push_back(e);
            }
            if(full)
            {
                s->dropped.fetch_add(1, std::memory_order_relaxed);
                impl_->dropped.fetch_add(1, std::memory_order_relaxed);
            }
            else
                s->cv.notify_one();
        }
        if(detail::recent_mask & bit)
        {
            reached = true;
            std::lock_guard lk(impl_->recent_mtx);
            if(impl_->recent.size() == recent_capacity)
                impl_->recent.pop_front();
            impl_->recent.push_back(std::move(e));
        }
        if(reached)
            impl_->published.fetch_add(1, std::memory_order_relaxed);
    }
    catch(...)
    {
        // out of memory: this event is lost, nothing else
    }
}

std::uint64_t event_stream::published() const noexcept
{
    return impl_->published.load(std::memory_order_relaxed);
}

std::uint64_t event_stream::dropped() const noexcept
{
    return impl_->dropped.load(std::memory_order_relaxed);
}

std::uint64_t event_stream::dropped(handler_id h) const noexcept
{
    auto subs = impl_->snapshot();
    for(auto const& s : *subs)
        if(s->id == h)
            return s->dropped.load(std::memory_order_relaxed);
    return 0;
}

std::vector<event> event_stream::recent() const
{
    std::lock_guard lk(impl_->recent_mtx);
    return {impl_->recent.begin(), impl_->recent.end()};
}

void event_stream::close() noexcept
{
    std::shared_ptr<std::vector<std::shared_ptr<detail::subscriber>> const> all;
    {
        std::lock_guard lk(impl_->subs_mtx);
        impl_->closed = true;
        all = std::move(impl_->subs);
        impl_->subs = std::make_shared<std::vector<std::shared_ptr<detail::subscriber>> const>();
        impl_->interest.store(detail::recent_mask, std::memory_order_release);
    }
    if(all)
        for(auto const& s : *all)
            detail::event_stream_impl::finish(s);
}

} // namespace spindle
