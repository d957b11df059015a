//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// The ThreadSanitizer build's canary (doc/reliability.md, "ThreadSanitizer"):
// a real race between an actor's handler, running on a fiber on a worker,
// and the main thread. It must be reported, or the TSan build proves
// nothing: the fiber annotations (test/sanitize/fiber_switch.cpp) give
// every fiber TSan's view of its own, and orderings the program does not
// have must not be made up by them. Built and run only with
// -DSPINDLE_SANITIZE=thread; CTest passes it when TSan reports the race.

#include <spindle/actor.hpp>
#include <spindle/system.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

int shared_value = 0;                   // written by both sides, unordered
std::atomic<bool> handler_wrote{false}; // relaxed: orders nothing

struct write_it
{
};

class writer : public spindle::actor<writer, write_it>
{
public:
    void on(write_it)
    {
        shared_value = 2;
        handler_wrote.store(true, std::memory_order_relaxed);
    }
};

} // namespace

int main()
{
    spindle::system_options o;
    o.worker_threads = 2;
    spindle::system sys(o);
    auto w = sys.spawn<writer>();
    w.tell(write_it{});
    auto const give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while(!handler_wrote.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < give_up)
        std::this_thread::yield();
    shared_value = 1; // races with the handler's write: nothing orders them
    sys.shutdown();
    std::printf("canary: value %d, handler %s\n", shared_value, handler_wrote.load() ? "ran" : "never ran");
    return 0;
}
