//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//
// The messages of example/remote_pingpong.cpp: its wire contract. Any
// program that declares the same wire names talks to it (test/remote_process.cpp does).

#ifndef SPINDLE_EXAMPLE_REMOTE_PINGPONG_HPP
#define SPINDLE_EXAMPLE_REMOTE_PINGPONG_HPP

#include <spindle/actor_ref.hpp>
#include <spindle/remote/node.hpp>

#include <boost/describe.hpp>

struct pinger;

struct ball
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(ball, (), (n))

struct ping
{
    int n = 0;
    spindle::actor_ref<pinger> reply_to;
};
BOOST_DESCRIBE_STRUCT(ping, (), (n, reply_to))

struct count
{
};
BOOST_DESCRIBE_STRUCT(count, (), ())

SPINDLE_REMOTE_MESSAGE(ball, "example.ball", 1);
SPINDLE_REMOTE_MESSAGE(ping, "example.ping", 1);
SPINDLE_REMOTE_MESSAGE(count, "example.count", 1);

#endif
