//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/log.hpp>

#include <spindle/error.hpp>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/log/attributes/attribute_name.hpp>
#include <boost/log/attributes/attribute_value_impl.hpp>
#include <boost/log/attributes/attribute_value_set.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core/core.hpp>
#include <boost/log/sinks/async_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/utility/exception_handler.hpp>
#include <boost/core/null_deleter.hpp>
#include <boost/make_shared.hpp>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <ostream>

namespace spindle::log {

namespace detail {
constinit std::atomic<int> threshold{threshold_off};
} // namespace detail

namespace {

namespace bl = boost::log;

constexpr char const* severity_names[] = {"trace", "debug", "info", "warning", "error", "fatal"};
constexpr int severity_count = sizeof(severity_names) / sizeof(severity_names[0]);

bool is_valid(severity s) noexcept
{
    return static_cast<int>(s) >= 0 && static_cast<int>(s) < severity_count;
}

// Attribute names are interned under a lock in Boost.Log, and the shared
// values are immutable: both are made once, not per record.
struct shared_attributes
{
    bl::attribute_name channel{attr::channel};
    bl::attribute_name sev{attr::severity};
    bl::attribute_name component{attr::component};
    bl::attribute_name actor{attr::actor_id};
    bl::attribute_name timestamp{attr::timestamp};
    bl::attribute_name message{"Message"};

    bl::attribute_value channel_value = bl::attributes::make_attribute_value(std::string(spindle::log::channel_value));
    bl::attribute_value severity_values[severity_count] = {
        bl::attributes::make_attribute_value(severity::trace),
        bl::attributes::make_attribute_value(severity::debug),
        bl::attributes::make_attribute_value(severity::info),
        bl::attributes::make_attribute_value(severity::warning),
        bl::attributes::make_attribute_value(severity::error),
        bl::attributes::make_attribute_value(severity::fatal),
    };

    // Kept like Boost.Log's loggers keep it: core::get() costs an atomic
    // reference count round trip that all threads would contend on.
    bl::core_ptr core = bl::core::get();
};

shared_attributes const& shared() noexcept
{
    // Never destroyed: objects destroyed at exit may still log from their
    // destructors, after a function-local static would be gone.
    static shared_attributes const* const a = new shared_attributes;
    return *a;
}

// ---------------------------------------------------------------------------
// Formatting

bool needs_quotes(std::string_view v) noexcept
{
    if(v.empty())
        return true;
    for(char c : v)
    {
        auto const u = static_cast<unsigned char>(c);
        if(u <= 0x20 || u == 0x7f || c == '"' || c == '=' || c == '\\')
            return true;
    }
    return false;
}

void append_quoted(std::string& out, std::string_view v)
{
    out += '"';
    for(char c : v)
    {
        auto const u = static_cast<unsigned char>(c);
        switch(c)
        {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if(u < 0x20 || u == 0x7f)
            {
                char buf[5];
                std::snprintf(buf, sizeof buf, "\\x%02x", u);
                out += buf;
            }
            else
            {
                out += c;
            }
        }
    }
    out += '"';
}

void append_value(std::string& out, std::string_view v)
{
    if(needs_quotes(v))
        append_quoted(out, v);
    else
        out += v;
}

void append_timestamp(std::string& out, boost::posix_time::ptime const& t)
{
    if(t.is_special())
    {
        out += "-";
        return;
    }
    auto const d = t.date();
    auto const tod = t.time_of_day();
    // Microseconds whatever the clock's resolution.
    auto const frac = tod.total_microseconds() % 1000000;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
        static_cast<int>(d.year()), static_cast<int>(d.month()), static_cast<int>(d.day()),
        static_cast<int>(tod.hours()), static_cast<int>(tod.minutes()),
        static_cast<int>(tod.seconds()), static_cast<int>(frac));
    out += buf;
}

void format_line(bl::record_view const& rec, std::string& out)
{
    auto const& a = shared();
    out += "ts=";
    if(auto const t = bl::extract<boost::posix_time::ptime>(a.timestamp, rec))
        append_timestamp(out, *t);
    else
        out += '-';
    out += " sev=";
    if(auto const s = bl::extract<severity>(a.sev, rec))
    {
        if(is_valid(*s))
            out += severity_names[static_cast<int>(*s)];
        else
            out += std::to_string(static_cast<int>(*s));
    }
    else
    {
        out += '-';
    }
    if(auto const c = bl::extract<std::string>(a.component, rec))
    {
        out += " component=";
        append_value(out, *c);
    }
    if(auto const id = bl::extract<std::string>(a.actor, rec))
    {
        out += " actor=";
        append_value(out, *id);
    }
    out += " msg=";
    if(auto const m = bl::extract<std::string>(a.message, rec))
        append_quoted(out, *m);
    else
        out += "\"\"";
}

// The formatter must not throw: the flush accounting below counts a record
// as written only when it reaches the backend.
void format_record(bl::record_view const& rec, bl::formatting_ostream& os)
{
    try
    {
        std::string line;
        line.reserve(160);
        format_line(rec, line);
        os << line;
    }
    catch(...)
    {
        try
        {
            os << "sev=error component=log msg=\"spindle: failed to format a record\"";
        }
        catch(...)
        {
        }
    }
}

// ---------------------------------------------------------------------------
// The sink

// Counts records handed to the sink and records written, so that flush()
// can wait for the writes without asynchronous_sink::flush(), which makes
// every concurrent logger wait on a condition variable until it is done.
struct progress
{
    std::atomic<std::uint64_t> queued{0};
    std::mutex mutex;
    std::condition_variable written_cv;
    std::uint64_t written = 0; // guarded by mutex
};

class spindle_backend : public bl::sinks::text_ostream_backend
{
public:
    explicit spindle_backend(std::shared_ptr<progress> p) : progress_(std::move(p)) {}

