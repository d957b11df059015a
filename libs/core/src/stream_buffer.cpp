//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// A stream's buffers without their item type: their sizes, and the
// failure of a stream whose sink stayed full.

#include <spindle/detail/stream_core.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>

namespace spindle::detail {

buffer_base::buffer_base(buffer_options const& o, stage_rt& consumer, stream_state& st) noexcept
    : opts_(o), consumer_(&consumer), st_(&st)
{
    capacity_ = static_cast<std::int64_t>(std::max<std::size_t>(1, o.capacity));
    threshold_ = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(std::ceil(o.threshold * static_cast<double>(capacity_))), 1, capacity_);
    chunk_ = std::clamp<std::size_t>(o.capacity / 8, 1, 128);
}

void fail_sink_full(stream_state& st, buffer_base const& b) noexcept
{
    try
    {
        auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(b.opts_.wait).count();
        // a buffer behind batch() holds batches, while the stream counts
        // source items: the message says which
        auto const w = b.max_weight_.load(std::memory_order_relaxed);
        std::string what = "sink full: its buffer of " + std::to_string(b.capacity_);
        if(w > 1)
            what += " batches (of up to " + std::to_string(w) + " source items each, so up to " +
                    std::to_string(static_cast<std::uint64_t>(b.capacity_) * w) +
                    " source items; the stream's counts are in source items)";
        else
            what += " items";
        what += " stayed full for " + std::to_string(ms) + " ms";
        st.fail(make_error_code(stream_error::sink_full), b.consumer_->name, std::move(what), nullptr);
    }
    catch(...)
    {
        st.fail(make_error_code(stream_error::sink_full), std::string(), std::string(), nullptr);
    }
}

} // namespace spindle::detail
