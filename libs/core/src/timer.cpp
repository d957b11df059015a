//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/timer.hpp>

#include <spindle/manual_clock.hpp>

#include <boost/fiber/future.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#if defined(__linux__)
# include <pthread.h>
#endif

namespace spindle {

namespace {

constexpr std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t min_ns = std::numeric_limits<std::int64_t>::min();

// Deadlines saturate instead of overflowing, so `start(duration::max(), ...)`
// means "never" rather than "long ago".
std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept
{
    std::int64_t r;
    if(__builtin_add_overflow(a, b, &r))
        return b > 0 ? max_ns : min_ns;
    return r;
}

std::int64_t to_ns(timer_service::time_point t) noexcept
{
    return t.time_since_epoch().count();
}

} // namespace

namespace detail {

class timer_service_impl
{
    static constexpr std::uint32_t no_index = std::numeric_limits<std::uint32_t>::max();

    enum class slot_state : std::uint8_t
    {
        free,
        pending,   // in the heap
        running,   // a periodic timer whose callback is running (not in the heap)
        cancelled, // a periodic timer cancelled while its callback runs
    };

    // One per live timer, reused through a free list. A timer id is the slot
    // index plus the slot's generation, so cancel finds its timer without a
    // hash lookup and a stale id never matches a reused slot.
    struct slot
    {
        timer_callback cb;
        std::int64_t period = 0; // 0 = one-shot
        std::uint32_t generation = 1;
        std::uint32_t link = no_index; // heap index while pending, next free slot while free
        slot_state state = slot_state::free;
    };

    // Heap entries are small and trivially copyable: sifting touches only
    // the heap array and the moved slots' `link`.
    struct entry
    {
        std::int64_t deadline;
        std::uint64_t seq;
        std::uint32_t slot;
    };

    static bool before(entry const& a, entry const& b) noexcept
    {
        return a.deadline < b.deadline || (a.deadline == b.deadline && a.seq < b.seq);
    }

    std::shared_ptr<manual_clock> const clock_; // null in real-time mode

    mutable std::mutex mutex_;
    std::condition_variable wake_cv_; // wakes the timer thread
    std::condition_variable idle_cv_; // wakes shutdown when no callback runs
    std::vector<slot> slots_;
    std::vector<entry> heap_; // capacity kept >= slots_.size(): re-arming never allocates
    std::uint32_t free_head_ = no_index;
    std::size_t live_ = 0;
    std::uint64_t sequence_ = 0;
    // The time by which the timer thread will look at the heap again without
    // being notified; min_ns while it is awake (it rechecks the heap before
    // sleeping). Starters notify only for an earlier deadline, so the common
    // ask pattern (start, then cancel, with similar timeouts) almost never
    // wakes the thread.
    std::int64_t wake_at_ = min_ns;
    unsigned in_flight_ = 0;
    std::thread::id firing_thread_;
    std::atomic<bool> stopped_{false};
    std::atomic<std::uint64_t> exceptions_{0};

public:
    // Real-time mode only; started by timer_service's constructor because
    // the thread must share ownership of this object.
    std::thread thread_;

    explicit timer_service_impl(std::shared_ptr<manual_clock> clock) noexcept : clock_(std::move(clock)) {}

    std::int64_t now_ns() const noexcept
    {
        if(clock_)
            return clock_->now_.load(std::memory_order_acquire);
        return to_ns(timer_service::clock_type::now());
    }

    // Manual mode: registers `self` with its clock (a friend of the clock).
    static void attach(std::shared_ptr<timer_service_impl> const& self) { self->clock_->attach(self); }

    bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }

    std::uint64_t exceptions() const noexcept { return exceptions_.load(std::memory_order_relaxed); }

    std::size_t pending() const noexcept
    {
        std::lock_guard<std::mutex> lk(mutex_);
        return live_;
    }

