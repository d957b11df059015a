//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/http/prometheus.hpp>

#include <spindle/error.hpp>
#include <spindle/log.hpp>

#include <prometheus/text_serializer.h>

#include <boost/config.hpp>
#include <boost/version.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string_view>
#include <unordered_set>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

// The project's version, from the build (CMake passes it); a build that
// does not says so.
#ifndef SPINDLE_VERSION_STRING
#define SPINDLE_VERSION_STRING "unknown"
#endif

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
    auto add = [&](std::vector<prometheus::MetricFamily> more) {
        for(auto& f : more)
        {
            if(!names.insert(f.name).second)
            {
                SPINDLE_LOG(warning, "http") << "metric family " << f.name
                                             << " is served twice; the later one is left out";
                continue;
            }
            families.push_back(std::move(f));
        }
    };
    add(extra_->Collect());
    std::vector<std::shared_ptr<prometheus::Collectable const>> sources;
    {
        std::lock_guard lk(collectables_m_);
        sources = collectables_;
    }
    for(auto const& c : sources)
        add(c->Collect());
    return prometheus::TextSerializer().Serialize(families);
}

void prometheus_exporter::add_collectable(std::shared_ptr<prometheus::Collectable const> c)
{
    if(!c)
        spindle::detail::throw_error(error::invalid_argument, "spindle::http::prometheus_exporter::add_collectable: null");
    std::lock_guard lk(collectables_m_);
    collectables_.push_back(std::move(c));
}

namespace {

prometheus::MetricFamily one_value(std::string name, std::string help, prometheus::MetricType type, double v)
{
    prometheus::MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    prometheus::ClientMetric m;
    if(type == prometheus::MetricType::Counter)
        m.counter.value = v;
    else
        m.gauge.value = v;
    f.metric.push_back(std::move(m));
    return f;
}

std::string read_file(char const* path)
{
    std::ifstream in(path, std::ios::binary);
    if(!in)
        return {};
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The system's boot time, seconds since the epoch (`btime` in /proc/stat).
double boot_time()
{
    auto const stat = read_file("/proc/stat");
    auto const at = stat.find("\nbtime ");
    if(at == std::string::npos)
        return -1;
    return std::strtod(stat.c_str() + at + 7, nullptr);
}

} // namespace

std::vector<prometheus::MetricFamily> process_collector::Collect() const
{
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    long const ticks = ::sysconf(_SC_CLK_TCK);
    long const page = ::sysconf(_SC_PAGESIZE);

    // /proc/self/stat: the fields after the command name, which is in
    // parentheses and may hold anything, spaces and parentheses included.
    auto const stat = read_file("/proc/self/stat");
    auto const close = stat.rfind(')');
    if(close != std::string::npos && ticks > 0)
    {
        std::istringstream in(stat.substr(close + 2));
        std::vector<std::string> f{std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
        // fields are numbered from 1 in proc(5); f[0] is field 3 (state)
        auto field = [&](std::size_t n) -> double {
            return n - 3 < f.size() ? std::strtod(f[n - 3].c_str(), nullptr) : -1;
        };
        double const utime = field(14), stime = field(15), start = field(22), vsize = field(23), rss = field(24);
        if(utime >= 0 && stime >= 0)
            out.push_back(one_value("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                                    MetricType::Counter, (utime + stime) / static_cast<double>(ticks)));
        if(rss >= 0 && page > 0)
            out.push_back(one_value("process_resident_memory_bytes", "Resident memory size in bytes.",
                                    MetricType::Gauge, rss * static_cast<double>(page)));
        if(vsize >= 0)
            out.push_back(one_value("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                                    MetricType::Gauge, vsize));
        if(double const boot = boot_time(); start >= 0 && boot >= 0)
            out.push_back(one_value("process_start_time_seconds",
                                    "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                                    boot + start / static_cast<double>(ticks)));
    }
    if(DIR* d = ::opendir("/proc/self/fd"))
    {
        double n = 0;
        while(dirent* e = ::readdir(d))
            if(e->d_name[0] != '.')
                ++n;
        ::closedir(d);
        out.push_back(one_value("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                                n - 1)); // less the one reading the directory
    }
    rlimit lim{};
    if(::getrlimit(RLIMIT_NOFILE, &lim) == 0)
        out.push_back(one_value("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
                                lim.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                                              : static_cast<double>(lim.rlim_cur)));
    return out;
}

std::vector<prometheus::MetricFamily> build_info_collector::Collect() const
{
    static std::string const boost_version = std::to_string(BOOST_VERSION / 100000) + "." +
                                             std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                                             std::to_string(BOOST_VERSION % 100);
    auto f = one_value("spindle_build_info", "Spindle's version, and the Boost and compiler that built it; always 1.",
                       prometheus::MetricType::Gauge, 1);
    f.metric.front().label = {{"version", SPINDLE_VERSION_STRING}, {"boost", boost_version}, {"compiler", BOOST_COMPILER}};
    return {std::move(f)};
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
