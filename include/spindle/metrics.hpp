//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_METRICS_HPP
#define SPINDLE_METRICS_HPP

#include <spindle/detail/config.hpp>
#include <spindle/error.hpp>

#include <boost/config.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/** @file
    Counters, gauges and histograms that Spindle's components update on their
    hot paths, and the registry that exporters read as a snapshot.

    The data model is Prometheus': a metric family has a name, a help text
    and a type, and holds one series per label set. Core depends on no
    exporter; the HTTP component turns a @ref spindle::metrics::registry::snapshot
    into the Prometheus text format or JSON.
*/

namespace spindle::metrics {

/// A label set: (name, value) pairs. Snapshots hold them sorted by name.
using labels_type = std::vector<std::pair<std::string, std::string>>;

/// The type of a metric family, as Prometheus defines it.
enum class metric_type
{
    /// A value that only goes up (and resets when the process restarts).
    counter,
    /// A value that goes up and down.
    gauge,
    /// Observations counted into buckets, with their sum and count.
    histogram
};

/** Returns the Prometheus name of a metric type.

    @param t The type.

    @return `"counter"`, `"gauge"` or `"histogram"`.
*/
SPINDLE_DECL std::string_view to_string(metric_type t) noexcept;

/** Returns whether `name` is a valid Prometheus metric name.

    Valid names match `[a-zA-Z_:][a-zA-Z0-9_:]*`.

    @param name The name to check.

    @return `true` if the name is valid.
*/
SPINDLE_DECL bool is_valid_metric_name(std::string_view name) noexcept;

/** Returns whether `name` is a valid Prometheus label name.

    Valid names match `[a-zA-Z_][a-zA-Z0-9_]*` and do not start with `__`
    (Prometheus reserves those for internal use).

    @param name The name to check.

    @return `true` if the name is valid.
*/
SPINDLE_DECL bool is_valid_label_name(std::string_view name) noexcept;

namespace detail {

// The initial-exec model turns the access from inside a shared library into
// one load relative to the thread pointer instead of a __tls_get_addr call,
// which would cost more than the contention striping avoids. It takes a few
// bytes of the static TLS block, which glibc reserves also for libraries
// loaded with dlopen.
#if defined(__GNUC__) && defined(__ELF__)
# define SPINDLE_TLS_INITIAL_EXEC __attribute__((tls_model("initial-exec")))
#else
# define SPINDLE_TLS_INITIAL_EXEC
#endif

// The calling thread's stripe slot plus one; zero until the thread first
// touches a striped counter. Constant-initialised and trivially destructible
// so that reading it needs no TLS guard on the hot path.
inline thread_local unsigned thread_slot_plus_one SPINDLE_TLS_INITIAL_EXEC = 0;

// Returns the calling thread's slot, giving it on the first call the lowest
// slot no live thread holds (slots are recycled when threads exit), so that N
// threads running at once use N distinct stripes when there are N stripes.
SPINDLE_DECL unsigned acquire_thread_slot() noexcept;

inline unsigned thread_slot() noexcept
{
    unsigned const s = thread_slot_plus_one;
    if(BOOST_LIKELY(s != 0))
        return s - 1;
    // Cached here rather than inside the library so that a program whose
    // copy of this variable is not the library's (hidden visibility) still
    // takes the slow path only once per thread.
    unsigned const slot = acquire_thread_slot();
    thread_slot_plus_one = slot + 1;
    return slot;
}

// Stripe count for striped counters (a power of two), chosen once from the
// hardware concurrency.
SPINDLE_DECL std::size_t default_stripe_count() noexcept;

} // namespace detail

//----------------------------------------------------------------------------

/** A monotonically increasing 64-bit counter: one relaxed atomic, 8 bytes.

    This is the counter to use by the thousands (per actor, per label set).
    When many threads increment the *same* counter millions of times per
    second, use @ref striped_counter instead, which keeps the threads off
    each other's cache lines.

    @par Thread safety
    All member functions may be called concurrently from any thread or fiber.
*/
class counter
{
public:
    /// Constructs a counter at zero.
    counter() noexcept = default;

    counter(counter const&) = delete;
    counter& operator=(counter const&) = delete;

