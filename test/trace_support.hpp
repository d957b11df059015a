//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_TEST_TRACE_SUPPORT_HPP
#define SPINDLE_TEST_TRACE_SUPPORT_HPP

#include <spindle/trace/tracing.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace spindle_test {

/// Keeps every exported span, for the tests to look at.
class capture_exporter final : public spindle::trace::span_exporter
{
public:
    boost::system::error_code export_spans(std::span<spindle::trace::span_data const> spans,
        spindle::trace::attributes const&, spindle::trace::export_deadline&) override
    {
        std::lock_guard lk(m_);
        spans_.insert(spans_.end(), spans.begin(), spans.end());
        return {};
    }

    std::vector<spindle::trace::span_data> spans() const
    {
        std::lock_guard lk(m_);
        return spans_;
    }

    /// The exported span named `name` (the first), or null.
    std::optional<spindle::trace::span_data> find(std::string const& name) const
    {
        std::lock_guard lk(m_);
        for(auto const& s : spans_)
            if(s.name == name)
                return s;
        return std::nullopt;
    }

private:
    mutable std::mutex m_;
    std::vector<spindle::trace::span_data> spans_;
};

/// Tracing into `exp`, always on, exported at once on force_flush.
inline spindle::trace::tracing_options capture_options(std::shared_ptr<capture_exporter> exp,
    std::shared_ptr<spindle::trace::sampler const> s = spindle::trace::always_on())
{
    spindle::trace::tracing_options o;
    o.service_name = "trace-test";
    o.exporter = std::move(exp);
    o.sampler = std::move(s);
    o.batch.schedule_delay = std::chrono::milliseconds(20);
    return o;
}

/// Polls `pred` until it holds or `limit` passes (generous: the machine is shared).
inline bool wait_for(std::function<bool()> const& pred, std::chrono::seconds limit = std::chrono::seconds(60))
{
    auto const end = std::chrono::steady_clock::now() + limit;
    while(!pred())
    {
        if(std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

/// Every exported span named `name`, in the order they were exported.
inline std::vector<spindle::trace::span_data> spans_named(capture_exporter const& exp, std::string const& name)
{
    std::vector<spindle::trace::span_data> r;
    for(auto& s : exp.spans())
        if(s.name == name)
            r.push_back(s);
    return r;
}

/// The span named `name`, once the pipeline has exported it (flushing until it
/// has, for up to wait_for's bound); empty if it never came.
inline std::optional<spindle::trace::span_data> wait_span(
    spindle::trace::tracing& t, capture_exporter const& exp, std::string const& name)
{
    std::optional<spindle::trace::span_data> s;
    wait_for([&] {
        t.force_flush(std::chrono::seconds(10));
        s = exp.find(name);
        return s.has_value();
    });
    return s;
}

inline std::string attr_string(spindle::trace::span_data const& s, std::string const& key)
{
    for(auto const& a : s.attributes)
        if(a.key == key)
            if(auto const* v = std::get_if<std::string>(&a.value))
                return *v;
    return {};
}

/// The integer attribute `key` of `s`, or -1 if it has none.
inline std::int64_t attr_int(spindle::trace::span_data const& s, std::string const& key)
{
    for(auto const& a : s.attributes)
        if(a.key == key)
            if(auto const* v = std::get_if<std::int64_t>(&a.value))
                return *v;
    return -1;
}

inline bool has_attr(spindle::trace::span_data const& s, std::string const& key)
{
    for(auto const& a : s.attributes)
        if(a.key == key)
            return true;
    return false;
}

} // namespace spindle_test

#endif