    // Hides (not overrides) the base consume: the frontend calls it on the
    // static backend type.
    void consume(bl::record_view const& rec, string_type const& line)
    {
        struct count_written
        {
            progress& p;
            ~count_written()
            {
                {
                    std::lock_guard<std::mutex> lock(p.mutex);
                    ++p.written;
                }
                p.written_cv.notify_all();
            }
        } guard{*progress_};
        bl::sinks::text_ostream_backend::consume(rec, line);
    }

private:
    std::shared_ptr<progress> progress_;
};

using frontend_type = bl::sinks::asynchronous_sink<spindle_backend>;

class spindle_sink final : public frontend_type
{
public:
    spindle_sink(boost::shared_ptr<spindle_backend> const& backend, std::shared_ptr<progress> p)
        : frontend_type(backend)
        , progress_(std::move(p))
    {
    }

    void consume(bl::record_view const& rec) override
    {
        progress_->queued.fetch_add(1, std::memory_order_relaxed);
        try
        {
            frontend_type::consume(rec);
        }
        catch(...)
        {
            progress_->queued.fetch_sub(1, std::memory_order_relaxed);
            throw;
        }
    }

    bool try_consume(bl::record_view const& rec) override
    {
        progress_->queued.fetch_add(1, std::memory_order_relaxed);
        bool ok = false;
        try
        {
            ok = frontend_type::try_consume(rec);
        }
        catch(...)
        {
            progress_->queued.fetch_sub(1, std::memory_order_relaxed);
            throw;
        }
        if(!ok)
            progress_->queued.fetch_sub(1, std::memory_order_relaxed);
        return ok;
    }

    // Waits for the writer thread instead of taking over the queue.
    void flush() override
    {
        std::uint64_t const target = progress_->queued.load(std::memory_order_relaxed);
        std::unique_lock<std::mutex> lock(progress_->mutex);
        progress_->written_cv.wait(lock, [&] { return progress_->written >= target; });
    }

    // Writes what is still queued in the calling thread; only after stop().
    void drain()
    {
        frontend_type::flush();
    }

private:
    std::shared_ptr<progress> progress_;
};

// Only Spindle's channel, at or above the sink's level.
struct spindle_filter
{
    severity min;