    /** Adds `n` to the counter.

        Wraps around past 2^64 - 1 (which no real counter reaches).

        @param n The amount to add.

        @par Thread safety
        Safe to call concurrently; a single relaxed atomic add.
    */
    void inc(std::uint64_t n = 1) noexcept
    {
        value_.fetch_add(n, std::memory_order_relaxed);
    }

    /** Returns the current value.

        @return The sum of every increment that happened before this call.

        @par Thread safety
        Safe to call concurrently with @ref inc; increments in flight on
        other threads may or may not be included.
    */
    std::uint64_t value() const noexcept
    {
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::uint64_t> value_{0};
};

//----------------------------------------------------------------------------

/** A monotonically increasing 64-bit counter striped over cache lines.

    Each thread adds to its own cache-line-sized stripe, picked by a
    per-thread slot, so threads that increment the same counter at high rates
    do not bounce a cache line between cores. @ref value sums the stripes.
    The price is memory (one cache line per stripe, a few KiB at most) and a
    slower @ref value "value": use it for the few process-wide hot counters (such as
    messages processed), and @ref counter everywhere else.

    The stripe count is a power of two derived from
    `std::thread::hardware_concurrency()` (at least 8, at most 64).

    @par Thread safety
    All member functions may be called concurrently from any thread or fiber.
    A fiber that migrates between threads simply adds to the stripe of the
    thread it runs on at the time.
*/
class striped_counter
{
public:
    /** Constructs a counter at zero.

        @throws std::bad_alloc If the stripes cannot be allocated.
    */
    striped_counter()
        : stripes_(new stripe[detail::default_stripe_count()])
        , mask_(detail::default_stripe_count() - 1)
    {
    }

    striped_counter(striped_counter const&) = delete;
    striped_counter& operator=(striped_counter const&) = delete;

    /** Adds `n` to the counter.

        @param n The amount to add.

        @par Thread safety
        Safe to call concurrently; a single relaxed atomic add on the calling
        thread's stripe.
    */
    void inc(std::uint64_t n = 1) noexcept
    {
        stripes_[detail::thread_slot() & mask_].value.fetch_add(n, std::memory_order_relaxed);
    }

    /** Returns the current value.

        @return The sum of every increment that happened before this call.

        @par Thread safety
        Safe to call concurrently with @ref inc; increments in flight on
        other threads may or may not be included.
    */
    std::uint64_t value() const noexcept
    {
        std::uint64_t sum = 0;
        for(std::size_t i = 0; i <= mask_; ++i)
            sum += stripes_[i].value.load(std::memory_order_relaxed);
        return sum;
    }

private:
    struct alignas(SPINDLE_CACHELINE) stripe
    {
        std::atomic<std::uint64_t> value{0};
    };

    std::unique_ptr<stripe[]> stripes_;
    std::size_t mask_;
};

//----------------------------------------------------------------------------

/** A value that goes up and down: a signed 64-bit integer.

    Gauges are integers because what the runtime measures this way is counted
    (queue depths, live fibers, open connections) and integer arithmetic is
    exact and a single atomic instruction. For values that are not integers
    (ratios, temperatures), register a collector with
    @ref registry::add_collector, whose samples are `double`.

    @par Thread safety
    All member functions may be called concurrently from any thread or fiber.
*/
class gauge
{
public:
    /// Constructs a gauge at zero.
    gauge() noexcept = default;

    gauge(gauge const&) = delete;
    gauge& operator=(gauge const&) = delete;

    /** Sets the gauge.

        @param v The new value.

        @par Thread safety
        Safe to call concurrently; a relaxed atomic store.
    */
    void set(std::int64_t v) noexcept
    {
        value_.store(v, std::memory_order_relaxed);
    }

    /** Adds `n` to the gauge (wrapping in two's complement on overflow).

        @param n The amount to add; may be negative.

        @par Thread safety
        Safe to call concurrently; a relaxed atomic add.
    */
    void add(std::int64_t n) noexcept
    {
        value_.fetch_add(n, std::memory_order_relaxed);
    }

    /** Subtracts `n` from the gauge (wrapping in two's complement on overflow).

        @param n The amount to subtract; may be negative.

        @par Thread safety
        Safe to call concurrently; a relaxed atomic subtract.
    */
    void sub(std::int64_t n) noexcept
    {
        value_.fetch_sub(n, std::memory_order_relaxed);
    }

