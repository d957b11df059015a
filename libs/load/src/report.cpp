//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/load/runner.hpp>

#include <boost/json/object.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace spindle::load {

namespace json = boost::json;

namespace {

double ms(std::int64_t ns)
{
    return static_cast<double>(ns) / 1e6;
}

json::object latency(histogram const& h)
{
    json::object o;
    o["mean"] = h.mean() / 1e6;
    o["p50"] = ms(h.percentile(50));
    o["p90"] = ms(h.percentile(90));
    o["p95"] = ms(h.percentile(95));
    o["p99"] = ms(h.percentile(99));
    o["p99_9"] = ms(h.percentile(99.9));
    o["max"] = ms(h.max());
    return o;
}

json::object stats_json(request_stats const& s, bool open)
{
    json::object o;
    o["count"] = s.count;
    o["successes"] = s.successes;
    o["failures"] = s.failures;
    json::object e;
    for(auto const& [k, n] : s.errors)
        e[k] = n;
    o["errors"] = std::move(e);
    o["latency_ms"] = latency(s.response);
    if(open)
        o["service_time_ms"] = latency(s.service);
    return o;
}

std::string fmt(double v, int prec = 2)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

std::string escape(std::string_view s)
{
    std::string out;
    for(char c : s)
    {
        switch(c)
        {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

// A line chart: x = seconds, one polyline per series.
struct line
{
    std::string name;
    std::string color;
    std::vector<double> y;
};

std::string svg_lines(std::string const& id, std::string const& title, std::string const& unit,
    std::vector<line> const& lines, std::size_t points)
{
    double const w = 720, h = 260, l = 60, r = 20, t = 30, b = 40;
    double ymax = 0;
    for(auto const& ln : lines)
        for(double v : ln.y)
            ymax = std::max(ymax, v);
    if(ymax <= 0)
        ymax = 1;
    ymax *= 1.1;
    double const xspan = points > 1 ? static_cast<double>(points - 1) : 1;
    auto X = [&](std::size_t i) { return l + (w - l - r) * static_cast<double>(i) / xspan; };
    auto Y = [&](double v) { return h - b - (h - t - b) * v / ymax; };
    std::ostringstream o;
    o << "<svg id=\"" << id << "\" class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w
      << "\" height=\"" << h << "\" viewBox=\"0 0 " << w << ' ' << h << "\">\n";
    o << "<text x=\"" << l << "\" y=\"18\" font-size=\"14\">" << escape(title) << "</text>\n";
    o << "<line x1=\"" << l << "\" y1=\"" << h - b << "\" x2=\"" << w - r << "\" y2=\"" << h - b
      << "\" stroke=\"#444\"/>\n<line x1=\"" << l << "\" y1=\"" << t << "\" x2=\"" << l << "\" y2=\"" << h - b
      << "\" stroke=\"#444\"/>\n";
    for(int k = 0; k <= 4; ++k)
    {
        double const v = ymax * k / 4;
        o << "<text x=\"" << l - 6 << "\" y=\"" << Y(v) + 4 << "\" font-size=\"11\" text-anchor=\"end\">" << fmt(v)
          << "</text><line x1=\"" << l << "\" y1=\"" << Y(v) << "\" x2=\"" << w - r << "\" y2=\"" << Y(v)
          << "\" stroke=\"#ddd\"/>\n";
    }
    o << "<text x=\"" << (l + w - r) / 2 << "\" y=\"" << h - 8 << "\" font-size=\"11\" text-anchor=\"middle\">"
      << "time (s), " << escape(unit) << "</text>\n";
    for(std::size_t i = 0; i < points; i += std::max<std::size_t>(1, points / 10))
        o << "<text x=\"" << X(i) << "\" y=\"" << h - b + 14 << "\" font-size=\"11\" text-anchor=\"middle\">" << i
          << "</text>\n";
    double lx = l + 10;
    for(auto const& ln : lines)
    {
        o << "<polyline class=\"series\" data-name=\"" << escape(ln.name) << "\" fill=\"none\" stroke=\"" << ln.color
          << "\" stroke-width=\"2\" points=\"";
        for(std::size_t i = 0; i < ln.y.size(); ++i)
            o << fmt(X(i), 1) << ',' << fmt(Y(ln.y[i]), 1) << ' ';
        o << "\"/>\n<text x=\"" << lx << "\" y=\"" << t + 12 << "\" font-size=\"11\" fill=\"" << ln.color << "\">"
          << escape(ln.name) << "</text>\n";
        lx += 80;
    }
    o << "</svg>\n";
    return o.str();
}

// Bars of the latency histogram, buckets grouped on a log scale.
std::string svg_histogram(histogram const& hist)
{
    double const w = 720, h = 260, l = 60, r = 20, t = 30, b = 40;
    auto const buckets = hist.buckets();
    std::ostringstream o;
    o << "<svg id=\"histogram\" class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\""
      << h << "\" viewBox=\"0 0 " << w << ' ' << h << "\">\n"
      << "<text x=\"" << l << "\" y=\"18\" font-size=\"14\">Latency histogram (log scale)</text>\n";
    if(buckets.empty())
    {
        o << "<text x=\"" << l << "\" y=\"" << h / 2 << "\">no requests</text></svg>\n";
        return o.str();
    }
    // 40 bins between min and max on a log scale
    double const lo = std::log10(std::max<double>(1, static_cast<double>(buckets.front().low)));
    double const hi = std::log10(std::max<double>(2, static_cast<double>(buckets.back().high) + 1));
    int const bins = 40;
    std::vector<std::uint64_t> n(bins, 0);
    for(auto const& bk : buckets)
    {
        double const v = std::log10(std::max<double>(1, static_cast<double>(bk.low)));
        int i = hi > lo ? static_cast<int>((v - lo) / (hi - lo) * bins) : 0;
        n[std::clamp(i, 0, bins - 1)] += bk.count;
    }
    std::uint64_t const top = std::max<std::uint64_t>(1, *std::max_element(n.begin(), n.end()));
    double const bw = (w - l - r) / bins;
    for(int i = 0; i < bins; ++i)
    {
        double const bh = (h - t - b) * static_cast<double>(n[i]) / static_cast<double>(top);
        o << "<rect class=\"bar\" x=\"" << fmt(l + i * bw, 1) << "\" y=\"" << fmt(h - b - bh, 1) << "\" width=\""
          << fmt(bw - 1, 1) << "\" height=\"" << fmt(bh, 1) << "\" fill=\"#4a7ab5\"><title>" << n[i]
          << "</title></rect>\n";
    }
    o << "<line x1=\"" << l << "\" y1=\"" << h - b << "\" x2=\"" << w - r << "\" y2=\"" << h - b
      << "\" stroke=\"#444\"/>\n";
    for(int k = 0; k <= 4; ++k)
    {
        double const v = std::pow(10.0, lo + (hi - lo) * k / 4) / 1e6;
        o << "<text x=\"" << l + (w - l - r) * k / 4 << "\" y=\"" << h - b + 14
          << "\" font-size=\"11\" text-anchor=\"middle\">" << fmt(v, 3) << "</text>\n";
    }
    o << "<text x=\"" << (l + w - r) / 2 << "\" y=\"" << h - 8
      << "\" font-size=\"11\" text-anchor=\"middle\">latency (ms)</text>\n</svg>\n";
    return o.str();
}

std::string row(std::string const& name, request_stats const& s)
{
    auto const& h = s.response;
    std::ostringstream o;
    o << "<tr><td>" << escape(name) << "</td><td>" << s.count << "</td><td>" << s.failures << "</td><td>"
      << fmt(h.mean() / 1e6, 3) << "</td><td>" << fmt(ms(h.percentile(50)), 3) << "</td><td>"
      << fmt(ms(h.percentile(90)), 3) << "</td><td>" << fmt(ms(h.percentile(99)), 3) << "</td><td>"
      << fmt(ms(h.percentile(99.9)), 3) << "</td><td>" << fmt(ms(h.max()), 3) << "</td></tr>\n";
    return o.str();
}

} // namespace

slo_verdict check_slo(load_results const& r, slo const& s)
{
    slo_verdict v;
    if(s.p99_ms)
    {
        double const p99 = ms(r.total.response.percentile(99));
        if(p99 > *s.p99_ms)
            v.misses.push_back("p99 " + fmt(p99, 3) + " ms > " + fmt(*s.p99_ms, 3) + " ms");
    }
    if(s.error_rate)
    {
        double const e = r.error_rate();
        if(e > *s.error_rate)
            v.misses.push_back("error rate " + fmt(e, 4) + " > " + fmt(*s.error_rate, 4));
    }
    v.passed = v.misses.empty();
    return v;
}

json::value to_json(load_results const& r)
{
    bool const open = r.model == load_model::open;
    json::object o;
    o["name"] = r.name;
    o["model"] = open ? "open" : "closed";
    o["elapsed_s"] = std::chrono::duration<double>(r.elapsed).count();
    o["rps"] = r.rps();
    o["error_rate"] = r.error_rate();
    o["stopped_early"] = r.stopped_early;
    o["total"] = stats_json(r.total, open);
    json::array scs;
    for(auto const& s : r.scenarios)
    {
        json::object so = stats_json(s.stats, open);
        so["name"] = s.name;
        so["runs"] = s.runs;
        json::array st;
        for(auto const& x : s.steps)
        {
            json::object xo = stats_json(x.stats, open);
            xo["name"] = x.name;
            xo["kind"] = to_string(x.kind);
            st.push_back(std::move(xo));
        }
        so["steps"] = std::move(st);
        scs.push_back(std::move(so));
    }
    o["scenarios"] = std::move(scs);
    json::array series;
    for(auto const& s : r.series)
        series.push_back(json::object{{"second", s.second}, {"count", s.count}, {"failures", s.failures},
            {"mean_ms", s.mean_ms}, {"p50_ms", s.p50_ms}, {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms},
            {"active", s.active}});
    o["series"] = std::move(series);
    return o;
}

std::string html_report(load_results const& r, slo_verdict const& verdict, std::vector<report_section> const& sections)
{
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Load test: " << escape(r.name)
      << "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em "
         "0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
         ".pass{color:#176b2c}.fail{color:#b00020}svg{display:block;margin:1em 0}</style></head><body>\n";
    o << "<h1>Load test: " << escape(r.name) << "</h1>\n<p>Model: "
      << (r.model == load_model::open ? "open (response times from the intended start)" : "closed") << "; "
      << fmt(std::chrono::duration<double>(r.elapsed).count(), 1) << " s; " << r.total.count << " requests; "
      << fmt(r.rps(), 1) << " requests/s; error rate " << fmt(r.error_rate() * 100, 2) << "%.</p>\n";
    o << "<p id=\"verdict\" class=\"" << (verdict.passed ? "pass\">SLO met" : "fail\">SLO missed");
    for(auto const& m : verdict.misses)
        o << "; " << escape(m);
    o << "</p>\n<table id=\"summary\"><tr><th>scenario / step</th><th>requests</th><th>failures</th><th>mean "
         "ms</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n";
    o << row("all", r.total);
    for(auto const& s : r.scenarios)
    {
        o << row(s.name, s.stats);
        for(auto const& x : s.steps)
            if(x.kind != step_kind::wait)
                o << row(s.name + " / " + x.name, x.stats);
    }
    o << "</table>\n";
    if(!r.total.errors.empty())
    {
        o << "<table id=\"errors\"><tr><th>error</th><th>count</th></tr>\n";
        for(auto const& [k, n] : r.total.errors)
            o << "<tr><td>" << escape(k) << "</td><td>" << n << "</td></tr>\n";
        o << "</table>\n";
    }
    std::size_t const points = r.series.size();
    line p50{"p50", "#2b7bba", {}}, p99{"p99", "#d9822b", {}}, mx{"max", "#b00020", {}};
    line rps{"requests/s", "#176b2c", {}}, err{"failures/s", "#b00020", {}};
    for(auto const& s : r.series)
    {
        p50.y.push_back(s.p50_ms);
        p99.y.push_back(s.p99_ms);
        mx.y.push_back(s.max_ms);
        rps.y.push_back(static_cast<double>(s.count));
        err.y.push_back(static_cast<double>(s.failures));
    }
    o << svg_lines("latency", "Latency over time", "ms", {p50, p99, mx}, points);
    o << svg_lines("throughput", "Requests per second", "requests", {rps, err}, points);
    o << svg_histogram(r.total.response);
    for(auto const& s : sections)
        o << "<h2>" << escape(s.title) << "</h2>\n<pre class=\"section\">" << escape(json::serialize(s.content))
          << "</pre>\n";
    o << "</body></html>\n";
    return o.str();
}

} // namespace spindle::load
