//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/metrics.hpp>

#include <bit>
#include <new>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

namespace spindle::metrics {

namespace {

//----------------------------------------------------------------------------
// Thread slots for striped counters

// Never destroyed: threads may exit (and give their slot back) after static
// destructors have run.
struct slot_table
{
    std::mutex mutex;
    std::vector<bool> used;
};

slot_table& slots()
{
    static slot_table* const t = new slot_table;
    return *t;
}

unsigned take_slot() noexcept
{
    auto& t = slots();
    std::lock_guard<std::mutex> lock(t.mutex);
    std::size_t i = 0;
    while(i < t.used.size() && t.used[i])
        ++i;
    try
    {
        if(i == t.used.size())
            t.used.push_back(true);
        else
            t.used[i] = true;
    }
    catch(...)
    {
        // Out of memory: share a slot. Only speed suffers, never the count.
        return 0;
    }
    return static_cast<unsigned>(i);
}

void give_slot(unsigned slot) noexcept
{
    auto& t = slots();
    std::lock_guard<std::mutex> lock(t.mutex);
    if(slot < t.used.size())
        t.used[slot] = false;
}

struct slot_holder
{
    unsigned slot = take_slot();

    slot_holder() = default;
    slot_holder(slot_holder const&) = delete;
    slot_holder& operator=(slot_holder const&) = delete;
    ~slot_holder() { give_slot(slot); }
};

//----------------------------------------------------------------------------
// Validation and messages

bool is_alpha_(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

std::string quote(std::string_view s)
{
    std::string r;
    r.reserve(s.size() + 2);
    r += '\'';
    r += s;
    r += '\'';
    return r;
}

std::string format_labels(labels_type const& labels)
{
    std::string r = "{";
    for(auto const& [k, v] : labels)
    {
        if(r.size() > 1)
            r += ',';
        r += k;
        r += "=\"";
        r += v;
        r += '"';
    }
    r += '}';
    return r;
}

// An error with the message the throwing overloads use.
struct failure
{
    boost::system::error_code ec;
    std::string what;

    void set(std::string msg)
    {
        ec = make_error_code(error::invalid_argument);
        what = "spindle::metrics: " + std::move(msg);
    }

    explicit operator bool() const noexcept { return ec.failed(); }

    [[noreturn]] void raise() const { spindle::detail::throw_error(ec, what.c_str()); }
};

bool check_name(std::string_view name, failure& f)
{
    if(is_valid_metric_name(name))
        return true;
    f.set("invalid metric name " + quote(name));
    return false;
}

// Sorts `labels` by name and checks the names.
bool normalise_labels(labels_type& labels, std::string_view metric, bool histogram, failure& f)
{
    std::sort(labels.begin(), labels.end(),
              [](auto const& a, auto const& b) { return a.first < b.first; });
    for(std::size_t i = 0; i < labels.size(); ++i)
    {
        auto const& k = labels[i].first;
        if(!is_valid_label_name(k))
        {
            f.set("invalid label name " + quote(k) + " for metric " + quote(metric));
            return false;
        }
        if(i > 0 && labels[i - 1].first == k)
        {
            f.set("duplicate label name " + quote(k) + " for metric " + quote(metric));
            return false;
        }
        if(histogram && k == "le")
        {
            f.set("label name 'le' is reserved for the buckets of histogram " + quote(metric));
            return false;
        }
    }
    return true;
}

// Copies `in` to `out` without a trailing +infinity, checking the rest.
bool normalise_bounds(std::span<double const> in, std::vector<double>& out, failure& f)
{
    if(!in.empty() && in.back() == std::numeric_limits<double>::infinity())
        in = in.first(in.size() - 1);
    for(std::size_t i = 0; i < in.size(); ++i)
    {
        if(!std::isfinite(in[i]))
        {
            f.set("histogram bucket bound " + std::to_string(i) + " is not finite "
                  "(only a last +infinity is allowed)");
            return false;
        }
        if(i > 0 && !(in[i - 1] < in[i]))
        {
            f.set("histogram bucket bounds must be strictly increasing (bound " +
                  std::to_string(i) + " is not greater than bound " + std::to_string(i - 1) + ")");
            return false;
        }
    }
    out.assign(in.begin(), in.end());
    return true;
}

std::string_view type_article(metric_type t) noexcept
{
    return t == metric_type::gauge ? "a gauge" : t == metric_type::counter ? "a counter" : "a histogram";
}

//----------------------------------------------------------------------------
// Registry storage

using metric_variant = std::variant<
    metrics::counter, metrics::striped_counter, metrics::gauge, metrics::histogram, metrics::sharded_counter,
    metrics::sharded_histogram>;

template<class T>
constexpr metric_type type_of() noexcept
{
    if constexpr(std::is_same_v<T, metrics::gauge>)
        return metric_type::gauge;
    else if constexpr(std::is_same_v<T, metrics::histogram> || std::is_same_v<T, metrics::sharded_histogram>)
        return metric_type::histogram;
    else
        return metric_type::counter;
}

std::string_view kind_name(metric_variant const& v) noexcept
{
    switch(v.index())
    {
    case 0: return "a counter";
    case 1: return "a striped counter";
    case 2: return "a gauge";
    case 3: return "a histogram";
    case 4: return "a sharded counter";
    default: return "a sharded histogram";
    }
}

struct collector_entry
{
    // Recursive so that a collector may remove itself while it runs.
    std::recursive_mutex mutex;
    collector_type fn;
    bool removed = false;
    bool running = false;
};

struct family
{
    std::string help;
    metric_type type;
    std::vector<double> bounds; // histograms only
    // std::map: nodes never move, so references to metrics stay valid.
    std::map<labels_type, metric_variant> series;
    std::vector<std::pair<std::uint64_t, std::shared_ptr<collector_entry>>> collectors;

    bool empty() const noexcept { return series.empty() && collectors.empty(); }
};

using family_map = std::map<std::string, family, std::less<>>;

} // namespace

//----------------------------------------------------------------------------

std::string_view to_string(metric_type t) noexcept
{
    switch(t)
    {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
    }
    return "unknown";
}

bool is_valid_metric_name(std::string_view name) noexcept
{
    if(name.empty() || !(is_alpha_(name[0]) || name[0] == ':'))
        return false;
    for(char c : name)
        if(!(is_alpha_(c) || is_digit(c) || c == ':'))
            return false;
    return true;
}

bool is_valid_label_name(std::string_view name) noexcept
{
    if(name.empty() || !is_alpha_(name[0]) || name.starts_with("__"))
        return false;
    for(char c : name)
        if(!(is_alpha_(c) || is_digit(c)))
            return false;
    return true;
}

unsigned detail::acquire_thread_slot() noexcept
{
    thread_local slot_holder const holder;
    return holder.slot;
}

std::size_t detail::default_stripe_count() noexcept
{
    static std::size_t const n = [] {
        std::size_t hw = std::thread::hardware_concurrency();
        return std::clamp<std::size_t>(std::bit_ceil(hw == 0 ? 1 : hw), 8, 64);
    }();
    return n;
}

//----------------------------------------------------------------------------

std::span<double const> default_buckets() noexcept
{
    static constexpr double b[] = {
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    return b;
}

namespace {

std::vector<double> make_exponential(double start, double factor, std::size_t count, failure& f)
{
    if(!(std::isfinite(start) && start > 0))
        f.set("exponential_buckets: start must be positive and finite");
    else if(!(std::isfinite(factor) && factor > 1))
        f.set("exponential_buckets: factor must be finite and greater than 1");
    else if(count == 0)
        f.set("exponential_buckets: count must be at least 1");
    if(f)
        return {};
    std::vector<double> r;
    r.reserve(count);
    double v = start;
    for(std::size_t i = 0; i < count; ++i, v *= factor)
    {
        if(!std::isfinite(v))
        {
            f.set("exponential_buckets: bound " + std::to_string(i) + " overflows");
            return {};
        }
        r.push_back(v);
    }
    return r;
}

std::vector<double> make_linear(double start, double width, std::size_t count, failure& f)
{
    if(!std::isfinite(start))
        f.set("linear_buckets: start must be finite");
    else if(!(std::isfinite(width) && width > 0))
        f.set("linear_buckets: width must be finite and positive");
    else if(count == 0)
        f.set("linear_buckets: count must be at least 1");
    if(f)
        return {};
    std::vector<double> r;
    r.reserve(count);
    for(std::size_t i = 0; i < count; ++i)
    {
        // Multiplying (rather than adding up) keeps rounding errors from
        // accumulating.
        double const v = start + static_cast<double>(i) * width;
        if(!std::isfinite(v) || (i > 0 && !(r.back() < v)))
        {
            f.set("linear_buckets: bound " + std::to_string(i) +
                  " overflows or does not exceed the previous one");
            return {};
        }
        r.push_back(v);
    }
    return r;
}

} // namespace

std::vector<double> exponential_buckets(
    double start, double factor, std::size_t count, boost::system::error_code& ec)
{
    failure f;
    auto r = make_exponential(start, factor, count, f);
    ec = f.ec;
    return r;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count)
{
    failure f;
    auto r = make_exponential(start, factor, count, f);
    if(f)
        f.raise();
    return r;
}

std::vector<double> linear_buckets(
    double start, double width, std::size_t count, boost::system::error_code& ec)
{
    failure f;
    auto r = make_linear(start, width, count, f);
    ec = f.ec;
    return r;
}

std::vector<double> linear_buckets(double start, double width, std::size_t count)
{
    failure f;
    auto r = make_linear(start, width, count, f);
    if(f)
        f.raise();
    return r;
}

//----------------------------------------------------------------------------

histogram::histogram(std::span<double const> bounds)
{
    failure f;
    std::vector<double> b;
    if(!normalise_bounds(bounds, b, f))
        f.raise();
    size_ = b.size();
    bounds_.reset(new double[size_]);
    std::copy(b.begin(), b.end(), bounds_.get());
    counts_.reset(new std::atomic<std::uint64_t>[size_ + 1]);
    for(std::size_t i = 0; i <= size_; ++i)
        counts_[i].store(0, std::memory_order_relaxed);
}

std::uint64_t histogram::count() const noexcept
{
    std::uint64_t n = 0;
    for(std::size_t i = 0; i <= size_; ++i)
        n += counts_[i].load(std::memory_order_relaxed);
    return n;
}

std::vector<bucket> histogram::buckets() const
{
    std::vector<bucket> r(size_ + 1);
    std::uint64_t n = 0;
    for(std::size_t i = 0; i <= size_; ++i)
    {
        n += counts_[i].load(std::memory_order_relaxed);
        r[i].upper_bound = i < size_ ? bounds_[i] : std::numeric_limits<double>::infinity();
        r[i].cumulative_count = n;
    }
    return r;
}

//----------------------------------------------------------------------------

namespace {

std::size_t checked_shards(std::size_t shards)
{
    if(shards == 0)
        spindle::detail::throw_error(make_error_code(error::invalid_argument),
                                     "spindle::metrics: a sharded metric needs at least one shard");
    return shards;
}

} // namespace

sharded_counter::sharded_counter(std::size_t shards)
    : shards_(new shard[checked_shards(shards)])
    , size_(shards)
{
}

std::uint64_t sharded_counter::value() const noexcept
{
    std::uint64_t n = 0;
    for(std::size_t i = 0; i < size_; ++i)
        n += shards_[i].value.load(std::memory_order_relaxed);
    return n;
}

sharded_histogram::sharded_histogram(std::span<double const> bounds, std::size_t shards)
{
    failure f;
    std::vector<double> b;
    if(!normalise_bounds(bounds, b, f))
        f.raise();
    shards_ = checked_shards(shards);
    size_ = b.size();
    bounds_.reset(new double[size_]);
    std::copy(b.begin(), b.end(), bounds_.get());
    // each row: the sum's bits and size_ + 1 counts, padded to whole cache
    // lines and aligned, so that no two shards share a line
    constexpr std::size_t per_line = SPINDLE_CACHELINE / sizeof(std::atomic<std::uint64_t>);
    stride_ = (size_ + 2 + per_line - 1) / per_line * per_line;
    std::size_t const words = stride_ * shards_;
    rows_ = static_cast<std::atomic<std::uint64_t>*>(::operator new[](
        words * sizeof(std::atomic<std::uint64_t>), std::align_val_t(SPINDLE_CACHELINE)));
    for(std::size_t i = 0; i < words; ++i)
        new(rows_ + i) std::atomic<std::uint64_t>(i % stride_ == 0 ? std::bit_cast<std::uint64_t>(0.0) : 0);
}

sharded_histogram::~sharded_histogram()
{
    ::operator delete[](rows_, std::align_val_t(SPINDLE_CACHELINE));
}

std::uint64_t sharded_histogram::count() const noexcept
{
    std::uint64_t n = 0;
    for(std::size_t s = 0; s < shards_; ++s)
        for(std::size_t i = 0; i <= size_; ++i)
            n += rows_[s * stride_ + 1 + i].load(std::memory_order_relaxed);
    return n;
}

double sharded_histogram::sum() const noexcept
{
    double r = 0;
    for(std::size_t s = 0; s < shards_; ++s)
        r += std::bit_cast<double>(rows_[s * stride_].load(std::memory_order_relaxed));
    return r;
}

std::vector<bucket> sharded_histogram::buckets() const
{
    std::vector<bucket> r(size_ + 1);
    for(std::size_t s = 0; s < shards_; ++s)
        for(std::size_t i = 0; i <= size_; ++i)
            r[i].cumulative_count += rows_[s * stride_ + 1 + i].load(std::memory_order_relaxed);
    std::uint64_t n = 0;
    for(std::size_t i = 0; i <= size_; ++i)
    {
        n += r[i].cumulative_count;
        r[i].cumulative_count = n;
        r[i].upper_bound = i < size_ ? bounds_[i] : std::numeric_limits<double>::infinity();
    }
    return r;
}

//----------------------------------------------------------------------------

struct registry::impl
{
    mutable std::mutex mutex;
    family_map families;
    std::unordered_map<std::uint64_t, family_map::iterator> collector_families;
    std::uint64_t next_collector = 1;

    // Finds or creates the family under the lock; on a conflict returns
    // families.end() and fills `f`. `created` tells whether it is new, so
    // that a failure afterwards can take it out again.
    family_map::iterator find_family(
        std::string_view name, std::string_view help, metric_type type,
        std::vector<double> const* bounds, bool& created, failure& f)
    {
        created = false;
        auto it = families.find(name);
        if(it == families.end())
        {
            it = families.emplace_hint(it, std::string(name), family{std::string(help), type, {}, {}, {}});
            created = true;
            if(bounds)
                it->second.bounds = *bounds;
            return it;
        }
        family const& fam = it->second;
        if(fam.type != type)
            f.set("metric " + quote(name) + " is already registered as " +
                  std::string(type_article(fam.type)));
        else if(fam.help != help)
            f.set("metric " + quote(name) + " is already registered with another help text (" +
                  quote(fam.help) + ")");
        else if(bounds && fam.bounds != *bounds)
            f.set("histogram " + quote(name) + " is already registered with other bucket bounds");
        return f ? families.end() : it;
    }

    template<class T>
    T* get_or_create(
        std::string_view name, std::string_view help, labels_type const& labels,
        std::span<double const> const* bounds_in, failure& f, std::size_t shards = 0)
    {
        constexpr metric_type type = type_of<T>();
        constexpr bool sharded =
            std::is_same_v<T, metrics::sharded_counter> || std::is_same_v<T, metrics::sharded_histogram>;
        if(!check_name(name, f))
            return nullptr;
        if(sharded && shards == 0)
        {
            f.set("metric " + quote(name) + ": a sharded metric needs at least one shard");
            return nullptr;
        }
        labels_type sorted = labels;
        if(!normalise_labels(sorted, name, type == metric_type::histogram, f))
            return nullptr;
        std::vector<double> bounds;
        if(bounds_in && !normalise_bounds(*bounds_in, bounds, f))
        {
            f.what += " (histogram " + quote(name) + ")";
            return nullptr;
        }

        std::lock_guard<std::mutex> lock(mutex);
        bool created = false;
        auto fit = find_family(name, help, type, bounds_in ? &bounds : nullptr, created, f);
        if(fit == families.end())
            return nullptr;
        family& fam = fit->second;
        auto sit = fam.series.find(sorted);
        if(sit != fam.series.end())
        {
            if(T* p = std::get_if<T>(&sit->second))
            {
                if constexpr(sharded)
                {
                    if(p->shards() != shards)
                    {
                        f.set("metric " + quote(name) + format_labels(sorted) + " is already registered with " +
                              std::to_string(p->shards()) + " shards");
                        return nullptr;
                    }
                }
                return p;
            }
            f.set("metric " + quote(name) + format_labels(sorted) + " is already registered as " +
                  std::string(kind_name(sit->second)));
            return nullptr;
        }
        try
        {
            if constexpr(std::is_same_v<T, metrics::histogram>)
                sit = fam.series.try_emplace(std::move(sorted), std::in_place_type<T>,
                                             std::span<double const>(fam.bounds)).first;
            else if constexpr(std::is_same_v<T, metrics::sharded_histogram>)
                sit = fam.series.try_emplace(std::move(sorted), std::in_place_type<T>,
                                             std::span<double const>(fam.bounds), shards).first;
            else if constexpr(std::is_same_v<T, metrics::sharded_counter>)
                sit = fam.series.try_emplace(std::move(sorted), std::in_place_type<T>, shards).first;
            else
                sit = fam.series.try_emplace(std::move(sorted), std::in_place_type<T>).first;
        }
        catch(...)
        {
            if(created)
                families.erase(fit);
            throw;
        }
        return std::get_if<T>(&sit->second);
    }

    collector_id add_collector(
        std::string_view name, std::string_view help, metric_type type, collector_type& fn,
        failure& f);

    bool remove_collector(collector_id id);

    std::vector<metric_family> snapshot(failure& f) const;
};

registry::registry()
    : impl_(std::make_unique<impl>())
{
}

registry::~registry() = default;

metrics::counter* registry::counter(
    std::string_view name, std::string_view help, labels_type const& labels,
    boost::system::error_code& ec)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::counter>(name, help, labels, nullptr, f);
    ec = f.ec;
    return p;
}

metrics::counter& registry::counter(
    std::string_view name, std::string_view help, labels_type const& labels)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::counter>(name, help, labels, nullptr, f);
    if(!p)
        f.raise();
    return *p;
}

metrics::striped_counter* registry::striped_counter(
    std::string_view name, std::string_view help, labels_type const& labels,
    boost::system::error_code& ec)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::striped_counter>(name, help, labels, nullptr, f);
    ec = f.ec;
    return p;
}