    /** Returns the current value.

        @return The value after every update that happened before this call.

        @par Thread safety
        Safe to call concurrently with updates.
    */
    std::int64_t value() const noexcept
    {
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::int64_t> value_{0};
};

//----------------------------------------------------------------------------

/** One histogram bucket of a snapshot, as Prometheus expects it.

    Counts are cumulative: the bucket counts every observation less than or
    equal to its upper bound (the `le` label).
*/
struct bucket
{
    /// The inclusive upper bound; `+infinity` for the last bucket.
    double upper_bound = 0;

    /// The number of observations `<= upper_bound`.
    std::uint64_t cumulative_count = 0;
};

/** Returns the default histogram bounds, suited to latencies in seconds.

    They run from 10 microseconds to 10 seconds in 1-2.5-5 steps: wider at
    the low end than Prometheus' defaults (which start at 5 ms) because actor
    handlers and mailbox hops take microseconds.

    @return 19 increasing bounds, valid for the program's lifetime.
*/
SPINDLE_DECL std::span<double const> default_buckets() noexcept;

/** Returns `count` bounds `start, start*factor, start*factor^2, ...`.

    @param start The first bound; must be positive and finite.
    @param factor The ratio between neighbours; must be finite and > 1.
    @param count The number of bounds; must be at least 1.
    @param ec Set to `error::invalid_argument` on bad arguments, cleared
    otherwise.

    @return The bounds, or an empty vector on error.

    @throws std::bad_alloc If the vector cannot be allocated.
*/
SPINDLE_DECL std::vector<double> exponential_buckets(
    double start, double factor, std::size_t count, boost::system::error_code& ec);

/** Returns `count` bounds `start, start*factor, start*factor^2, ...`.

    @param start The first bound; must be positive and finite.
    @param factor The ratio between neighbours; must be finite and > 1.
    @param count The number of bounds; must be at least 1.

    @return The bounds.

    @throws spindle::system_error With `error::invalid_argument` and a message
    naming the bad argument.
*/
SPINDLE_DECL std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

/** Returns `count` bounds `start, start+width, start+2*width, ...`.

    @param start The first bound; must be finite.
    @param width The distance between neighbours; must be finite and > 0.
    @param count The number of bounds; must be at least 1.
    @param ec Set to `error::invalid_argument` on bad arguments, cleared
    otherwise.

    @return The bounds, or an empty vector on error.

    @throws std::bad_alloc If the vector cannot be allocated.
*/
SPINDLE_DECL std::vector<double> linear_buckets(
    double start, double width, std::size_t count, boost::system::error_code& ec);

/** Returns `count` bounds `start, start+width, start+2*width, ...`.

    @param start The first bound; must be finite.
    @param width The distance between neighbours; must be finite and > 0.
    @param count The number of bounds; must be at least 1.

    @return The bounds.

    @throws spindle::system_error With `error::invalid_argument` and a message
    naming the bad argument.
*/
SPINDLE_DECL std::vector<double> linear_buckets(double start, double width, std::size_t count);

/** A histogram with fixed bucket bounds.

    Each observation adds one to the count of the first bucket whose upper
    bound is `>=` the value (Prometheus `le` semantics; larger values go to
    the implicit `+Inf` bucket) and adds the value to the sum. The total
    count is the sum of the bucket counts, so a snapshot's `+Inf` bucket
    always equals its count.

    @par Thread safety
    All member functions may be called concurrently from any thread or fiber.
    Concurrent readers may see the sum and the buckets of different moments
    (the sum may include an observation whose bucket is not yet counted, or
    the other way round), as in every Prometheus client.
*/
class histogram
{
public:
    /** Constructs a histogram with the given upper bounds.

        @param bounds Strictly increasing bucket upper bounds, none NaN. A
        trailing `+infinity` is allowed and dropped (the `+Inf` bucket always
        exists); an empty list gives a histogram with only `+Inf`.

        @throws spindle::system_error With `error::invalid_argument` and a
        message saying what is wrong with `bounds`.
        @throws std::bad_alloc If the buckets cannot be allocated.
    */
    SPINDLE_DECL explicit histogram(std::span<double const> bounds);

    histogram(histogram const&) = delete;
    histogram& operator=(histogram const&) = delete;