    timer_id start(std::int64_t deadline, std::int64_t period, timer_callback& cb, boost::system::error_code& ec)
    {
        if(!cb)
        {
            ec = error::invalid_argument;
            return {};
        }
        timer_id id;
        bool wake = false;
        {
            std::lock_guard<std::mutex> lk(mutex_);
            if(stopped_.load(std::memory_order_relaxed))
            {
                ec = error::system_stopped;
                return {};
            }
            std::uint32_t index = free_head_;
            if(index == no_index)
            {
                if(slots_.size() >= no_index - 1)
                    throw std::bad_alloc();
                // Grow the heap first: if either allocation throws, nothing changed.
                if(heap_.capacity() < slots_.size() + 1)
                    heap_.reserve(std::max<std::size_t>(16, 2 * heap_.capacity()));
                slots_.emplace_back();
                index = static_cast<std::uint32_t>(slots_.size() - 1);
            }
            else
            {
                free_head_ = slots_[index].link;
            }
            slot& s = slots_[index];
            s.cb = std::move(cb);
            s.period = period;
            s.state = slot_state::pending;
            ++live_;
            push({deadline, clock_ ? clock_->next_sequence() : sequence_++, index});
            id = timer_id((std::uint64_t(s.generation) << 32) | index);
            if(!clock_ && deadline < wake_at_)
            {
                wake = true;
                wake_at_ = deadline; // the thread honours it (see run)
            }
        }
        if(wake)
            wake_cv_.notify_one();
        ec = {};
        return id;
    }

    bool cancel(timer_id id) noexcept
    {
        if(!id)
            return false;
        auto const index = static_cast<std::uint32_t>(id.value());
        auto const generation = static_cast<std::uint32_t>(id.value() >> 32);
        // Declared before the lock: destroyed after it is released, because a
        // callback's destructor may call back into the service.
        timer_callback doomed;
        std::lock_guard<std::mutex> lk(mutex_);
        if(index >= slots_.size())
            return false;
        slot& s = slots_[index];
        if(s.generation != generation)
            return false;
        switch(s.state)
        {
        case slot_state::pending:
            erase_at(s.link);
            doomed = std::move(s.cb);
            free_slot(index);
            --live_;
            return true;
        case slot_state::running:
            // The firing thread frees the slot when the callback returns.
            s.state = slot_state::cancelled;
            --live_;
            return true;
        default:
            return false;
        }
    }

    // Manual mode: the earliest pending timer, for the clock to pick among
    // its services.
    bool peek(std::int64_t& deadline, std::uint64_t& seq) const noexcept
    {
        std::lock_guard<std::mutex> lk(mutex_);
        if(heap_.empty())
            return false;
        deadline = heap_.front().deadline;
        seq = heap_.front().seq;
        return true;
    }

    // Manual mode: fires the earliest timer if it is due at `limit`.
    void fire_one(std::int64_t limit)
    {
        std::unique_lock<std::mutex> lk(mutex_);
        if(!heap_.empty() && heap_.front().deadline <= limit)
            fire_top(lk);
    }

    // Real-time mode: the timer thread.
    void run()
    {
#if defined(__linux__)
        ::pthread_setname_np(::pthread_self(), "spindle-timer");
#endif
        std::unique_lock<std::mutex> lk(mutex_);
        while(!stopped_.load(std::memory_order_relaxed))
        {
            std::int64_t const now = now_ns();
            if(!heap_.empty() && heap_.front().deadline <= now)
            {
                wake_at_ = min_ns;
                fire_top(lk);
                continue;
            }
            std::int64_t target = heap_.empty() ? max_ns : heap_.front().deadline;
            // Keep a wake-up promised to a starter even if its timer was
            // cancelled meanwhile: later starts then need no notification
            // until that time (start+cancel with a fixed timeout, the ask
            // pattern, would otherwise notify on every start).
            if(wake_at_ > now && wake_at_ < target)
                target = wake_at_;
            wake_at_ = target;
            if(target == max_ns)
                wake_cv_.wait(lk);
            else
                wake_cv_.wait_until(lk, timer_service::time_point(timer_service::duration(target)));
        }
    }

    void shutdown() noexcept
    {
        std::vector<slot> doomed; // destroyed after the lock is released
        std::thread thread;
        {
            std::unique_lock<std::mutex> lk(mutex_);
            if(!stopped_.load(std::memory_order_relaxed))
            {
                stopped_.store(true, std::memory_order_release);
                // A running periodic callback sees stopped_ and never touches
                // slots_ again, so all slots can go at once.
                doomed.swap(slots_);
                heap_.clear();
                free_head_ = no_index;
                live_ = 0;
            }
            if(thread_.joinable())
            {
                if(thread_.get_id() == std::this_thread::get_id())
                    thread_.detach(); // called from a callback: the thread ends after it returns
                else
                    thread = std::move(thread_);
            }
            wake_cv_.notify_all();
            idle_cv_.wait(lk, [&] { return in_flight_ == 0 || firing_thread_ == std::this_thread::get_id(); });
        }
        if(thread.joinable())
            thread.join();
    }

private:
    void place(std::size_t i, entry const& e) noexcept
    {
        heap_[i] = e;
        slots_[e.slot].link = static_cast<std::uint32_t>(i);
    }

