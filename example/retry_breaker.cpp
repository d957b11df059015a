//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Retrying flaky calls behind a circuit breaker.
//
// An inventory service is down for its first 300 ms. Requests to it run as
// tasks on an executor: a failed call is retried with exponential backoff,
// and one circuit breaker shared by all calls stops hammering the service
// once it is clearly down, then lets a few trial calls through after a
// recovery timeout. Run it and watch the breaker open, probe and close.

#include <spindle/circuit_breaker.hpp>
#include <spindle/executor.hpp>
#include <spindle/system.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// Stands in for a remote client: each call takes a short round trip and
// fails while the service is down.
class inventory_service
{
    std::chrono::steady_clock::time_point up_at_;
    std::atomic<int> calls_{0};

public:
    explicit inventory_service(std::chrono::milliseconds outage)
        : up_at_(std::chrono::steady_clock::now() + outage)
    {
    }

    int stock(int item, spindle::timer_service& timers, std::stop_token st)
    {
        ++calls_;
        // the round trip parks only this task's fiber, and ends early if the
        // executor asks the task to stop (timeout, cancel, shutdown)
        if(!timers.sleep_for(2ms, st))
            throw std::runtime_error("call abandoned");
        if(std::chrono::steady_clock::now() < up_at_)
            throw std::runtime_error("inventory service unavailable");
        return 100 + item;
    }

    int calls() const { return calls_; }
};

int main()
{
    spindle::system sys;
    spindle::executor exec(sys);

    spindle::circuit_breaker_options bo;
    bo.name = "inventory";           // label of its metrics
    bo.failure_threshold = 5;        // 5 failures in a row open the circuit
    bo.recovery_timeout = 200ms;     // then fail fast for 200 ms
    bo.half_open_max_calls = 2;      // and probe with 2 trial calls
    auto breaker = std::make_shared<spindle::circuit_breaker>(sys, bo);
    breaker->on_transition([](spindle::circuit_transition const& t) {
        std::printf("  breaker: %s -> %s\n", std::string(spindle::to_string(t.from)).c_str(),
                    std::string(spindle::to_string(t.to)).c_str());
    });

    spindle::task_options call;
    call.on_error = spindle::error_strategy::circuit_breaker; // every attempt asks the breaker
    call.breaker = breaker;
    call.retry.max_attempts = 3;   // the first try and two retries: each one is a call the breaker counts
    call.retry.base_delay = 20ms;  // 20 ms, then 40 ms (minus up to 10% jitter)
    call.timeout = 500ms;          // per attempt

    inventory_service service(300ms);
    int ok = 0, failed_fast = 0, gave_up = 0;

    // ten waves of five requests, 100 ms apart
    for(int wave = 0; wave < 10; ++wave)
    {
        std::vector<spindle::task_handle<int>> requests;
        for(int i = 0; i < 5; ++i)
        {
            int const item = wave * 5 + i;
            requests.push_back(exec.submit(
                [&service, &sys, item](std::stop_token st) { return service.stock(item, sys.timers(), st); }, call));
        }
        int wave_ok = 0;
        for(auto& r : requests)
        {
            auto const& res = r.result(); // waits
            if(res)
                ++wave_ok;
            else if(res.error() == spindle::task_error::circuit_open)
                ++failed_fast; // refused without calling the service
            else
                ++gave_up; // retries_exhausted (or timed_out)
        }
        ok += wave_ok;
        std::printf("wave %d: %d of 5 answered\n", wave, wave_ok);
        sys.timers().sleep_for(100ms);
    }

    auto const es = exec.stats();
    auto const bs = breaker->stats();
    std::printf("\n%d answered, %d failed fast (circuit open), %d gave up after retries\n", ok, failed_fast,
                gave_up);
    std::printf("the service saw %d calls for 50 requests; %llu retries; the circuit opened %llu times\n",
                service.calls(), static_cast<unsigned long long>(es.retries),
                static_cast<unsigned long long>(
                    bs.transition_count(spindle::circuit_state::closed, spindle::circuit_state::open) +
                    bs.transition_count(spindle::circuit_state::half_open, spindle::circuit_state::open)));
    return ok > 0 ? 0 : 1;
}