    /** Records one observation.

        A NaN is ignored: it has no bucket and would turn the sum into NaN
        for the rest of the process's life.

        @param v The observed value (e.g. a latency in seconds).

        @par Thread safety
        Safe to call concurrently; relaxed atomics only (a bucket increment
        and a compare-and-swap loop on the sum).
    */
    void observe(double v) noexcept
    {
        if(BOOST_UNLIKELY(v != v))
            return;
        // First bound >= v: a value equal to a bound belongs to that bucket.
        double const* const first = bounds_.get();
        std::size_t const i = static_cast<std::size_t>(std::lower_bound(first, first + size_, v) - first);
        counts_[i].fetch_add(1, std::memory_order_relaxed);
        sum_.fetch_add(v, std::memory_order_relaxed);
    }

    /** Returns the finite upper bounds, without `+Inf`.

        @return The bounds given at construction (minus a trailing
        `+infinity`), valid for the histogram's lifetime.
    */
    std::span<double const> bounds() const noexcept
    {
        return {bounds_.get(), size_};
    }

    /** Returns the number of observations.

        @return The sum of all bucket counts.

        @par Thread safety
        Safe to call concurrently with @ref observe.
    */
    SPINDLE_DECL std::uint64_t count() const noexcept;

    /** Returns the sum of all observations.

        @return The sum (`0` before the first observation).

        @par Thread safety
        Safe to call concurrently with @ref observe.
    */
    double sum() const noexcept
    {
        return sum_.load(std::memory_order_relaxed);
    }

    /** Returns the cumulative bucket counts.

        @return One entry per bound plus a last one for `+Inf`, whose count
        is the total count.

        @throws std::bad_alloc If the vector cannot be allocated.

        @par Thread safety
        Safe to call concurrently with @ref observe; the result is
        consistent with itself (counts never decrease along it).
    */
    SPINDLE_DECL std::vector<bucket> buckets() const;

private:
    std::unique_ptr<double[]> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_; // size_ + 1, not cumulative
    std::size_t size_ = 0;
    std::atomic<double> sum_{0.0};
};

//----------------------------------------------------------------------------

/** A counter split into shards, each written by one thread only.

    For a fixed set of threads that each own a shard, such as an actor
    system's worker threads (shard = worker index): an increment is a
    relaxed load and a relaxed store on the thread's own cache line, with
    no atomic read-modify-write, which makes it the cheapest counter to
    update. @ref value sums the shards. Exporters see a plain counter.

    @par Thread safety
    @ref inc on one shard must only ever be called by one thread at a time,
    and calls for one shard must be ordered (one owning thread, or fibers
    of one thread with no suspension inside the call); otherwise increments
    are lost. Different shards may be updated concurrently, and
    @ref value may be called concurrently with anything.
*/
class sharded_counter
{
public:
    /** Constructs a counter at zero.

        @param shards The number of shards; at least 1.

        @throws spindle::system_error With `error::invalid_argument` if
        `shards` is 0.
        @throws std::bad_alloc If the shards cannot be allocated.
    */
    SPINDLE_DECL explicit sharded_counter(std::size_t shards);

    sharded_counter(sharded_counter const&) = delete;
    sharded_counter& operator=(sharded_counter const&) = delete;

