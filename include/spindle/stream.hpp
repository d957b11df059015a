//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_STREAM_HPP
#define SPINDLE_STREAM_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/channel.hpp>
#include <spindle/detail/stream_core.hpp>
#include <spindle/error.hpp>
#include <spindle/stream_options.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

/** @file
    Streams: items flow from a source through a chain of stages into a sink,
    over bounded buffers with backpressure, on the fibers of an actor system.

    @code
    spindle::stage_options db;
    db.buffer = spindle::buffer_options{};      // the buffer in front of the sink:
    db.buffer->capacity = 10;                   // 10 batches, then...
    db.buffer->strategy = spindle::backpressure::block; // ...the producers wait

    auto h = spindle::from_range(read_lines())                  // a source
                 .map([](std::string s) { return parse(s); })   // stages...
                 .filter([](record const& r) { return r.valid; })
                 .batch(100, 50ms)
                 .for_each([&](std::vector<record> b) { database.write(b); }, db) // a sink
                 .run(sys);                                     // starts it
    h.get(); // fiber-aware; throws spindle::stream_failure naming the stage
    @endcode

    @par How a stream runs
    `run` turns the description into *segments*: each one is a fiber that
    takes items from its input, pushes them through the stages fused into it
    and hands them to the next segment through a bounded buffer. Stateless
    stages (map, filter, flat_map, processors) are fused, with no buffer
    between them, into the fiber of the stage before them, as Akka Streams
    does; the source, batch, throttle, map_parallel and the sink start
    fibers of their own, and `stage_options::buffer` or @ref spindle::stream::buffer
    force a boundary anywhere. `stream_options::fuse = false` gives every
    stage its own fiber.

    Each segment runs as the handler of an internal actor on the system's
    worker threads, in slices: when its slice is used up (see below) the
    handler re-queues itself behind the worker's other actors, so a busy
    stream shares its workers fairly. A segment that must wait (its input is empty,
    its output buffer is full under `backpressure::block`, a throttle or a
    retry backoff sleeps on the system clock) parks its fiber on Spindle's
    fiber-aware waits; the worker thread goes on running other fibers and
    actors, which is what makes "block never blocks a worker thread" hold by
    construction: no stream code ever blocks a thread. We chose actors over
    bare fibers because they give the segments what the runtime already does
    well: placement over the workers and stealing, a stop token that fires
    at system shutdown, and a clean end (each segment's actor stops when its
    work is done, which frees its fiber).

    A stream starts on one worker: its segments are started from the sink
    back to the source, each from the worker of the one after it. Stages
    that wait for each other then hand items over without waking another
    thread, which is what makes a hop cheap. A segment keeps its worker for
    at most about 1024 items or 200 µs without waiting (50 µs when actors
    are queued on that worker); then it re-queues behind them, and an idle
    worker may steal it, so pipelines with heavy stages spread over the
    workers by themselves.

    Buffers hold chunks of items in TBB concurrent queues, used only through
    their non-blocking operations; a consumer that finds nothing parks on an
    event count that the producer signals only when someone waits. A
    producer publishes its chunk when it is full (`capacity / 8`, at most
    128 items), when it has finished the input chunk it was working on, and
    before it waits for anything, so latency stays low when traffic is thin.
    Order is kept everywhere except in `map_parallel(..., ordering::unordered)`.

    @par Ending
    A stream *completes* when the source ended and the sink delivered every
    item (items left in buffers are flushed first); it *fails* when a stage
    throws under `error_action::stop` (`stream_error::stage_failed`, naming
    the stage), runs out of retries, or a `backpressure::wait` buffer stays
    full (`stream_error::sink_full`); it is *cancelled* by
    @ref spindle::stream_handle::cancel (`error::cancelled`) or when its system shuts
    down (`error::system_stopped`). Failing or cancelling stops every stage:
    waits end at once, items in flight are discarded (and counted as
    `discarded`, so that `in == out + filtered + dropped + errors +
    discarded` holds however the stream ended). Boost.Fiber cannot
    interrupt a fiber, so user code that blocks ignoring the stream's stop
    token (user functions may take it as a last argument) delays the end
    until it returns.

    @par Metrics
    In the system's registry (`system::metrics()`), exported on `/metrics`:
    - `spindle_stream_items_total{stream, processor, status}`: counter per
      stage; status `in`, `out`, `filtered`, `dropped`, `error`,
      `discarded` (left behind by a failed or cancelled stream, counted
      when it ended), and `created` for flat_map. (The design's `stream_items_total{processor,
      status}`, with the `spindle_` prefix and the stream's name.)
    - `spindle_stream_backpressure_events_total{stream, processor}`
    - `spindle_stream_buffer_depth{stream, processor}`: items in the
      stage's input buffer.
    - `spindle_streams_active`: streams running now (see @ref spindle::active_streams);
      `spindle_streams_finished_total{outcome}` with `completed`, `failed`,
      `cancelled`.
    Series are keyed by the stream's and stages' names, not by run: runs of
    a stream with the same name add up.
*/