metrics::striped_counter& registry::striped_counter(
    std::string_view name, std::string_view help, labels_type const& labels)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::striped_counter>(name, help, labels, nullptr, f);
    if(!p)
        f.raise();
    return *p;
}

metrics::gauge* registry::gauge(
    std::string_view name, std::string_view help, labels_type const& labels,
    boost::system::error_code& ec)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::gauge>(name, help, labels, nullptr, f);
    ec = f.ec;
    return p;
}

metrics::gauge& registry::gauge(
    std::string_view name, std::string_view help, labels_type const& labels)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::gauge>(name, help, labels, nullptr, f);
    if(!p)
        f.raise();
    return *p;
}

metrics::histogram* registry::histogram(
    std::string_view name, std::string_view help, std::span<double const> bounds,
    labels_type const& labels, boost::system::error_code& ec)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::histogram>(name, help, labels, &bounds, f);
    ec = f.ec;
    return p;
}

metrics::histogram& registry::histogram(
    std::string_view name, std::string_view help, std::span<double const> bounds,
    labels_type const& labels)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::histogram>(name, help, labels, &bounds, f);
    if(!p)
        f.raise();
    return *p;
}

metrics::sharded_counter* registry::sharded_counter(
    std::string_view name, std::string_view help, std::size_t shards, labels_type const& labels,
    boost::system::error_code& ec)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::sharded_counter>(name, help, labels, nullptr, f, shards);
    ec = f.ec;
    return p;
}