    /** Adds `n` to the counter's shard `shard`.

        @param shard The shard of the calling thread; must be less than
        @ref shards.
        @param n The amount to add.

        @par Thread safety
        Only the thread owning `shard` may call it (see the class).
    */
    void inc(std::size_t shard, std::uint64_t n = 1) noexcept
    {
        auto& v = shards_[shard].value;
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    /** Returns the current value.

        @return The sum of every increment that happened before this call.

        @par Thread safety
        Safe to call concurrently with @ref inc; increments in flight on
        other threads may or may not be included, and a later call never
        returns less.
    */
    SPINDLE_DECL std::uint64_t value() const noexcept;

    /// @return The number of shards.
    std::size_t shards() const noexcept { return size_; }

private:
    struct alignas(SPINDLE_CACHELINE) shard
    {
        std::atomic<std::uint64_t> value{0};
    };

    std::unique_ptr<shard[]> shards_;
    std::size_t size_;
};

/** A histogram split into shards, each written by one thread only.

    The same data as @ref histogram (bucket bounds, `le` semantics, a NaN
    ignored), for a fixed set of threads that each own a shard: an
    observation updates the thread's own bucket count and sum with relaxed
    loads and stores, no atomic read-modify-write and no cache line shared
    with another thread. Reading sums the shards. Exporters see a plain
    histogram.

    @par Thread safety
    @ref observe on one shard must only ever be called by one thread at a
    time, and calls for one shard must be ordered (see
    @ref sharded_counter). Different shards may be updated concurrently,
    and the readers may be called concurrently with anything; like
    @ref histogram's, they may see the sum and the buckets of different
    moments.
*/
class sharded_histogram
{
public:
    /** Constructs a histogram with the given upper bounds.

        @param bounds Strictly increasing bucket upper bounds, none NaN
        (see @ref histogram::histogram).
        @param shards The number of shards; at least 1.

        @throws spindle::system_error With `error::invalid_argument` and a
        message saying what is wrong with `bounds` or `shards`.
        @throws std::bad_alloc If the shards cannot be allocated.
    */
    SPINDLE_DECL sharded_histogram(std::span<double const> bounds, std::size_t shards);

    SPINDLE_DECL ~sharded_histogram();

    sharded_histogram(sharded_histogram const&) = delete;
    sharded_histogram& operator=(sharded_histogram const&) = delete;

    /** Records one observation in shard `shard`.

        @param shard The shard of the calling thread; must be less than
        @ref shards.
        @param v The observed value (e.g. a duration in seconds); a NaN is
        ignored.

        @par Thread safety
        Only the thread owning `shard` may call it (see the class).
    */
    void observe(std::size_t shard, double v) noexcept
    {
        if(BOOST_UNLIKELY(v != v))
            return;
        double const* const first = bounds_.get();
        std::atomic<std::uint64_t>* const row = rows_ + shard * stride_;
        // values in the first bucket take a branch the processor predicts,
        // so the count's address does not wait for a search
        std::size_t const i = BOOST_LIKELY(size_ == 0 || v <= first[0])
                                  ? 0
                                  : static_cast<std::size_t>(std::lower_bound(first, first + size_, v) - first);
        auto& c = row[1 + i];
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        // the sum sits in the row's first word, beside the first buckets
        auto& sum = row[0];
        sum.store(std::bit_cast<std::uint64_t>(std::bit_cast<double>(sum.load(std::memory_order_relaxed)) + v),
                  std::memory_order_relaxed);
    }

    /// @return The finite upper bounds, without `+Inf`.
    std::span<double const> bounds() const noexcept { return {bounds_.get(), size_}; }

    /// @return The number of shards.
    std::size_t shards() const noexcept { return shards_; }

    /** Returns the number of observations.

        @par Thread safety
        Safe to call concurrently with @ref observe.
    */
    SPINDLE_DECL std::uint64_t count() const noexcept;

    /** Returns the sum of all observations.

        @par Thread safety
        Safe to call concurrently with @ref observe.
    */
    SPINDLE_DECL double sum() const noexcept;

    /** Returns the cumulative bucket counts, summed over the shards.

        @return One entry per bound plus a last one for `+Inf`, whose count
        is the total count.

        @throws std::bad_alloc If the vector cannot be allocated.

        @par Thread safety
        Safe to call concurrently with @ref observe; the result is
        consistent with itself (counts never decrease along it).
    */
    SPINDLE_DECL std::vector<bucket> buckets() const;

private:
    std::unique_ptr<double[]> bounds_;
    std::size_t size_ = 0;
    std::size_t shards_ = 0;
    std::size_t stride_ = 0;                  ///< words per row, a whole number of cache lines
    std::atomic<std::uint64_t>* rows_ = nullptr; ///< per shard: the sum's bits, then size_ + 1 counts
};

//----------------------------------------------------------------------------

/** One series of a snapshot: a label set and its value(s).

    Counters and gauges use @ref value; histograms use @ref buckets,
    @ref count and @ref sum. A collector gives `labels` and `value`:
    `out.push_back({{{"actor", "a"}}, 3.0})`.
*/
struct sample
{
    /// Constructs an unlabelled sample with value zero.
    sample() = default;

    /** Constructs a counter or gauge sample.

        @param labels_ The labels, in any order.
        @param value_ The value.
    */
    sample(labels_type labels_, double value_) noexcept
        : labels(std::move(labels_))
        , value(value_)
    {
    }