namespace spindle {

class system;

template<class T>
class stream;
template<class R>
class runnable_stream;

//------------------------------------------------------------------------------
// push sources

/** The feeding end of a stream source that plain threads, Asio handlers and
    fibers push into, with backpressure reported to the caller.

    It is a bounded queue: `try_push` never waits and says `full` when the
    stream is behind (an Asio handler pauses its reads and tries again
    later); `push` waits for room (a fiber parks, a plain thread blocks).
    `close` ends the stream after the items already pushed. Copies share one
    queue. When the stream ends (completed, failed or cancelled) the source
    is closed and later pushes fail with `closed`.

    @code
    spindle::push_source<std::string> input(1000);
    auto h = spindle::from_source(input).map(parse).for_each(store).run(sys);
    std::thread reader([input]() mutable {
        for(std::string line; std::getline(std::cin, line);)
            if(input.push(std::move(line)) != spindle::channel_status::success)
                break;
        input.close();
    });
    @endcode

    @par Tracing
    With `spindle::trace` installed, each item pushed inside a span carries
    that span's context: the stages that work on it run in child spans
    `stage <name>` (doc/tracing.md, "Stream stages"). With tracing off a
    push costs one relaxed atomic load for it.

    @tparam T The item type: move constructible and move assignable.

    @par Thread safety
    All members may be called concurrently from any thread or fiber.
*/
template<class T>
class push_source
{
    static_assert(std::is_move_constructible_v<T> && std::is_move_assignable_v<T>,
                  "spindle::push_source<T>: T must be move constructible and move assignable");

    std::shared_ptr<detail::inlet<T>> inlet_;

public:
    /// The item type.
    using value_type = T;

    /** Creates an open source.

        @param capacity Items it holds before pushes see `full`; at least 1.
        @throws spindle::system_error with `error::invalid_argument` if
        `capacity` is 0.
    */
    explicit push_source(std::size_t capacity = defaults::stream_buffer_size);

    /** Pushes `v` if there is room. Never waits.

        @param v The item; moved from only on success.
        @return `success`, `full` (the stream is behind: backpressure) or
        `closed`.
        @throws std::bad_alloc if the queue cannot grow (`v` is kept).
    */
    channel_status try_push(T& v) { return inlet_->try_push(v); }

    /// `try_push` of a temporary (lost if it is not pushed).
    channel_status try_push(T&& v) { return inlet_->try_push(v); }

    /** Pushes `v`, waiting while the source is full (a fiber parks, a plain
        thread blocks).

        @param v The item; moved from only on success.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed` or `cancelled`.
        @throws std::bad_alloc if the queue cannot grow.
    */
    channel_status push(T& v, std::stop_token st = {})
    {
        return inlet_->push(v, detail::wait_deadline::never(), st);
    }

    /// `push` of a temporary.
    channel_status push(T&& v, std::stop_token st = {}) { return push(v, std::move(st)); }

    /** Pushes `v`, waiting at most `d` (steady clock) for room.

        @param v The item; moved from only on success.
        @param d The longest wait.
        @param st Ends the wait early when a stop is requested.
        @return `success`, `closed`, `timeout` or `cancelled`.
        @throws std::bad_alloc if the queue cannot grow.
    */
    channel_status push_for(T& v, std::chrono::nanoseconds d, std::stop_token st = {})
    {
        return inlet_->push(v, detail::wait_deadline::after(d), st);
    }

