//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/prometheus.hpp>

#include <spindle/error.hpp>
#include <spindle/log.hpp>

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <sstream>
#include <unordered_set>

namespace spindle::http {

std::vector<prometheus::MetricFamily> to_prometheus(std::vector<metrics::metric_family> const& families)
{
    std::vector<prometheus::MetricFamily> out;
    out.reserve(families.size());
    for(auto const& f : families)
    {
        prometheus::MetricFamily pf;
        pf.name = f.name;
        pf.help = f.help;
        switch(f.type)
        {
        case metrics::metric_type::counter: pf.type = prometheus::MetricType::Counter; break;
        case metrics::metric_type::gauge: pf.type = prometheus::MetricType::Gauge; break;
        case metrics::metric_type::histogram: pf.type = prometheus::MetricType::Histogram; break;
        }
        pf.metric.reserve(f.samples.size());
        for(auto const& s : f.samples)
        {
            prometheus::ClientMetric m;
            m.label.reserve(s.labels.size());
            for(auto const& [name, value] : s.labels)
                m.label.push_back({name, value});
            switch(f.type)
            {
            case metrics::metric_type::counter: m.counter.value = s.value; break;
            case metrics::metric_type::gauge: m.gauge.value = s.value; break;
            case metrics::metric_type::histogram:
                m.histogram.sample_count = s.count;
                m.histogram.sample_sum = s.sum;
                m.histogram.bucket.reserve(s.buckets.size());
                for(auto const& b : s.buckets)
                    m.histogram.bucket.push_back({b.cumulative_count, b.upper_bound});
                break;
            }
            pf.metric.push_back(std::move(m));
        }
        out.push_back(std::move(pf));
    }
    return out;
}

prometheus_exporter::prometheus_exporter(metrics::registry& reg)
    : prometheus_exporter(reg, std::make_shared<prometheus::Registry>())
{
}

prometheus_exporter::prometheus_exporter(metrics::registry& reg, std::shared_ptr<prometheus::Registry> extra)
    : reg_(&reg)
    , extra_(extra ? std::move(extra) : std::make_shared<prometheus::Registry>())
{
}

std::string prometheus_exporter::scrape(boost::system::error_code& ec) const
{
    auto const snap = reg_->snapshot(ec);
    if(ec)
        return {};
    auto families = to_prometheus(snap);
    std::unordered_set<std::string> names;
    for(auto const& f : families)
        names.insert(f.name);
    for(auto& f : extra_->Collect())
    {
        if(names.count(f.name) != 0)
        {
            SPINDLE_LOG(warning, "http") << "metric family " << f.name
                                         << " is in both registries; the prometheus-cpp one is left out";
            continue;
        }
        families.push_back(std::move(f));
    }
    return prometheus::TextSerializer().Serialize(families);
}

std::string prometheus_exporter::scrape() const
{
    boost::system::error_code ec;
    auto text = scrape(ec);
    if(ec)
        spindle::detail::throw_error(ec, "spindle::http::prometheus_exporter::scrape");
    return text;
}

} // namespace spindle::http