    bool operator()(bl::attribute_value_set const& values) const
    {
        auto const& a = shared();
        auto const ch = bl::extract<std::string>(a.channel, values);
        if(!ch || *ch != spindle::log::channel_value)
            return false;
        auto const s = bl::extract<severity>(a.sev, values);
        return s && static_cast<int>(*s) >= static_cast<int>(min);
    }
};

std::mutex g_sink_mutex;
boost::shared_ptr<spindle_sink> g_sink; // guarded by g_sink_mutex

void retire(boost::shared_ptr<spindle_sink> const& sink)
{
    if(!sink)
        return;
    shared().core->remove_sink(sink);
    sink->stop();
    sink->drain();
}

void install(boost::shared_ptr<std::ostream> strm, severity min)
{
    auto p = std::make_shared<progress>();
    auto backend = boost::make_shared<spindle_backend>(p);
    backend->add_stream(strm);
    // A record is worth most right before a crash: do not leave it buffered.
    backend->auto_flush(true);
    auto sink = boost::make_shared<spindle_sink>(backend, p);
    sink->set_filter(spindle_filter{min});
    sink->set_formatter(&format_record);
    // The writer thread must survive a failing stream.
    sink->set_exception_handler(bl::make_exception_suppressor());

    std::lock_guard<std::mutex> lock(g_sink_mutex);
    // Add the new sink before removing the old one so no record falls in between.
    shared().core->add_sink(sink);
    auto old = std::exchange(g_sink, sink);
    set_threshold(min);
    retire(old);
}

} // namespace

std::ostream& operator<<(std::ostream& os, severity s)
{
    if(is_valid(s))
        return os << severity_names[static_cast<int>(s)];
    return os << "severity(" << static_cast<int>(s) << ')';
}

void set_threshold(severity min) noexcept
{
    detail::threshold.store(static_cast<int>(min), std::memory_order_relaxed);
}

void disable() noexcept
{
    detail::threshold.store(detail::threshold_off, std::memory_order_relaxed);
}

std::optional<severity> threshold() noexcept
{
    int const t = detail::threshold.load(std::memory_order_relaxed);
    if(t == detail::threshold_off)
        return std::nullopt;
    return static_cast<severity>(t);
}

void init_console(severity min)
{
    install(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()), min);
}

void init_file(std::filesystem::path const& path, severity min, boost::system::error_code& ec)
{
    auto file = boost::make_shared<std::ofstream>();
    errno = 0;
    file->open(path, std::ios::out | std::ios::app);
    if(!file->is_open())
    {
        int const err = errno != 0 ? errno : EIO;
        ec.assign(err, boost::system::generic_category());
        return;
    }
    ec = {};
    install(file, min);
}

void init_file(std::filesystem::path const& path, severity min)
{
    boost::system::error_code ec;
    init_file(path, min, ec);
    if(ec)
    {
        std::string const what = "spindle::log::init_file: cannot open " + path.string();
        spindle::detail::throw_error(ec, what.c_str());
    }
}

void init_stream(boost::shared_ptr<std::ostream> strm, severity min)
{
    if(!strm)
        spindle::detail::throw_error(error::invalid_argument, "spindle::log::init_stream: null stream");
    install(std::move(strm), min);
}

void flush()
{
    std::lock_guard<std::mutex> lock(g_sink_mutex);
    if(g_sink)
        g_sink->flush();
}

void shutdown()
{
    std::lock_guard<std::mutex> lock(g_sink_mutex);
    disable();
    auto sink = std::move(g_sink);
    g_sink.reset();
    retire(sink);
}

boost::log::record detail::open_record(
    severity s, std::string_view component, std::string_view const* actor) noexcept
{
    try
    {
        auto const& a = shared();
        bl::attribute_value_set values(actor != nullptr ? 5 : 4);
        values.insert(a.channel, a.channel_value);
        values.insert(a.sev,
            is_valid(s) ? a.severity_values[static_cast<int>(s)] : bl::attributes::make_attribute_value(s));
        values.insert(a.component, bl::attributes::make_attribute_value(std::string(component)));
        if(actor != nullptr)
            values.insert(a.actor, bl::attributes::make_attribute_value(std::string(*actor)));
        values.insert(a.timestamp,
            bl::attributes::make_attribute_value(boost::posix_time::microsec_clock::universal_time()));
        return a.core->open_record(std::move(values));
    }
    catch(...)
    {
        return {};
    }
}

void detail::push_record(boost::log::record& rec) noexcept
{
    try
    {
        shared().core->push_record(std::move(rec));
    }
    catch(...)
    {
    }
}

} // namespace spindle::log
