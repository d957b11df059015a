//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/trace/sampler.hpp>

#include <boost/system/system_error.hpp>

#include <charconv>
#include <cstdio>

namespace spindle::trace {

namespace {

class constant_sampler final : public sampler
{
public:
    explicit constant_sampler(bool on) : on_(on) {}
    sampling_decision should_sample(span_context const*, trace_id const&, std::string_view, span_kind) const noexcept override
    {
        return on_ ? sampling_decision::record_and_sample : sampling_decision::drop;
    }
    std::string description() const override { return on_ ? "AlwaysOnSampler" : "AlwaysOffSampler"; }

private:
    bool on_;
};

class ratio_sampler final : public sampler
{
public:
    explicit ratio_sampler(double ratio) : ratio_(ratio)
    {
        // ratio * 2^63, computed in long double so 1.0 does not overflow
        bound_ = ratio >= 1.0 ? (std::uint64_t(1) << 63)
                              : static_cast<std::uint64_t>(static_cast<long double>(ratio) * 9223372036854775808.0L);
    }
    sampling_decision should_sample(span_context const*, trace_id const& t, std::string_view, span_kind) const noexcept override
    {
        std::uint64_t x = 0;
        for(int i = 8; i < 16; ++i)
            x = x << 8 | t.bytes[i];
        return (x >> 1) < bound_ ? sampling_decision::record_and_sample : sampling_decision::drop;
    }
    std::string description() const override
    {
        char buf[64];
        std::snprintf(buf, sizeof buf, "TraceIdRatioBased{%f}", ratio_);
        return buf;
    }

private:
    double ratio_;
    std::uint64_t bound_;
};

class parent_sampler final : public sampler
{
public:
    parent_sampler(std::shared_ptr<sampler const> root, std::shared_ptr<sampler const> rs,
        std::shared_ptr<sampler const> rns, std::shared_ptr<sampler const> ls, std::shared_ptr<sampler const> lns)
        : root_(std::move(root)), rs_(std::move(rs)), rns_(std::move(rns)), ls_(std::move(ls)), lns_(std::move(lns))
    {
    }
    sampling_decision should_sample(span_context const* parent, trace_id const& t, std::string_view name, span_kind kind) const noexcept override
    {
        sampler const* s;
        if(!parent || !parent->valid())
            s = root_.get();
        else if(parent->remote)
            s = parent->sampled() ? rs_.get() : rns_.get();
        else
            s = parent->sampled() ? ls_.get() : lns_.get();
        return s->should_sample(parent, t, name, kind);
    }
    /// Children of unsampled parents, local or remote, are always dropped.
    bool drops_unsampled() const noexcept
    {
        auto const* off = always_off().get();
        return rns_.get() == off && lns_.get() == off;
    }
    std::string description() const override
    {
        return "ParentBased{root:" + root_->description() + ",remoteParentSampled:" + rs_->description()
            + ",remoteParentNotSampled:" + rns_->description() + ",localParentSampled:" + ls_->description()
            + ",localParentNotSampled:" + lns_->description() + "}";
    }

private:
    std::shared_ptr<sampler const> root_, rs_, rns_, ls_, lns_;
};

} // namespace

std::shared_ptr<sampler const> always_on()
{
    static auto const s = std::make_shared<constant_sampler const>(true);
    return s;
}

std::shared_ptr<sampler const> always_off()
{
    static auto const s = std::make_shared<constant_sampler const>(false);
    return s;
}

namespace detail {
bool drops_unsampled_children(sampler const& s) noexcept
{
    if(&s == always_off().get())
        return true;
    auto const* p = dynamic_cast<parent_sampler const*>(&s);
    return p && p->drops_unsampled();
}
} // namespace detail

std::shared_ptr<sampler const> trace_id_ratio(double ratio)
{
    if(!(ratio >= 0.0 && ratio <= 1.0))
        throw boost::system::system_error(make_error_code(error::bad_option),
            "spindle::trace::trace_id_ratio: the ratio must be in [0, 1]");
    return std::make_shared<ratio_sampler const>(ratio);
}

std::shared_ptr<sampler const> parent_based(std::shared_ptr<sampler const> root, std::shared_ptr<sampler const> rs,
    std::shared_ptr<sampler const> rns, std::shared_ptr<sampler const> ls, std::shared_ptr<sampler const> lns)
{
    if(!root || !rs || !rns || !ls || !lns)
        throw boost::system::system_error(make_error_code(error::bad_option),
            "spindle::trace::parent_based: a null sampler");
    return std::make_shared<parent_sampler const>(
        std::move(root), std::move(rs), std::move(rns), std::move(ls), std::move(lns));
}

std::shared_ptr<sampler const> sampler_from_name(std::string_view name, std::string_view arg, boost::system::error_code& ec)
{
    ec = {};
    auto ratio = [&] {
        double r = 1.0;
        std::string const a(arg);
        char* end = nullptr;
        double const v = a.empty() ? 1.0 : std::strtod(a.c_str(), &end);
        if(!a.empty() && end && *end == '\0' && v >= 0.0 && v <= 1.0)
            r = v;
        return trace_id_ratio(r);
    };
    if(name.empty() || name == "parentbased_always_on")
        return parent_based(always_on());
    if(name == "always_on")
        return always_on();
    if(name == "always_off")
        return always_off();
    if(name == "traceidratio")
        return ratio();
    if(name == "parentbased_always_off")
        return parent_based(always_off());
    if(name == "parentbased_traceidratio")
        return parent_based(ratio());
    ec = error::bad_option;
    return nullptr;
}

} // namespace spindle::trace