    void sift_up(std::size_t i) noexcept
    {
        entry const e = heap_[i];
        while(i > 0)
        {
            std::size_t const parent = (i - 1) / 2;
            if(!before(e, heap_[parent]))
                break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, e);
    }

    void sift_down(std::size_t i) noexcept
    {
        entry const e = heap_[i];
        std::size_t const n = heap_.size();
        for(;;)
        {
            std::size_t child = 2 * i + 1;
            if(child >= n)
                break;
            if(child + 1 < n && before(heap_[child + 1], heap_[child]))
                ++child;
            if(!before(heap_[child], e))
                break;
            place(i, heap_[child]);
            i = child;
        }
        place(i, e);
    }

    // Never allocates: the capacity is reserved when slots are created.
    void push(entry const& e) noexcept
    {
        heap_.push_back(e);
        sift_up(heap_.size() - 1);
    }

    void erase_at(std::size_t i) noexcept
    {
        entry const last = heap_.back();
        heap_.pop_back();
        if(i == heap_.size())
            return;
        place(i, last);
        if(i > 0 && before(last, heap_[(i - 1) / 2]))
            sift_up(i);
        else
            sift_down(i);
    }

    void free_slot(std::uint32_t index) noexcept
    {
        slot& s = slots_[index];
        s.state = slot_state::free;
        if(++s.generation == 0)
            s.generation = 1; // 0 would make id 0 (the invalid id) possible
        s.link = free_head_;
        free_head_ = index;
    }

    std::int64_t next_deadline(std::int64_t deadline, std::int64_t period) const noexcept
    {
        std::int64_t next = saturating_add(deadline, period);
        if(!clock_)
        {
            // Skip the periods the thread missed, keeping the phase.
            std::int64_t const now = now_ns();
            if(next <= now)
            {
                std::int64_t const steps = (now - next) / period + 1;
                next = steps > max_ns / period ? max_ns : saturating_add(next, steps * period);
            }
        }
        return next;
    }

    void invoke(timer_callback& cb) noexcept
    {
        try
        {
            cb();
        }
        catch(...)
        {
            exceptions_.fetch_add(1, std::memory_order_relaxed);
        }
    }

    // Pops the earliest timer and runs its callback with the lock released.
    void fire_top(std::unique_lock<std::mutex>& lk)
    {
        entry const e = heap_.front();
        erase_at(0);
        slot& s = slots_[e.slot];
        timer_callback cb = std::move(s.cb);
        std::int64_t const period = s.period;
        if(period == 0)
        {
            free_slot(e.slot);
            --live_;
        }
        else
        {
            s.state = slot_state::running;
        }
        ++in_flight_;
        firing_thread_ = std::this_thread::get_id();
        if(clock_)
            clock_->raise_now(e.deadline);
        lk.unlock();

        invoke(cb);

        if(period != 0)
        {
            lk.lock();
            if(!stopped_.load(std::memory_order_relaxed) && slots_[e.slot].state == slot_state::running)
            {
                slot& again = slots_[e.slot]; // slots_ may have grown during the callback
                again.cb = std::move(cb);
                again.state = slot_state::pending;
                push({next_deadline(e.deadline, period), e.seq, e.slot});
            }
            else if(!stopped_.load(std::memory_order_relaxed))
            {
                free_slot(e.slot); // cancelled while it ran
            }
            lk.unlock();
        }
        cb.reset(); // no-op if re-armed
        lk.lock();
        if(--in_flight_ == 0 && stopped_.load(std::memory_order_relaxed))
            idle_cv_.notify_all();
    }
};

} // namespace detail

//------------------------------------------------------------------------------
// manual_clock

void manual_clock::attach(std::weak_ptr<detail::timer_service_impl> service)
{
    std::lock_guard<std::mutex> lk(services_mutex_);
    std::erase_if(services_, [](auto const& w) { return w.expired(); });
    services_.push_back(std::move(service));
}