    /** Ends the input: the stream completes after the items already pushed.
        Idempotent.
    */
    void close() noexcept { inlet_->close(); }

    /// @return True once closed (by `close` or by the end of the stream).
    bool is_closed() const noexcept { return inlet_->closed(); }

    /// @return Items pushed and not yet taken by the stream (a snapshot).
    std::size_t size() const noexcept { return inlet_->size(); }

    /// @return The capacity given at construction.
    std::size_t capacity() const noexcept { return inlet_->capacity(); }

    /// The shared queue (for the stream's source stage).
    std::shared_ptr<detail::inlet<T>> const& inlet() const noexcept { return inlet_; }
};

/// The message that ends an @ref actor_source's stream.
struct end_of_stream
{
};

/** The actor of an @ref actor_source "actor_source": each `T` it receives becomes an item
    of the stream; @ref end_of_stream (or the actor stopping) ends it.

    When the stream is behind, the handler waits for room (parking only this
    actor), so its mailbox fills up and senders meet the mailbox's overflow
    policy: backpressure reaches them as `tell`'s status.
*/
template<class T>
class stream_inlet : public actor<stream_inlet<T>, T, end_of_stream>
{
    push_source<T> src_;

public:
    /// Feeds `src`.
    explicit stream_inlet(push_source<T> src) : src_(std::move(src)) {}

    /// Pushes the item, waiting while the stream is behind.
    void on(T&& v) { src_.push(v, this->stop_token()); }

    /// Ends the stream and stops the actor.
    void on(end_of_stream)
    {
        src_.close();
        this->stop();
    }

    /// The stream ends when the actor stops.
    void post_stop() override { src_.close(); }
};

/** A stream source fed by an actor: messages become items.

    @code
    spindle::actor_source<order> orders(sys, 100);
    auto h = spindle::from_source(orders).map(price).to_actor(ledger).run(sys);
    orders.ref().tell(order{...});          // from anywhere
    orders.ref().tell(spindle::end_of_stream{});
    @endcode

    @tparam T The item (and message) type.

    @par Thread safety
    As @ref push_source; the actor reference may be used from anywhere.
*/
template<class T>
class actor_source
{
    push_source<T> src_;
    actor_ref<stream_inlet<T>> ref_;

public:
    /// The item type.
    using value_type = T;

    /** Spawns the source's actor on `sys`.

        @param sys The system.
        @param capacity Items the source holds before the actor waits.
        @param opts Spawn options (a name, a bounded mailbox and its policy).
        @throws spindle::system_error `error::invalid_argument` if
        `capacity` is 0, or what `system::spawn_with` throws.
    */
    actor_source(spindle::system& sys, std::size_t capacity = defaults::stream_buffer_size,
                 spawn_options const& opts = {});

    /// @return The actor to send items (and @ref end_of_stream) to.
    actor_ref<stream_inlet<T>> const& ref() const noexcept { return ref_; }

    /// @return The queue behind the actor.
    push_source<T> const& source() const noexcept { return src_; }
};

//------------------------------------------------------------------------------
// stream_handle

/** A running stream: a fiber-aware future of its outcome, its statistics
    and the means to cancel it.

    The outcome is set once, when every stage has finished: the result
    (nothing, or the container of a `collect` sink) or an error:
    `stream_error::stage_failed`, `retries_exhausted`, `sink_full`,
    `sink_closed`, `error::cancelled` or `error::system_stopped`. Waiting
    parks a fiber or blocks a plain thread. Copies refer to the same stream;
    dropping every handle does not stop it. It is a completion handle for
    `when_all` / `when_any`.

    @tparam R The result type: `void`, or the container of `collect`.

    @par Thread safety
    Distinct handles: safe. One handle: const members may be called
    concurrently from any thread or fiber.
*/
template<class R>
class stream_handle
{
    std::shared_ptr<detail::typed_state<R>> st_;

public:
    /// The result type.
    using value_type = R;

    /// An empty handle (`valid() == false`).
    stream_handle() noexcept = default;

    /// Wraps a stream's state (used by `run`).
    explicit stream_handle(std::shared_ptr<detail::typed_state<R>> st) noexcept : st_(std::move(st)) {}

    /// @return True if the handle refers to a stream.
    bool valid() const noexcept { return st_ != nullptr; }