    /// The labels, sorted by name in a snapshot.
    labels_type labels;

    /// The value of a counter or gauge sample.
    double value = 0;

    /// The cumulative buckets of a histogram sample; the last is `+Inf`.
    std::vector<bucket> buckets;

    /// The number of observations of a histogram sample.
    std::uint64_t count = 0;

    /// The sum of the observations of a histogram sample.
    double sum = 0;
};

/// One metric family of a snapshot.
struct metric_family
{
    /// The metric name.
    std::string name;

    /// The help text given at registration.
    std::string help;

    /// The family's type.
    metric_type type = metric_type::counter;

    /// The series, ordered by their labels.
    std::vector<sample> samples;
};

/** The function a collector runs at snapshot time.

    It appends the family's current samples to its argument (labels in any
    order; the snapshot sorts them) and may throw, which makes the snapshot
    throw.
*/
using collector_type = std::function<void(std::vector<sample>&)>;

/// Identifies a collector for @ref spindle::metrics::registry::remove_collector. Zero is never
/// a valid id.
enum class collector_id : std::uint64_t
{
};

//----------------------------------------------------------------------------

/** A set of metric families that components register into and exporters
    read.

    Registration is get-or-create: asking twice for the same name and label
    set returns the same object, so components need not coordinate. Cache
    the returned reference: registration takes a mutex and looks the series
    up by name and labels, updating the metric does not.

    Names follow Prometheus' rules (see @ref is_valid_metric_name and
    @ref is_valid_label_name). A name has one type and one help text (and,
    for histograms, one set of bounds); registering it again with another
    one is an error. The label order given at registration does not matter.

    There is no process-wide registry: each actor system owns one and
    applications may create their own.

    @par Thread safety
    All member functions may be called concurrently. Registration,
    removal and snapshots serialise on a mutex that is held only briefly
    (never while a collector runs), so calling them from a fiber does not
    block its thread for long; do not call them on a per-message path.
*/
class registry
{
public:
    /** Constructs an empty registry.

        @throws std::bad_alloc If the registry cannot be allocated.
    */
    SPINDLE_DECL registry();

    /** Destroys the registry and every metric in it.

        Every reference it returned becomes invalid. No other thread may be
        using the registry or its metrics.
    */
    SPINDLE_DECL ~registry();

    registry(registry const&) = delete;
    registry& operator=(registry const&) = delete;

