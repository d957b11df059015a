//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/signals.hpp>

#include <spindle/log.hpp>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace spindle {
namespace detail {

namespace {

std::atomic<int> write_fd{-1};
std::atomic<bool> installed{false};

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
    int fds[2] = {-1, -1};
    std::vector<std::pair<int, struct sigaction>> previous;
    std::thread thread;
    std::mutex m;
    std::condition_variable cv;
    std::optional<shutdown_report> report;
    std::atomic<int> received{0};

    explicit signal_watch(system& s) : sys(s) {}

    void run() noexcept
    {
        for(;;)
        {
            unsigned char b = 0;
            auto n = ::read(fds[0], &b, 1);
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
{
    bool expected = false;
    if(!detail::installed.compare_exchange_strong(expected, true))
        detail::throw_error(error::invalid_argument, "spindle::shutdown_on_signals: another guard is installed");
    auto w = std::make_unique<detail::signal_watch>(sys);
    auto fail = [&](char const* what) {
        int const e = errno;
        for(auto const& [sig, old] : w->previous)
            ::sigaction(sig, &old, nullptr);
        detail::write_fd.store(-1);
        for(int fd : w->fds)
            if(fd >= 0)
                ::close(fd);
        detail::installed.store(false);
        throw system_error(boost::system::error_code(e, boost::system::system_category()), what);
    };
    if(::pipe2(w->fds, O_CLOEXEC) != 0)
        fail("spindle::shutdown_on_signals: pipe");
    detail::write_fd.store(w->fds[1]);
    for(int sig : signals)
    {
        if(sig <= 0 || sig >= 256 || sig == SIGKILL || sig == SIGSTOP)
        {
            errno = EINVAL;
            fail("spindle::shutdown_on_signals: invalid signal number");
        }
        struct sigaction sa = {};
        sa.sa_handler = &detail::on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        struct sigaction old = {};
        if(::sigaction(sig, &sa, &old) != 0)
            fail("spindle::shutdown_on_signals: sigaction");
        w->previous.emplace_back(sig, old);
    }
    w->thread = std::thread([p = w.get()] { p->run(); });
    w_ = std::move(w);
}

shutdown_on_signals::~shutdown_on_signals()
{
    for(auto const& [sig, old] : w_->previous)
        ::sigaction(sig, &old, nullptr);
    unsigned char zero = 0;
    [[maybe_unused]] auto n = ::write(w_->fds[1], &zero, 1);
    w_->thread.join();
    detail::write_fd.store(-1);
    ::close(w_->fds[0]);
    ::close(w_->fds[1]);
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