    /// @return The stream's name (empty for an empty handle).
    std::string const& name() const noexcept;

    /// @return True once the stream has ended (or for an empty handle). Never waits.
    bool ready() const noexcept { return !st_ || st_->done_.ready(); }

    /// Waits until the stream has ended.
    void wait() const
    {
        if(st_)
            st_->done_.wait(detail::wait_deadline::never(), {});
    }

    /** Waits until the stream has ended or a stop is requested on `st`.

        @return True if the stream has ended.
    */
    bool wait(std::stop_token st) const
    {
        return !st_ || st_->done_.wait(detail::wait_deadline::never(), st) == detail::wake_status::done;
    }

    /** Waits at most `d` on the system's clock (a test's manual clock
        included). The system must still exist.

        @return True if the stream has ended.
        @throws std::bad_alloc if the timeout cannot be armed.
    */
    bool wait_for(std::chrono::nanoseconds d) const;

    /** Waits for the outcome and returns it without throwing.

        @return The result or the error (`error::invalid_argument` for an
        empty handle); a reference valid as long as the handle.
    */
    boost::system::result<R> const& result() const;

    /** Waits for the outcome and returns the result.

        @return The result (a reference for `collect`, valid as long as the handle).
        @throws spindle::stream_failure with the stream's error, naming the
        failed stage and keeping its exception; `system_error` with
        `error::invalid_argument` for an empty handle.
    */
    std::add_lvalue_reference_t<R const> get() const&;

    /// Waits for the outcome and moves the result out (`run(...).get()`).
    R get() &&;

    /** Cancels the stream: every stage stops, the outcome becomes
        `error::cancelled` unless the stream already ended. Never waits.

        @return True if this call cancelled it.
    */
    bool cancel() const noexcept;

    /// @return The name of the stage that failed (after the end; empty if none did).
    std::string failed_stage() const;

    /// @return What the failure says, e.g. `stream 'x': stage 'parse' failed: bad number` (after the end).
    std::string failure_message() const;

    /// @return The exception the failed stage threw, or null.
    std::exception_ptr exception() const;

    /// @return What the stream has done so far, per stage.
    stream_stats stats() const;

    /** Calls `fn()` once the stream has ended: at once if it has, else on
        the thread that ends it (a worker, the thread cancelling or shutting
        down). `fn` must be short and must not block; its exceptions are
        swallowed.

        @throws std::bad_alloc if the registration cannot be allocated.
    */
    template<class F>
    void on_complete(F&& fn) const;
};

//------------------------------------------------------------------------------
// runnable_stream

/** A complete stream description (source to sink), ready to run any
    number of times. Each run copies the stages' functions.

    @tparam R What the sink produces: `void`, or `collect`'s container.
*/
template<class R>
class runnable_stream
{
    std::shared_ptr<detail::node const> last_;

public:
    /// Wraps a description (used by the sinks of @ref stream).
    explicit runnable_stream(std::shared_ptr<detail::node const> last) noexcept : last_(std::move(last)) {}

    /** Starts the stream on `sys`.

        With `spindle::trace` installed and a span current, the items of a
        source that pulls (range, generator, channel) carry that span's
        context, and its stages run in child spans of it (doc/tracing.md,
        "Stream stages"); items of a `push_source` carry their pusher's.

        @param sys The system whose workers run it; must outlive the run.
        @param opts The stream's name, fusion and default buffer.
        @return The handle.
        @throws spindle::system_error `error::invalid_argument` naming a bad
        option or duplicate stage name, `error::system_stopped` if the
        system is shutting down.
    */
    stream_handle<R> run(spindle::system& sys, stream_options const& opts = {}) const;

