//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// Sections are read on every /api/system request and written rarely: the
// list is an immutable snapshot replaced whole by writers. Each entry counts
// the calls in progress so that remove() can wait for them: after it
// returns, nothing calls the function any more (it typically refers to an
// object the application is about to destroy).

#include <spindle/http/sections.hpp>

#include <spindle/error.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>

namespace spindle::http {

namespace json = boost::json;

namespace {

struct entry
{
    std::string name;
    section_function fn;
    // seq_cst on both: a call that counted itself in after remove() saw no
    // call in progress must see `removed` (and skip the function)
    std::atomic<unsigned> active{0};
    std::atomic<bool> removed{false};
};

using list_type = std::vector<std::shared_ptr<entry>>;

// The registry whose section this thread is calling, if any: remove() from
// inside a section must not wait for itself.
thread_local void const* calling = nullptr;

bool alnum(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool name_char(char c) noexcept
{
    return alnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

} // namespace

bool is_valid_section_name(std::string_view name) noexcept
{
    if(name.empty() || name.size() > 64 || !alnum(name.front()))
        return false;
    return std::all_of(name.begin(), name.end(), name_char);
}

struct section_registry::impl
{
    std::atomic<std::shared_ptr<list_type const>> list{std::make_shared<list_type const>()};
    std::mutex write; // writers only; never held while a section runs

    std::shared_ptr<list_type const> load() const noexcept { return list.load(std::memory_order_acquire); }
};

section_registry::section_registry()
    : impl_(std::make_shared<impl>())
{
}

section_registry::~section_registry() = default;

void section_registry::add(std::string name, section_function fn, boost::system::error_code& ec)
{
    if(!is_valid_section_name(name) || !fn)
    {
        ec = make_error_code(error::invalid_argument);
        return;
    }
    auto e = std::make_shared<entry>();
    e->name = std::move(name);
    e->fn = std::move(fn);
    std::lock_guard lk(impl_->write);
    auto cur = impl_->load();
    for(auto const& other : *cur)
    {
        if(other->name == e->name)
        {
            ec = make_error_code(error::name_taken);
            return;
        }
    }
    auto next = std::make_shared<list_type>(*cur);
    next->push_back(std::move(e));
    impl_->list.store(std::move(next), std::memory_order_release);
    ec = {};
}

void section_registry::add(std::string name, section_function fn)
{
    std::string what = "spindle::http::section_registry::add: section \"" + name + "\": ";
    boost::system::error_code ec;
    bool const bad_name = !is_valid_section_name(name);
    bool const no_fn = !fn;
    add(std::move(name), std::move(fn), ec);
    if(!ec)
        return;
    if(bad_name)
        what += "invalid name (1 to 64 of A-Z a-z 0-9 _ - . :, starting with a letter or digit)";
    else if(no_fn)
        what += "empty function";
    else
        what += "a section of this name is already registered";
    spindle::detail::throw_error(ec, what.c_str());
}

bool section_registry::remove(std::string_view name)
{
    std::shared_ptr<entry> gone;
    {
        std::lock_guard lk(impl_->write);
        auto cur = impl_->load();
        auto it = std::find_if(cur->begin(), cur->end(), [&](auto const& e) { return e->name == name; });
        if(it == cur->end())
            return false;
        gone = *it;
        auto next = std::make_shared<list_type>();
        next->reserve(cur->size() - 1);
        for(auto const& e : *cur)
            if(e != gone)
                next->push_back(e);
        impl_->list.store(std::move(next), std::memory_order_release);
    }
    gone->removed.store(true);
    if(calling == impl_.get())
        return true;
    for(unsigned n = gone->active.load(); n != 0; n = gone->active.load())
        gone->active.wait(n);
    return true;
}

bool section_registry::contains(std::string_view name) const
{
    auto cur = impl_->load();
    return std::any_of(cur->begin(), cur->end(), [&](auto const& e) { return e->name == name; });
}

std::vector<std::string> section_registry::names() const
{
    auto cur = impl_->load();
    std::vector<std::string> v;
    v.reserve(cur->size());
    for(auto const& e : *cur)
        v.push_back(e->name);
    return v;
}

std::size_t section_registry::size() const noexcept
{
    return impl_->load()->size();
}

json::object section_registry::render() const
{
    auto cur = impl_->load();
    json::object out;
    out.reserve(cur->size());
    for(auto const& e : *cur)
    {
        e->active.fetch_add(1);
        struct leave
        {
            entry& e;
            void const* outer;
            ~leave()
            {
                calling = outer;
                if(e.active.fetch_sub(1) == 1 && e.removed.load())
                    e.active.notify_all();
            }
        } guard{*e, calling};
        if(e->removed.load())
            continue;
        calling = impl_.get();
        json::value v;
        try
        {
            v = e->fn();
        }
        catch(std::exception const& x)
        {
            v = json::object{{"error", x.what()}};
        }
        catch(...)
        {
            v = json::object{{"error", "unknown exception"}};
        }
        out[e->name] = std::move(v);
    }
    return out;
}

} // namespace spindle::http
