//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_CORE_HPP
#define SPINDLE_CORE_HPP

/** @file
    Everything of the core component (link target `spindle::core`): the
    runtime, actors, supervision, timers, the executor, streams, fiber
    synchronization, metrics and logging. The other components have
    umbrellas of their own: `<spindle/json.hpp>`, `<spindle/tools.hpp>`,
    `<spindle/http.hpp>`, `<spindle/remote.hpp>`, `<spindle/trace.hpp>`.
    Including one header per concept compiles faster; this one is for
    getting started.
*/

#include <spindle/actor.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/ask.hpp>
#include <spindle/async_ask.hpp>
#include <spindle/barrier.hpp>
#include <spindle/channel.hpp>
#include <spindle/circuit_breaker.hpp>
#include <spindle/defaults.hpp>
#include <spindle/enums.hpp>
#include <spindle/error.hpp>
#include <spindle/event_stream.hpp>
#include <spindle/executor.hpp>
#include <spindle/id.hpp>
#include <spindle/introspection.hpp>
#include <spindle/latch.hpp>
#include <spindle/log.hpp>
#include <spindle/mailbox.hpp>
#include <spindle/manual_clock.hpp>
#include <spindle/metrics.hpp>
#include <spindle/monitor.hpp>
#include <spindle/ordered_mutex.hpp>
#include <spindle/restart_intensity.hpp>
#include <spindle/retry.hpp>
#include <spindle/run_blocking.hpp>
#include <spindle/semaphore.hpp>
#include <spindle/signals.hpp>
#include <spindle/stack_pool.hpp>
#include <spindle/stream.hpp>
#include <spindle/stream_options.hpp>
#include <spindle/supervisor.hpp>
#include <spindle/sync.hpp>
#include <spindle/system.hpp>
#include <spindle/task.hpp>
#include <spindle/task_group.hpp>
#include <spindle/testkit.hpp>
#include <spindle/timer.hpp>
#include <spindle/when.hpp>

#endif