    /** Returns the counter for `name` and `labels`, creating it if needed.

        @param name The metric name, e.g. `"spindle_messages_total"`.
        @param help The help text; must match the family's if it exists.
        @param labels The series' labels, in any order.
        @param ec Set to `error::invalid_argument` if a name is invalid, a
        label name repeats, the family exists with another type or help, or
        the series exists as a @ref striped_counter; cleared otherwise.

        @return The counter, valid until it is removed or the registry is
        destroyed; `nullptr` on error.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::counter* counter(
        std::string_view name, std::string_view help, labels_type const& labels,
        boost::system::error_code& ec);

    /** Returns the counter for `name` and `labels`, creating it if needed.

        @param name The metric name, e.g. `"spindle_messages_total"`.
        @param help The help text; must match the family's if it exists.
        @param labels The series' labels, in any order.

        @return The counter, valid until it is removed or the registry is
        destroyed.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the bad name or the conflict (see the `error_code`
        overload for the cases).
        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::counter& counter(
        std::string_view name, std::string_view help, labels_type const& labels = {});

    /** Returns the striped counter for `name` and `labels`, creating it if
        needed.

        Its family has type `counter`: exporters see no difference.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param labels The series' labels, in any order.
        @param ec Set to `error::invalid_argument` if a name is invalid, a
        label name repeats, the family exists with another type or help, or
        the series exists as a plain @ref metrics::counter; cleared otherwise.

        @return The counter, valid until it is removed or the registry is
        destroyed; `nullptr` on error.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::striped_counter* striped_counter(
        std::string_view name, std::string_view help, labels_type const& labels,
        boost::system::error_code& ec);

    /** Returns the striped counter for `name` and `labels`, creating it if
        needed.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param labels The series' labels, in any order.

        @return The counter, valid until it is removed or the registry is
        destroyed.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the bad name or the conflict.
        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::striped_counter& striped_counter(
        std::string_view name, std::string_view help, labels_type const& labels = {});

    /** Returns the gauge for `name` and `labels`, creating it if needed.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param labels The series' labels, in any order.
        @param ec Set to `error::invalid_argument` if a name is invalid, a
        label name repeats, or the family exists with another type or help;
        cleared otherwise.

        @return The gauge, valid until it is removed or the registry is
        destroyed; `nullptr` on error.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::gauge* gauge(
        std::string_view name, std::string_view help, labels_type const& labels,
        boost::system::error_code& ec);

    /** Returns the gauge for `name` and `labels`, creating it if needed.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param labels The series' labels, in any order.

        @return The gauge, valid until it is removed or the registry is
        destroyed.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the bad name or the conflict.
        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::gauge& gauge(
        std::string_view name, std::string_view help, labels_type const& labels = {});

    /** Returns the histogram for `name` and `labels`, creating it if needed.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param bounds The bucket upper bounds (see @ref histogram::histogram),
        e.g. @ref default_buckets(); must match the family's if it exists.
        @param labels The series' labels, in any order; `le` is not allowed
        (Prometheus uses it for the buckets).
        @param ec Set to `error::invalid_argument` if a name or the bounds are
        invalid, a label name repeats or is `le`, or the family exists with
        another type, help or bounds; cleared otherwise.

        @return The histogram, valid until it is removed or the registry is
        destroyed; `nullptr` on error.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::histogram* histogram(
        std::string_view name, std::string_view help, std::span<double const> bounds,
        labels_type const& labels, boost::system::error_code& ec);

    /** Returns the histogram for `name` and `labels`, creating it if needed.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param bounds The bucket upper bounds (see @ref histogram::histogram),
        e.g. @ref default_buckets(); must match the family's if it exists.
        @param labels The series' labels, in any order; `le` is not allowed.

        @return The histogram, valid until it is removed or the registry is
        destroyed.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the bad name, the bad bounds or the conflict.
        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::histogram& histogram(
        std::string_view name, std::string_view help, std::span<double const> bounds,
        labels_type const& labels = {});

    /** Returns the sharded counter for `name` and `labels`, creating it if
        needed.

        Its family has type `counter`: exporters see no difference.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param shards The number of shards (see @ref sharded_counter); must
        match the series' if it exists.
        @param labels The series' labels, in any order.
        @param ec Set to `error::invalid_argument` if a name is invalid, a
        label name repeats, `shards` is 0 or differs from the existing
        series', the family exists with another type or help, or the series
        exists as another kind of counter; cleared otherwise.

        @return The counter, valid until it is removed or the registry is
        destroyed; `nullptr` on error.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::sharded_counter* sharded_counter(
        std::string_view name, std::string_view help, std::size_t shards, labels_type const& labels,
        boost::system::error_code& ec);

    /** Returns the sharded counter for `name` and `labels`, creating it if
        needed.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param shards The number of shards; must match the series' if it
        exists.
        @param labels The series' labels, in any order.

        @return The counter, valid until it is removed or the registry is
        destroyed.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the bad name or the conflict.
        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::sharded_counter& sharded_counter(
        std::string_view name, std::string_view help, std::size_t shards, labels_type const& labels = {});

    /** Returns the sharded histogram for `name` and `labels`, creating it if
        needed.

        Its family has type `histogram`, and may hold both plain and
        sharded series: exporters see no difference.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param bounds The bucket upper bounds; must match the family's if it
        exists.
        @param shards The number of shards (see @ref sharded_histogram);
        must match the series' if it exists.
        @param labels The series' labels, in any order; `le` is not allowed.
        @param ec Set to `error::invalid_argument` if a name or the bounds
        are invalid, a label name repeats or is `le`, `shards` is 0 or
        differs from the existing series', the family exists with another
        type, help or bounds, or the series exists as a plain histogram;
        cleared otherwise.

        @return The histogram, valid until it is removed or the registry is
        destroyed; `nullptr` on error.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::sharded_histogram* sharded_histogram(
        std::string_view name, std::string_view help, std::span<double const> bounds, std::size_t shards,
        labels_type const& labels, boost::system::error_code& ec);

    /** Returns the sharded histogram for `name` and `labels`, creating it if
        needed.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param bounds The bucket upper bounds; must match the family's if it
        exists.
        @param shards The number of shards; must match the series' if it
        exists.
        @param labels The series' labels, in any order; `le` is not allowed.

        @return The histogram, valid until it is removed or the registry is
        destroyed.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the bad name, the bad bounds or the conflict.
        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL metrics::sharded_histogram& sharded_histogram(
        std::string_view name, std::string_view help, std::span<double const> bounds, std::size_t shards,
        labels_type const& labels = {});

    /** Removes one series (e.g. the per-actor series of an actor that stopped).

        The metric object is destroyed: the caller must make sure nothing
        uses the reference any more, on any thread. Snapshots running
        concurrently are safe; they include the series or not. A family
        left with no series and no collectors disappears, so its name may
        then be registered with another type.

        @param name The metric name.
        @param labels The series' labels, in any order.

        @return `true` if the series existed and was removed.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL bool remove(std::string_view name, labels_type const& labels = {});

    /** Adds a function that produces samples of a counter or gauge family
        when a snapshot is taken.

        Use it for values computed on demand (the sum of all mailbox depths,
        the number of live fibers). Its samples join the family's registered
        series, if any; the labels must be valid and no label set may occur
        twice in the family (else the snapshot fails).

        The function runs on the thread taking the snapshot, without any of
        the registry's locks held (so it may call the registry), and never
        concurrently with itself.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param type `metric_type::counter` or `metric_type::gauge`.
        @param fn The function; must not be empty.
        @param ec Set to `error::invalid_argument` if the name is invalid,
        `type` is `histogram`, `fn` is empty, or the family exists with
        another type or help; cleared otherwise.

        @return The collector's id, or `collector_id{}` on error.

        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL collector_id add_collector(
        std::string_view name, std::string_view help, metric_type type, collector_type fn,
        boost::system::error_code& ec);

    /** Adds a function that produces samples of a counter or gauge family
        when a snapshot is taken.

        See the `error_code` overload for the details.

        @param name The metric name.
        @param help The help text; must match the family's if it exists.
        @param type `metric_type::counter` or `metric_type::gauge`.
        @param fn The function; must not be empty.

        @return The collector's id.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the bad name or the conflict.
        @throws std::bad_alloc If memory runs out.

        @par Thread safety
        Safe to call concurrently with every other member function.
    */
    SPINDLE_DECL collector_id add_collector(
        std::string_view name, std::string_view help, metric_type type, collector_type fn);

