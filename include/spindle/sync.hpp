//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_SYNC_HPP
#define SPINDLE_SYNC_HPP

/** @file
    Fiber synchronization and composition: everything here parks only the
    calling fiber (a plain thread blocks instead), so no worker thread ever
    blocks in it, and every wait that can last honours a `std::stop_token`.
    Timed waits take a deadline on the steady clock or on a
    `spindle::timer_service` (a manual clock in tests).

    - `spindle::barrier`: a reusable barrier with a completion function and
      cancellable arrivals (`<spindle/barrier.hpp>`).
    - `spindle::latch`: a single-use countdown latch (`<spindle/latch.hpp>`).
    - `spindle::semaphore`: a fair counting semaphore (`<spindle/semaphore.hpp>`).
    - `spindle::ordered_mutex`: a timed mutex with a declared lock order;
      out-of-order locking is an error, never a deadlock
      (`<spindle/ordered_mutex.hpp>`).
    - `spindle::channel<T>`: a bounded or unbounded MPMC channel with exact
      capacity and close semantics (`<spindle/channel.hpp>`).
    - `spindle::run_blocking`: blocking code on a bounded thread pool, with a
      fiber-aware future (`<spindle/run_blocking.hpp>`).
    - `spindle::when_all`, `spindle::when_any`: waiting for several asks or
      task handles (`<spindle/when.hpp>`).
    - `spindle::task_group`: a scope that stops and joins its fibers and tasks
      (`<spindle/task_group.hpp>`).

    Boost.Fiber's own `mutex`, `condition_variable` and `barrier` remain
    fine to use where a deadline on a manual clock and cancellation are not
    needed.
*/

#include <spindle/barrier.hpp>
#include <spindle/channel.hpp>
#include <spindle/latch.hpp>
#include <spindle/ordered_mutex.hpp>
#include <spindle/run_blocking.hpp>
#include <spindle/semaphore.hpp>
#include <spindle/task_group.hpp>
#include <spindle/when.hpp>

#endif