metrics::sharded_counter& registry::sharded_counter(
    std::string_view name, std::string_view help, std::size_t shards, labels_type const& labels)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::sharded_counter>(name, help, labels, nullptr, f, shards);
    if(!p)
        f.raise();
    return *p;
}

metrics::sharded_histogram* registry::sharded_histogram(
    std::string_view name, std::string_view help, std::span<double const> bounds, std::size_t shards,
    labels_type const& labels, boost::system::error_code& ec)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::sharded_histogram>(name, help, labels, &bounds, f, shards);
    ec = f.ec;
    return p;
}

metrics::sharded_histogram& registry::sharded_histogram(
    std::string_view name, std::string_view help, std::span<double const> bounds, std::size_t shards,
    labels_type const& labels)
{
    failure f;
    auto* p = impl_->get_or_create<metrics::sharded_histogram>(name, help, labels, &bounds, f, shards);
    if(!p)
        f.raise();
    return *p;
}

bool registry::remove(std::string_view name, labels_type const& labels)
{
    labels_type sorted = labels;
    std::sort(sorted.begin(), sorted.end(),
              [](auto const& a, auto const& b) { return a.first < b.first; });
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto fit = impl_->families.find(name);
    if(fit == impl_->families.end())
        return false;
    if(fit->second.series.erase(sorted) == 0)
        return false;
    if(fit->second.empty())
        impl_->families.erase(fit);
    return true;
}