void manual_clock::raise_now(std::int64_t ns) noexcept
{
    // Only the advancing thread writes, so load-compare-store is enough.
    if(ns > now_.load(std::memory_order_relaxed))
        now_.store(ns, std::memory_order_release);
}

void manual_clock::advance_locked(std::int64_t target)
{
    std::vector<std::shared_ptr<detail::timer_service_impl>> services;
    for(;;)
    {
        // Re-read each round: a callback may have created or destroyed services.
        services.clear();
        {
            std::lock_guard<std::mutex> lk(services_mutex_);
            std::erase_if(services_, [](auto const& w) { return w.expired(); });
            for(auto const& w : services_)
                if(auto s = w.lock())
                    services.push_back(std::move(s));
        }
        detail::timer_service_impl* best = nullptr;
        std::int64_t best_deadline = 0;
        std::uint64_t best_seq = 0;
        for(auto const& s : services)
        {
            std::int64_t d;
            std::uint64_t q;
            if(s->peek(d, q) && d <= target &&
               (!best || d < best_deadline || (d == best_deadline && q < best_seq)))
            {
                best = s.get();
                best_deadline = d;
                best_seq = q;
            }
        }
        if(!best)
            break;
        best->fire_one(target);
    }
    raise_now(target);
}

void manual_clock::advance(duration d, boost::system::error_code& ec)
{
    if(d < duration::zero())
    {
        ec = error::invalid_argument;
        return;
    }
    std::lock_guard<std::recursive_mutex> lk(advance_mutex_);
    ec = {};
    advance_locked(saturating_add(now_.load(std::memory_order_relaxed), d.count()));
}

void manual_clock::advance(duration d)
{
    boost::system::error_code ec;
    advance(d, ec);
    if(ec)
        detail::throw_error(ec, "spindle::manual_clock::advance: negative duration");
}

void manual_clock::advance_to(time_point t, boost::system::error_code& ec)
{
    std::lock_guard<std::recursive_mutex> lk(advance_mutex_);
    std::int64_t const target = to_ns(t);
    if(target < now_.load(std::memory_order_relaxed))
    {
        ec = error::invalid_argument;
        return;
    }
    ec = {};
    advance_locked(target);
}

void manual_clock::advance_to(time_point t)
{
    boost::system::error_code ec;
    advance_to(t, ec);
    if(ec)
        detail::throw_error(ec, "spindle::manual_clock::advance_to: time point before now()");
}

//------------------------------------------------------------------------------
// timer_service

namespace {

// The state one sleep shares with its timer and its stop callback; whoever
// comes first decides the outcome.
struct sleeper
{
    enum : int
    {
        waiting,
        reached,
        ended // stop requested, timer cancelled or service shut down
    };

    std::atomic<int> state{waiting};
    std::atomic<bool> woken{false};
    boost::fibers::promise<void> done;

    // Never suspends the caller: a fiber promise is set under a spinlock,
    // so the timer thread and request_stop() never wait for the sleeper.
    void wake(int how) noexcept
    {
        int expected = waiting;
        if(state.compare_exchange_strong(expected, how, std::memory_order_acq_rel))
        {
            done.set_value();
            woken.store(true, std::memory_order_release);
        }
    }

    // Boost.Fiber wakes a sleeping thread's scheduler after it has already
    // made the waiter runnable. A plain thread that returns from the sleep
    // and exits at once would destroy that scheduler under the waker
    // (boostorg/fiber#319), so the sleeper lets the waker finish first; the
    // wait covers the few instructions left in set_value().
    void await_waker() const noexcept
    {
        while(!woken.load(std::memory_order_acquire))
            std::this_thread::yield();
    }
};

// The sleep's timer callback. Destroying it unfired (cancel, shutdown, or a
// start refused after shutdown) ends the sleep, so no path leaves the
// sleeper waiting forever.
struct sleep_timer
{
    std::shared_ptr<sleeper> s;

    explicit sleep_timer(std::shared_ptr<sleeper> p) noexcept : s(std::move(p)) {}
    sleep_timer(sleep_timer&&) noexcept = default;
    sleep_timer& operator=(sleep_timer&&) = delete;
    ~sleep_timer()
    {
        if(s)
            s->wake(sleeper::ended);
    }

