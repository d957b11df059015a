//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/signals.hpp>

#include <spindle/log.hpp>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

namespace spindle {
namespace detail {

namespace {

/* The self-pipe: created by the first guard and never closed, so that a
   handler running on some thread while a guard goes away can never write
   into a descriptor that was closed and reused. Its write end does not
   block (a handler must not); a full pipe already holds a wake-up. */
int pipe_fds[2] = {-1, -1}; // guarded by `installed`
std::atomic<int> write_fd{-1};
std::atomic<bool> installed{false};

bool open_pipe() noexcept
{
    if(pipe_fds[0] >= 0)
        return true;
    int fds[2];
    if(::pipe2(fds, O_CLOEXEC) != 0)
        return false;
    if(::fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0)
    {
        int const e = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        errno = e;
        return false;
    }
    pipe_fds[0] = fds[0];
    pipe_fds[1] = fds[1];
    return true;
}

// What an earlier guard left unread (a signal that came as it went away).
void drain_pipe() noexcept
{
    pollfd p{pipe_fds[0], POLLIN, 0};
    unsigned char buf[64];
    while(::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0)
        if(::read(pipe_fds[0], buf, sizeof buf) <= 0)
            break;
}

extern "C" void on_signal(int sig)
{
    int const saved = errno; // a handler must leave errno as it found it
    int const fd = write_fd.load(std::memory_order_relaxed);
    if(fd >= 0)
    {
        unsigned char b = static_cast<unsigned char>(sig);
        [[maybe_unused]] auto n = ::write(fd, &b, 1);
    }
    errno = saved;
}

} // namespace

struct signal_watch
{
    system& sys;
    std::function<void(int)> before_shutdown;
    sigset_t unblock;
    std::vector<std::pair<int, struct sigaction>> previous;
    std::thread thread;
    std::mutex m;
    std::condition_variable cv;
    std::optional<shutdown_report> report;
    std::atomic<int> received{0};

    explicit signal_watch(system& s) : sys(s) {}

    void run() noexcept
    {
        // This thread takes the signals whatever the other threads' masks
        // (threads started before the guard, by a library, or after a
        // pthread_sigmask that blocked them): the kernel delivers a
        // process-directed signal to some thread that does not block it,
        // and that thread's handler writes to the pipe.
        ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
        for(;;)
        {
            unsigned char b = 0;
            auto n = ::read(pipe_fds[0], &b, 1);
            if(n < 0 && errno == EINTR)
                continue;
            if(n <= 0 || b == 0)
                return; // closed, or the destructor's wake-up
            int expected = 0;
            if(!received.compare_exchange_strong(expected, b))
                continue; // already shutting down
            try
            {
                SPINDLE_LOG(info, "signals") << "signal " << int(b) << " received: shutting down";
                if(before_shutdown)
                {
                    try
                    {
                        before_shutdown(b);
                    }
                    catch(std::exception const& e)
                    {
                        SPINDLE_LOG(error, "signals") << "before_shutdown threw: " << e.what();
                    }
                    catch(...)
                    {
                        SPINDLE_LOG(error, "signals") << "before_shutdown threw";
                    }
                }
                auto r = sys.shutdown();
                std::lock_guard lk(m);
                report = std::move(r);
            }
            catch(...)
            {
                std::lock_guard lk(m);
                report.emplace();
            }
            cv.notify_all();
        }
    }
};

} // namespace detail

shutdown_on_signals::shutdown_on_signals(system& sys, std::initializer_list<int> signals)
    : shutdown_on_signals(sys, nullptr, signals)
{
}

shutdown_on_signals::shutdown_on_signals(system& sys, std::function<void(int)> before_shutdown,
                                         std::initializer_list<int> signals)
{
    bool expected = false;
    if(!detail::installed.compare_exchange_strong(expected, true))
        detail::throw_error(error::invalid_argument, "spindle::shutdown_on_signals: another guard is installed");
    std::unique_ptr<detail::signal_watch> w;
    auto fail = [&](char const* what) {
        int const e = errno;
        if(w)
            for(auto const& [sig, old] : w->previous)
                ::sigaction(sig, &old, nullptr);
        detail::write_fd.store(-1);
        detail::installed.store(false);
        throw system_error(boost::system::error_code(e, boost::system::system_category()), what);
    };
    try
    {
        w = std::make_unique<detail::signal_watch>(sys);
        w->before_shutdown = std::move(before_shutdown);
    }
    catch(...)
    {
        detail::installed.store(false);
        throw;
    }
    sigemptyset(&w->unblock);
    for(int sig : signals)
    {
        if(sig <= 0 || sig >= 256 || sig == SIGKILL || sig == SIGSTOP)
        {
            errno = EINVAL;
            fail("spindle::shutdown_on_signals: invalid signal number");
        }
        sigaddset(&w->unblock, sig);
    }
    if(!detail::open_pipe())
        fail("spindle::shutdown_on_signals: pipe");
    detail::drain_pipe();
    detail::write_fd.store(detail::pipe_fds[1]);
    for(int sig : signals)
    {
        struct sigaction sa = {};
        sa.sa_handler = &detail::on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        struct sigaction old = {};
        if(::sigaction(sig, &sa, &old) != 0)
            fail("spindle::shutdown_on_signals: sigaction");
        w->previous.emplace_back(sig, old);
    }
    try
    {
        w->thread = std::thread([p = w.get()] { p->run(); });
    }
    catch(std::system_error const& e)
    {
        errno = e.code().value();
        fail("spindle::shutdown_on_signals: thread");
    }
    w_ = std::move(w);
}

shutdown_on_signals::~shutdown_on_signals()
{
    for(auto const& [sig, old] : w_->previous)
        ::sigaction(sig, &old, nullptr);
    detail::write_fd.store(-1);
    // The pipe may be full of signals (its write end does not block):
    // then the thread reads them first; the zero byte must get through.
    unsigned char zero = 0;
    while(::write(detail::pipe_fds[1], &zero, 1) < 0 && (errno == EAGAIN || errno == EINTR))
        std::this_thread::yield();
    w_->thread.join();
    detail::installed.store(false);
}

shutdown_report shutdown_on_signals::wait()
{
    std::unique_lock lk(w_->m);
    w_->cv.wait(lk, [&] { return w_->report.has_value(); });
    return *w_->report;
}

bool shutdown_on_signals::wait_for(std::chrono::nanoseconds d)
{
    std::unique_lock lk(w_->m);
    return w_->cv.wait_for(lk, d, [&] { return w_->report.has_value(); });
}

int shutdown_on_signals::received() const noexcept
{
    return w_->received.load();
}

void shutdown_on_signals::trigger(int sig) noexcept
{
    detail::on_signal(sig);
}

} // namespace spindle