//----------------------------------------------------------------------------

collector_id registry::impl::add_collector(
    std::string_view name, std::string_view help, metric_type type, collector_type& fn,
    failure& f)
{
    if(!check_name(name, f))
        return {};
    if(type == metric_type::histogram)
    {
        f.set("collector for " + quote(name) + ": only counters and gauges can be collected");
        return {};
    }
    if(!fn)
    {
        f.set("collector for " + quote(name) + ": the function is empty");
        return {};
    }
    auto entry = std::make_shared<collector_entry>();
    entry->fn = std::move(fn);

    std::lock_guard<std::mutex> lock(mutex);
    bool created = false;
    auto fit = find_family(name, help, type, nullptr, created, f);
    if(fit == families.end())
        return {};
    std::uint64_t const n = next_collector;
    try
    {
        collector_families.emplace(n, fit);
        fit->second.collectors.emplace_back(n, std::move(entry));
    }
    catch(...)
    {
        collector_families.erase(n);
        if(created)
            families.erase(fit);
        throw;
    }
    ++next_collector;
    return collector_id{n};
}

bool registry::impl::remove_collector(collector_id id)
{
    std::shared_ptr<collector_entry> entry;
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto cit = collector_families.find(static_cast<std::uint64_t>(id));
        if(cit == collector_families.end())
            return false;
        auto const fit = cit->second;
        collector_families.erase(cit);
        auto& cs = fit->second.collectors;
        auto const it = std::find_if(cs.begin(), cs.end(), [&](auto const& c) {
            return c.first == static_cast<std::uint64_t>(id);
        });
        entry = std::move(it->second);
        cs.erase(it);
        if(fit->second.empty())
            families.erase(fit);
    }
    // Taking the entry's lock waits for a snapshot running the collector on
    // another thread. Snapshots that copied the entry earlier see `removed`.
    collector_type dead;
    {
        std::lock_guard<std::recursive_mutex> lock(entry->mutex);
        entry->removed = true;
        // If it is running, it is running on this thread (the lock is
        // recursive): the snapshot destroys it once it returns.
        if(!entry->running)
            dead.swap(entry->fn);
    }
    return true;
}