    void operator()() const noexcept { s->wake(sleeper::reached); }
};

struct sleep_stopper
{
    std::shared_ptr<sleeper> s;
    void operator()() const noexcept { s->wake(sleeper::ended); }
};

} // namespace

timer_service::timer_service() : impl_(std::make_shared<detail::timer_service_impl>(nullptr))
{
    // The thread shares ownership so that a shutdown from inside a callback
    // (which detaches instead of joining) cannot leave it on freed state.
    impl_->thread_ = std::thread([self = impl_] { self->run(); });
}

timer_service::timer_service(std::shared_ptr<manual_clock> clock)
{
    if(!clock)
        detail::throw_error(error::invalid_argument, "spindle::timer_service: null manual_clock");
    impl_ = std::make_shared<detail::timer_service_impl>(clock);
    detail::timer_service_impl::attach(impl_);
}

timer_service::~timer_service()
{
    shutdown();
}

timer_service::time_point timer_service::now() const noexcept
{
    return time_point(duration(impl_->now_ns()));
}

timer_id timer_service::start(duration delay, callback_type cb, boost::system::error_code& ec)
{
    std::int64_t const deadline = saturating_add(impl_->now_ns(), std::max(delay, duration::zero()).count());
    return impl_->start(deadline, 0, cb, ec);
}

timer_id timer_service::start(duration delay, callback_type cb)
{
    boost::system::error_code ec;
    timer_id const id = start(delay, std::move(cb), ec);
    if(ec)
        detail::throw_error(ec, "spindle::timer_service::start");
    return id;
}

timer_id timer_service::start_at(time_point deadline, callback_type cb, boost::system::error_code& ec)
{
    return impl_->start(to_ns(deadline), 0, cb, ec);
}

timer_id timer_service::start_at(time_point deadline, callback_type cb)
{
    boost::system::error_code ec;
    timer_id const id = start_at(deadline, std::move(cb), ec);
    if(ec)
        detail::throw_error(ec, "spindle::timer_service::start_at");
    return id;
}

timer_id timer_service::start_periodic(duration initial_delay, duration period, callback_type cb,
                                       boost::system::error_code& ec)
{
    if(period <= duration::zero())
    {
        ec = error::invalid_argument;
        return {};
    }
    std::int64_t const deadline =
        saturating_add(impl_->now_ns(), std::max(initial_delay, duration::zero()).count());
    return impl_->start(deadline, period.count(), cb, ec);
}

timer_id timer_service::start_periodic(duration initial_delay, duration period, callback_type cb)
{
    boost::system::error_code ec;
    timer_id const id = start_periodic(initial_delay, period, std::move(cb), ec);
    if(ec)
        detail::throw_error(ec, "spindle::timer_service::start_periodic");
    return id;
}

bool timer_service::cancel(timer_id id) noexcept
{
    return impl_->cancel(id);
}

bool timer_service::sleep_until(time_point deadline, std::stop_token st)
{
    if(st.stop_requested() || impl_->stopped())
        return false;
    if(to_ns(deadline) <= impl_->now_ns())
        return true;
    auto s = std::make_shared<sleeper>();
    boost::fibers::future<void> done = s->done.get_future();
    boost::system::error_code ec;
    // On error (shut down meanwhile) the callback is destroyed unfired,
    // which ends the sleep.
    timer_id const id = start_at(deadline, sleep_timer(s), ec);
    {
        std::optional<std::stop_callback<sleep_stopper>> on_stop;
        if(st.stop_possible())
            on_stop.emplace(st, sleep_stopper{s});
        done.wait();
    }
    s->await_waker();
    // The timer still holds `s` if it has not fired; nothing it touches dangles.
    cancel(id);
    return s->state.load(std::memory_order_acquire) == sleeper::reached;
}

bool timer_service::sleep_for(duration d, std::stop_token st)
{
    return sleep_until(time_point(duration(saturating_add(impl_->now_ns(), d.count()))), std::move(st));
}

void timer_service::shutdown() noexcept
{
    impl_->shutdown();
}

bool timer_service::stopped() const noexcept
{
    return impl_->stopped();
}

std::size_t timer_service::pending() const noexcept
{
    return impl_->pending();
}

std::uint64_t timer_service::exceptions() const noexcept
{
    return impl_->exceptions();
}

} // namespace spindle