    /** Starts the stream on `sys`.

        @param sys The system.
        @param opts The options.
        @param ec Set as the throwing overload throws; cleared on success.
        @return The handle, or an empty handle on error.
    */
    stream_handle<R> run(spindle::system& sys, stream_options const& opts, boost::system::error_code& ec) const;
};

//------------------------------------------------------------------------------
// stream

namespace detail {
template<class In, class Out, class F>
class map_node;
template<class T, class P>
class filter_node;
template<class In, class Out, class F>
class flat_map_node;
template<class In, class Out, class P>
class via_node;
template<class T>
class batch_node;
template<class T>
class throttle_node;
template<class In, class Out, class F>
class par_node;
template<class T>
class boundary_node;

template<class F, class T>
using stage_result_t = std::remove_cvref_t<decltype(invoke_stage(std::declval<F&>(), std::declval<T&&>(),
                                                                 std::declval<std::stop_token const&>()))>;

template<class R>
struct optional_value
{
    using type = R;
    static constexpr bool is_optional = false;
};
template<class U>
struct optional_value<std::optional<U>>
{
    using type = U;
    static constexpr bool is_optional = true;
};

template<class P, class T>
using process_result_t = std::remove_cvref_t<decltype(std::declval<P&>().process(std::declval<T&&>()))>;
} // namespace detail

/** A processor for @ref spindle::stream::via "stream::via": a named stage, as the design's
    `Processor` chain. `process` returns the output item, or a
    `std::optional` of it where an empty optional filters the item out.
*/
template<class P, class T>
concept stream_processor = requires(P& p, P const& cp, T&& t) {
    { cp.name() } -> std::convertible_to<std::string>;
    p.process(std::move(t));
};

/** The description of a stream that produces items of type `T`: a source
    and the stages after it. Adding a stage returns a new description; a
    sink returns a @ref runnable_stream. Descriptions are immutable values
    (copying one is one reference count), so a common prefix can be shared
    and run many times.

    User functions are copied into each run. One taking a
    `std::stop_token const&` as its last argument gets the stream's, which
    fires when the stream is cancelled or fails: long waits should honour it.

    @tparam T The item type: move constructible. `error_action::retry` also
    needs it copyable.

    @par Thread safety
    A value: distinct objects may be used concurrently, and const members of
    one object too.
*/
template<class T>
class stream
{
    std::shared_ptr<detail::node const> last_;

    template<class>
    friend class stream;

public:
    /// The item type.
    using value_type = T;

    /// Wraps a description (used by the sources and stages).
    explicit stream(std::shared_ptr<detail::node const> last) noexcept : last_(std::move(last)) {}

    /** Transforms every item: `U fn(T)`.

        @param fn The function; its result type is the new item type.
        @param opts Name, error handling, buffer.
        @return The extended description.
    */
    template<class F>
        requires std::invocable<F&, T&&> || std::invocable<F&, T&&, std::stop_token const&>
    auto map(F fn, stage_options opts = {}) const -> stream<detail::stage_result_t<F, T>>;

    /** Keeps the items for which `pred(item)` is true; the others are
        counted as `filtered`.
    */
    template<class P>
        requires std::predicate<P&, T const&>
    stream<T> filter(P pred, stage_options opts = {}) const;

    /** Replaces every item by the items of the range `fn(item)` returns (a
        vector, a view...); an empty range counts the item as `filtered`.
    */
    template<class F>
        requires std::invocable<F&, T&&> || std::invocable<F&, T&&, std::stop_token const&>
    auto flat_map(F fn, stage_options opts = {}) const
        -> stream<std::remove_cvref_t<std::ranges::range_value_t<detail::stage_result_t<F, T>>>>;

    /** Runs the items through a named processor (see @ref spindle::stream_processor);
        its `name()` names the stage unless `opts.name` is set, so its errors
        and metrics name it.
    */
    template<class P>
        requires stream_processor<P, T>
    auto via(P processor, stage_options opts = {}) const
        -> stream<typename detail::optional_value<detail::process_result_t<P, T>>::type>;

    /** Groups items into vectors of `n`; a partial batch goes out when
        `max_wait` (system clock) has passed since its first item, and at
        the end of the input. Items are counted one by one, not by batch.

        @param n Items per batch, at least 1.
        @param max_wait How long a partial batch may wait; positive.
        @param opts Name, buffer (a batch stage always has one in front).
        @return The extended description.
    */
    stream<std::vector<T>> batch(std::size_t n, std::chrono::nanoseconds max_wait, stage_options opts = {}) const;

    /** Limits the rate to `per_second` items per second with a token bucket
        of `burst` items, on the system clock. It never sleeps per item: when
        the bucket is empty it sleeps until enough tokens for the items
        waiting (at most `burst`) have accrued, then lets them through.

        @param per_second The rate; positive and finite.
        @param burst The bucket's size; 0 = a twentieth of a second's worth
        (at least 1).
        @param opts Name, buffer (a throttle always has one in front).
        @return The extended description.
    */
    stream<T> throttle(double per_second, std::size_t burst = 0, stage_options opts = {}) const;