namespace {

// Runs one collector and returns its samples; skips it if it was removed or
// is already running on this thread (a collector taking a snapshot).
std::vector<sample> run_collector(collector_entry& e)
{
    std::vector<sample> out;
    collector_type dead;
    {
        std::unique_lock<std::recursive_mutex> lock(e.mutex);
        if(e.removed || e.running)
            return out;
        e.running = true;
        struct reset
        {
            collector_entry& e;
            collector_type& dead;
            ~reset()
            {
                e.running = false;
                if(e.removed)
                    dead.swap(e.fn);
            }
        } r{e, dead};
        e.fn(out);
    }
    return out;
}

} // namespace

std::vector<metric_family> registry::impl::snapshot(failure& f) const
{
    std::vector<metric_family> out;
    std::vector<std::pair<std::size_t, std::shared_ptr<collector_entry>>> calls;
    {
        std::lock_guard<std::mutex> lock(mutex);
        out.reserve(families.size());
        for(auto const& [name, fam] : families)
        {
            metric_family& mf = out.emplace_back();
            mf.name = name;
            mf.help = fam.help;
            mf.type = fam.type;
            mf.samples.reserve(fam.series.size());
            for(auto const& [labels, m] : fam.series)
            {
                sample& s = mf.samples.emplace_back();
                s.labels = labels;
                switch(m.index())
                {
                case 0: s.value = static_cast<double>(std::get<0>(m).value()); break;
                case 1: s.value = static_cast<double>(std::get<1>(m).value()); break;
                case 2: s.value = static_cast<double>(std::get<2>(m).value()); break;
                case 3:
                {
                    auto const& h = std::get<3>(m);
                    s.sum = h.sum();
                    s.buckets = h.buckets();
                    s.count = s.buckets.back().cumulative_count;
                    break;
                }
                case 4: s.value = static_cast<double>(std::get<4>(m).value()); break;
                default:
                {
                    auto const& h = std::get<5>(m);
                    s.sum = h.sum();
                    s.buckets = h.buckets();
                    s.count = s.buckets.back().cumulative_count;
                }
                }
            }
            for(auto const& c : fam.collectors)
                calls.emplace_back(out.size() - 1, c.second);
        }
    }

    // Collectors run without the registry's lock so that they may use it,
    // and so that a slow one does not hold up registrations.
    std::vector<std::size_t> touched;
    for(auto const& [index, entry] : calls)
    {
        std::vector<sample> got = run_collector(*entry);
        if(got.empty())
            continue;
        metric_family& mf = out[index];
        for(sample& s : got)
        {
            if(!normalise_labels(s.labels, mf.name, false, f))
            {
                f.what += " (from a collector)";
                return {};
            }
            s.buckets.clear();
            s.count = 0;
            s.sum = 0;
            mf.samples.push_back(std::move(s));
        }
        if(touched.empty() || touched.back() != index)
            touched.push_back(index);
    }
    for(std::size_t index : touched)
    {
        metric_family& mf = out[index];
        std::stable_sort(mf.samples.begin(), mf.samples.end(),
                         [](sample const& a, sample const& b) { return a.labels < b.labels; });
        auto const dup = std::adjacent_find(mf.samples.begin(), mf.samples.end(),
                                            [](sample const& a, sample const& b) { return a.labels == b.labels; });
        if(dup != mf.samples.end())
        {
            f.set("metric " + quote(mf.name) + format_labels(dup->labels) +
                  " was produced twice (by a collector and another collector or a registered series)");
            return {};
        }
    }
    return out;
}

collector_id registry::add_collector(
    std::string_view name, std::string_view help, metric_type type, collector_type fn,
    boost::system::error_code& ec)
{
    failure f;
    auto const id = impl_->add_collector(name, help, type, fn, f);
    ec = f.ec;
    return id;
}

collector_id registry::add_collector(
    std::string_view name, std::string_view help, metric_type type, collector_type fn)
{
    failure f;
    auto const id = impl_->add_collector(name, help, type, fn, f);
    if(f)
        f.raise();
    return id;
}

bool registry::remove_collector(collector_id id)
{
    return impl_->remove_collector(id);
}

std::vector<metric_family> registry::snapshot(boost::system::error_code& ec) const
{
    failure f;
    auto r = impl_->snapshot(f);
    ec = f.ec;
    return r;
}

std::vector<metric_family> registry::snapshot() const
{
    failure f;
    auto r = impl_->snapshot(f);
    if(f)
        f.raise();
    return r;
}

} // namespace spindle::metrics