    /** Removes a collector.

        When this returns, the collector is not running and will not run
        again, and its function has been destroyed, so whatever it refers to
        may be destroyed. If a snapshot on another thread is running it,
        this waits for it to finish. A collector may remove itself while it
        runs; its function is then destroyed after it returns.

        @param id The id @ref add_collector returned.

        @return `true` if the collector existed and was removed.

        @par Thread safety
        Safe to call concurrently with every other member function. Do not
        call it while holding a lock that a collector takes.
    */
    SPINDLE_DECL bool remove_collector(collector_id id);

    /** Returns the current value of every metric.

        Families are ordered by name and samples by their (sorted) labels,
        so the result is deterministic. Histogram samples carry cumulative
        buckets ending with `+Inf`. Collectors run during the call.

        @param ec Set to `error::invalid_argument` if a collector produced an
        invalid label name or a label set that already occurs in its family;
        cleared otherwise.

        @return The families; empty on error.

        @throws std::bad_alloc If memory runs out.
        @throws Whatever a collector throws.

        @par Thread safety
        Safe to call concurrently with every other member function,
        including another snapshot.
    */
    SPINDLE_DECL std::vector<metric_family> snapshot(boost::system::error_code& ec) const;

    /** Returns the current value of every metric.

        See the `error_code` overload for the details.

        @return The families, ordered by name, their samples by labels.

        @throws spindle::system_error With `error::invalid_argument` and a
        message naming the family if a collector produced an invalid label
        name or a duplicate label set.
        @throws std::bad_alloc If memory runs out.
        @throws Whatever a collector throws.

        @par Thread safety
        Safe to call concurrently with every other member function,
        including another snapshot.
    */
    SPINDLE_DECL std::vector<metric_family> snapshot() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace spindle::metrics

#endif
