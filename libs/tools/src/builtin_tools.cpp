//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#include <spindle/tools/builtin_tools.hpp>

#include <spindle/error.hpp>

#include <boost/json/parse.hpp>

#include <charconv>
#include <cmath>
#include <numbers>
#include <string>

namespace spindle::tools {

namespace json = boost::json;

namespace {

//------------------------------------------------------------------------------
// the expression evaluator: recursive descent, depth-limited (tools run on
// fibers with small stacks). Errors are returned, not thrown: a bad
// expression is ordinary input here, and unwinding fiber stacks is costly.

class parser
{
    std::string_view s_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    bool failed_ = false;
    std::string why_;

    static constexpr int max_depth = 64;

    /// Records the first error. @return 0, for `return fail(...)`.
    double fail(std::string msg)
    {
        if(!failed_)
        {
            failed_ = true;
            why_ = std::move(msg);
        }
        return 0;
    }

    double fail_here(std::string const& what)
    {
        if(pos_ >= s_.size())
            return fail(what + " at the end of the expression");
        return fail(what + " '" + std::string(1, s_[pos_]) + "' at offset " + std::to_string(pos_));
    }

    void skip_space() noexcept
    {
        while(pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }

    bool eat(char c) noexcept
    {
        skip_space();
        if(pos_ < s_.size() && s_[pos_] == c)
        {
            ++pos_;
            return true;
        }
        return false;
    }

    struct depth_guard
    {
        parser& p;
        bool ok;
        explicit depth_guard(parser& q) : p(q), ok(++q.depth_ <= max_depth)
        {
            if(!ok)
                p.fail("the expression nests deeper than 64 levels");
        }
        ~depth_guard() { --p.depth_; }
    };

    double expr()
    {
        depth_guard g(*this);
        if(!g.ok)
            return 0;
        double v = term();
        while(!failed_)
        {
            if(eat('+'))
                v += term();
            else if(eat('-'))
                v -= term();
            else
                break;
        }
        return v;
    }

    double term()
    {
        double v = unary();
        while(!failed_)
        {
            skip_space();
            std::size_t const at = pos_;
            if(eat('*'))
                v *= unary();
            else if(eat('/') || eat('%'))
            {
                bool const mod = s_[at] == '%';
                double const d = unary();
                if(failed_)
                    break;
                if(d == 0)
                    return fail("division by zero at offset " + std::to_string(at));
                v = mod ? std::fmod(v, d) : v / d;
            }
            else
                break;
        }
        return v;
    }

    double unary()
    {
        depth_guard g(*this);
        if(!g.ok)
            return 0;
        if(eat('-'))
            return -unary();
        if(eat('+'))
            return unary();
        return power();
    }

    double power()
    {
        double const base = primary();
        if(!failed_ && eat('^'))
            return std::pow(base, unary());
        return base;
    }

    double number()
    {
        std::size_t const start = pos_;
        while(pos_ < s_.size() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.'))
            ++pos_;
        if(pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E'))
        {
            std::size_t p = pos_ + 1;
            if(p < s_.size() && (s_[p] == '+' || s_[p] == '-'))
                ++p;
            if(p < s_.size() && s_[p] >= '0' && s_[p] <= '9')
            {
                pos_ = p;
                while(pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
                    ++pos_;
            }
        }
        double v = 0;
        auto const* first = s_.data() + start;
        auto const* last = s_.data() + pos_;
        auto r = std::from_chars(first, last, v);
        if(r.ec != std::errc() || r.ptr != last)
            return fail("malformed number '" + std::string(first, last) + "' at offset " + std::to_string(start));
        return v;
    }

    double call(std::string const& name, std::size_t at)
    {
        double a[2] = {0, 0};
        int n = 0;
        if(!eat(')'))
        {
            for(;;)
            {
                if(n == 2)
                    return fail("too many arguments to " + name + " at offset " + std::to_string(at));
                a[n++] = expr();
                if(failed_)
                    return 0;
                if(eat(')'))
                    break;
                if(!eat(','))
                    return fail_here("expected ',' or ')' but found");
            }
        }
        struct fn1
        {
            char const* name;
            double (*f)(double);
        };
        static constexpr fn1 one[] = {
            {"sqrt", [](double x) { return std::sqrt(x); }},   {"abs", [](double x) { return std::fabs(x); }},
            {"floor", [](double x) { return std::floor(x); }}, {"ceil", [](double x) { return std::ceil(x); }},
            {"round", [](double x) { return std::round(x); }}, {"exp", [](double x) { return std::exp(x); }},
            {"ln", [](double x) { return std::log(x); }},      {"log", [](double x) { return std::log(x); }},
            {"log10", [](double x) { return std::log10(x); }}, {"sin", [](double x) { return std::sin(x); }},
            {"cos", [](double x) { return std::cos(x); }},     {"tan", [](double x) { return std::tan(x); }},
            {"asin", [](double x) { return std::asin(x); }},   {"acos", [](double x) { return std::acos(x); }},
            {"atan", [](double x) { return std::atan(x); }},
        };
        for(auto const& f : one)
            if(name == f.name)
            {
                if(n != 1)
                    return fail(name + " takes 1 argument, got " + std::to_string(n) + " (offset " +
                                std::to_string(at) + ")");
                return f.f(a[0]);
            }
        struct fn2
        {
            char const* name;
            double (*f)(double, double);
        };
        static constexpr fn2 two[] = {
            {"min", [](double x, double y) { return std::fmin(x, y); }},
            {"max", [](double x, double y) { return std::fmax(x, y); }},
            {"pow", [](double x, double y) { return std::pow(x, y); }},
            {"atan2", [](double x, double y) { return std::atan2(x, y); }},
        };
        for(auto const& f : two)
            if(name == f.name)
            {
                if(n != 2)
                    return fail(name + " takes 2 arguments, got " + std::to_string(n) + " (offset " +
                                std::to_string(at) + ")");
                return f.f(a[0], a[1]);
            }
        return fail("unknown function '" + name + "' at offset " + std::to_string(at));
    }

    double primary()
    {
        skip_space();
        if(pos_ >= s_.size())
            return fail("unexpected end of the expression");
        char const c = s_[pos_];
        if((c >= '0' && c <= '9') || c == '.')
            return number();
        if(c == '(')
        {
            ++pos_;
            double const v = expr();
            if(failed_)
                return 0;
            if(!eat(')'))
                return fail_here("expected ')' but found");
            return v;
        }
        if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        {
            std::size_t const at = pos_;
            while(pos_ < s_.size() && ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || (s_[pos_] >= 'A' && s_[pos_] <= 'Z') ||
                                       (s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '_'))
                ++pos_;
            std::string const name(s_.substr(at, pos_ - at));
            if(eat('('))
                return call(name, at);
            if(name == "pi")
                return std::numbers::pi;
            if(name == "e")
                return std::numbers::e;
            return fail("unknown name '" + name + "' at offset " + std::to_string(at));
        }
        return fail_here("unexpected");
    }

public:
    explicit parser(std::string_view s) noexcept : s_(s) {}

    bool run(double& out)
    {
        double const v = expr();
        if(!failed_)
        {
            skip_space();
            if(pos_ != s_.size())
                fail_here("unexpected");
            else if(!std::isfinite(v))
                fail("the result is not a finite number");
        }
        if(failed_)
            return false;
        out = v;
        return true;
    }

    std::string const& why() const noexcept { return why_; }
};

class echo_tool final : public tool
{
public:
    tool_schema schema() const override
    {
        tool_schema s;
        s.name = "echo";
        s.description = "Returns its parameters unchanged.";
        s.parameters = json::parse(R"({
            "type": "object",
            "properties": { "message": { "type": "string", "maxLength": 4096,
                                         "description": "The text to echo" } }
        })").as_object();
        s.required = {"message"};
        return s;
    }

    tool_result execute(json::value params, tool_context const&) override { return params; }
};

class calculator_tool final : public tool
{
public:
    tool_schema schema() const override
    {
        tool_schema s;
        s.name = "calculator";
        s.description = "Evaluates an arithmetic expression: numbers, + - * / % ^, parentheses, pi, e, "
                        "sqrt abs floor ceil round exp ln log10 sin cos tan asin acos atan, min max pow atan2.";
        s.parameters = json::parse(R"j({
            "type": "object",
            "properties": { "expression": { "type": "string", "minLength": 1, "maxLength": 1000,
                                            "description": "For example (2 + 3) * sqrt(16)" } },
            "additionalProperties": false
        })j").as_object();
        s.required = {"expression"};
        s.returns = json::parse(R"({
            "type": "object",
            "properties": { "result": { "type": "number" } },
            "required": ["result"]
        })");
        return s;
    }

    tool_result execute(json::value params, tool_context const&) override
    {
        auto const& e = params.as_object().at("expression").as_string();
        boost::system::error_code ec;
        std::string why;
        double const v = evaluate_expression(std::string_view(e.data(), e.size()), ec, &why);
        if(ec)
            return tool_result::failure(ec, "calculator: " + why);
        return json::object{{"result", v}};
    }
};

} // namespace

std::shared_ptr<tool> make_echo_tool()
{
    return std::make_shared<echo_tool>();
}

std::shared_ptr<tool> make_calculator_tool()
{
    return std::make_shared<calculator_tool>();
}

double evaluate_expression(std::string_view expr, boost::system::error_code& ec, std::string* why)
{
    parser p(expr);
    double v = 0;
    if(!p.run(v))
    {
        ec = tool_error::invalid_params;
        if(why)
            *why = p.why();
        return 0;
    }
    ec = {};
    return v;
}

} // namespace spindle::tools
