//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A log shipper: parse lines -> drop debug noise -> batch -> write.
//
// The "database" is slow (a few milliseconds per batch), so the buffer in
// front of it fills up, and its backpressure strategy decides what happens:
//   block   the pipeline slows down to the database's pace, nothing is lost
//   drop    new batches are dropped while the buffer is full
//   buffer  the oldest batches are dropped to make room for new ones
//   wait    the writer waits a little for room, then the stream fails
//           ("sink full"), naming the stage that could not keep up
// The run prints, per strategy, what was written, dropped and skipped, and
// at the end the stream series of the metrics registry (what `/metrics`
// exports). It finishes by itself in well under a second.

#include <spindle/metrics.hpp>
#include <spindle/stream.hpp>
#include <spindle/system.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct record
{
    std::string level;
    int user = 0;
    int latency_ms = 0;
};

// A named processor: its name appears in errors and in the metrics' labels.
// It returns no record for lines it cannot read; a bad number throws.
struct parse_line
{
    std::string name() const { return "parse"; }

    std::optional<record> process(std::string const& line)
    {
        // "<time> <LEVEL> user=<n> latency_ms=<n>"
        auto const a = line.find(' ');
        auto const b = line.find(' ', a + 1);
        auto const u = line.find("user=");
        auto const l = line.find("latency_ms=");
        if(a == std::string::npos || b == std::string::npos || u == std::string::npos || l == std::string::npos)
            return std::nullopt; // not a log line: filtered out
        record r;
        r.level = line.substr(a + 1, b - a - 1);
        r.user = std::stoi(line.substr(u + 5));        // throws on garbage:
        r.latency_ms = std::stoi(line.substr(l + 11)); // the stage skips it (see below)
        return r;
    }
};

std::vector<std::string> make_log(int n)
{
    std::vector<std::string> lines;
    for(int i = 0; i < n; ++i)
    {
        char const* level = i % 4 == 0 ? "DEBUG" : i % 25 == 0 ? "ERROR" : "INFO";
        std::string line = "2026-01-01T00:00:" + std::to_string(i % 60) + " " + level +
                           " user=" + std::to_string(i % 97) + " latency_ms=" + std::to_string(i % 250);
        if(i % 101 == 0)
            line = "-- log rotated --";                      // no fields: filtered
        if(i % 333 == 0)
            line = "2026-01-01T00:00:00 INFO user=x latency_ms=1"; // a bad number: an error, skipped
        lines.push_back(std::move(line));
    }
    return lines;
}

int main()
{
    spindle::system sys;
    auto const log = make_log(2000);

    for(auto strategy : {spindle::backpressure::block, spindle::backpressure::drop, spindle::backpressure::buffer,
                         spindle::backpressure::wait})
    {
        // the database: a few milliseconds per batch, parking only its fiber
        auto& timers = sys.timers();
        int written = 0;
        auto write = [&](std::vector<record> batch) {
            timers.sleep_for(3ms);
            written += static_cast<int>(batch.size());
        };

        spindle::stage_options parse_opts;
        parse_opts.on_error = spindle::error_action::skip; // a bad line must not stop the shipper

        spindle::buffer_options db_buffer;
        db_buffer.capacity = 4; // batches waiting for the database
        db_buffer.strategy = strategy;
        db_buffer.wait = 1ms;
        spindle::stage_options db_opts;
        db_opts.name = "database";
        db_opts.buffer = db_buffer;

        spindle::stream_options opts;
        opts.name = std::string("ship-") + std::string(spindle::to_string(strategy));

        auto run = spindle::from_range(log)
                       .via(parse_line{}, parse_opts)
                       .filter([](record const& r) { return r.level != "DEBUG"; })
                       .batch(25, 20ms)
                       .for_each(write, db_opts)
                       .run(sys, opts);

        auto const& outcome = run.result(); // waits; a fiber would only park
        auto const s = run.stats();
        std::printf("%-6s %-9s lines=%llu written=%d filtered=%llu dropped=%llu skipped=%llu backpressure=%llu\n",
                    std::string(spindle::to_string(strategy)).c_str(), outcome ? "completed" : "failed",
                    static_cast<unsigned long long>(s.in), written, static_cast<unsigned long long>(s.filtered),
                    static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.errors),
                    static_cast<unsigned long long>(s.backpressure_events));
        if(!outcome)
            std::printf("       %s\n", run.failure_message().c_str());
    }

    // what the /metrics endpoint exports, here for the run that dropped
    for(auto const& family : sys.metrics().snapshot())
    {
        if(family.name.rfind("spindle_stream", 0) != 0)
            continue;
        for(auto const& sample : family.samples)
        {
            std::string labels;
            bool ours = false;
            for(auto const& [k, v] : sample.labels)
            {
                labels += (labels.empty() ? "" : ",") + k + "=\"" + v + "\"";
                ours = ours || (k == "stream" && v == "ship-drop");
            }
            if(ours)
                std::printf("%s{%s} %.0f\n", family.name.c_str(), labels.c_str(), sample.value);
        }
    }
    std::printf("streams active: %zu\n", spindle::active_streams(sys));
}