    /** Runs `fn` on up to `n` items at once, each on its own fiber (the
        design's buffered stream): for slow or blocking calls. `fn` is
        called concurrently from several fibers, possibly on several
        threads, through a const reference.

        @param n Items in flight at most (started and not yet emitted), 1 to 4096.
        @param fn `U fn(T)` (or with a stop token).
        @param order `ordered` (input order) or `unordered` (completion order).
        @param opts Name, error handling, buffer (it always has one in front).
        @return The extended description.
    */
    template<class F>
        requires std::invocable<F const&, T&&> || std::invocable<F const&, T&&, std::stop_token const&>
    auto map_parallel(std::size_t n, F fn, ordering order = ordering::ordered, stage_options opts = {}) const
        -> stream<detail::stage_result_t<F const, T>>;

    /** Puts a buffer with these options after the stages so far: the next
        stage gets a fiber of its own behind it (an asynchronous boundary).
        Before a sink, these are the sink's buffer options.
    */
    stream<T> buffer(buffer_options opts) const;

    /// `buffer` with the stream's default buffer.
    stream<T> async() const;

    /** A sink that calls `fn(item)` for every item, in order, on its own
        fiber. Its buffer (`opts.buffer`, or the stream's default) is where
        a slow `fn` meets the backpressure strategy.
    */
    template<class F>
        requires std::invocable<F&, T&&> || std::invocable<F&, T&&, std::stop_token const&>
    runnable_stream<void> for_each(F fn, stage_options opts = {}) const;

    /** A sink that pushes every item into `ch` (waiting fiber-style while it
        is full), and closes it at the end if `close_at_end`. A closed
        channel fails the stream with `stream_error::sink_closed`.
    */
    runnable_stream<void> to_channel(std::shared_ptr<channel<T>> ch, bool close_at_end = true,
                                     stage_options opts = {}) const;

    /** A sink that `tell`s every item to `to`. An item the actor's mailbox
        refuses or drops is counted as `dropped`; the actor stopping fails
        the stream with `stream_error::sink_closed`.
    */
    template<class A>
    runnable_stream<void> to_actor(actor_ref<A> to, stage_options opts = {}) const;

    /** A sink that collects the items into a container (`c.insert(c.end(), item)`),
        which is the stream's result.
    */
    template<class C = std::vector<T>>
    runnable_stream<C> collect(stage_options opts = {}) const;
};

//------------------------------------------------------------------------------
// sources

/** A source producing the elements of `r`, copied into each run: a
    container is copied (and its elements moved out of the copy), a view is
    cheap to copy but refers to its data, which must outlive the runs.

    @return A description of items of the range's value type.
*/
template<std::ranges::input_range R>
    requires std::copy_constructible<std::remove_cvref_t<R>>
auto from_range(R&& r) -> stream<std::remove_cvref_t<std::ranges::range_value_t<R>>>;

/** A source calling `fn()` until it returns an empty optional: `std::optional<T> fn()`.
    An exception from it fails the stream, naming the source.
*/
template<class F>
    requires std::invocable<F&> || std::invocable<F&, std::stop_token const&>
auto from_generator(F fn, stage_options opts = {});

/** A source popping `ch` (parking while it is empty) until it is closed and drained. */
template<class T>
stream<T> from_channel(std::shared_ptr<channel<T>> ch, stage_options opts = {});

/** A source fed by pushes (see @ref push_source). */
template<class T>
stream<T> from_source(push_source<T> const& src, stage_options opts = {});

/** A source fed by an actor (see @ref actor_source). */
template<class T>
stream<T> from_source(actor_source<T> const& src, stage_options opts = {});

/** Streams of `sys` running now (started and not yet ended): the value of
    the gauge `spindle_streams_active`, for health checks.

    @param sys The system.
    @return The count.

    @par Thread safety
    Safe to call from any thread; takes the registry's lock briefly.
*/
SPINDLE_DECL std::size_t active_streams(spindle::system& sys);

} // namespace spindle

#include <spindle/impl/stream.hpp>

#endif
