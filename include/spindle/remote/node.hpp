//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef SPINDLE_REMOTE_NODE_HPP
#define SPINDLE_REMOTE_NODE_HPP

#include <spindle/detail/config.hpp>
#include <spindle/actor_ref.hpp>
#include <spindle/id.hpp>
#include <spindle/remote/detail/tables.hpp>
#include <spindle/remote/error.hpp>
#include <spindle/remote/message_traits.hpp>
#include <spindle/system.hpp>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace spindle::remote {

namespace detail {
class node_impl;
} // namespace detail

/// TLS settings passed through to cnats.
struct tls_options
{
    /// Use TLS (also implied by a `tls://` server URL).
    bool enabled = false;
    /// CA certificates to trust (PEM file); empty: the system's.
    std::string ca_file;
    /// Client certificate chain and key (PEM files), for mutual TLS.
    std::string cert_file;
    /// The private key of `cert_file` (PEM file).
    std::string key_file;
    /// Accept any server certificate (tests only).
    bool skip_verification = false;
};

/** How a node joins NATS. Everything but `name` has a working default
    for a local `nats-server`.
*/
struct node_options
{
    /// A human name for this node (shown by `peers()` and the live page).
    std::string name = "node";
    /// NATS server URLs (`nats://host:port`); the client picks among them
    /// and fails over.
    std::vector<std::string> servers{"nats://127.0.0.1:4222"};
    /// Credentials: user/password, a token, or a `.creds` file (NATS 2 JWT).
    std::string user;
    std::string password;         ///< with `user`
    std::string token;            ///< instead of user and password
    std::string credentials_file; ///< a NATS 2 `.creds` file (JWT and seed)
    /// TLS to the servers.
    tls_options tls;
    /// Reconnection: attempts per server (-1: forever), the wait between
    /// them, and how many bytes of outgoing messages are buffered while
    /// reconnecting (beyond it, sends are refused and counted).
    int max_reconnects = 60;
    std::chrono::milliseconds reconnect_wait{250}; ///< see `max_reconnects`
    int reconnect_buffer_bytes = 8 * 1024 * 1024;  ///< see `max_reconnects`
    /// The first connection attempt's limit.
    std::chrono::milliseconds connect_timeout{2000};
    /// Heartbeats: a peer that misses `heartbeat_misses` in a row is lost,
    /// and every monitor of its actors gets a `down`.
    std::chrono::milliseconds heartbeat_interval{1000};
    unsigned heartbeat_misses = 3; ///< see `heartbeat_interval`
    /// How long this node lets a local actor take to answer an ask that
    /// came over NATS (the asking side has its own timeout).
    std::chrono::milliseconds serve_ask_timeout{60000};
    /// Per-subscription pending limits in cnats; messages beyond them are
    /// dropped by cnats and counted as slow-consumer drops.
    int pending_messages_limit = 1 << 20;
    int pending_bytes_limit = 256 * 1024 * 1024; ///< see `pending_messages_limit`
    /// The first token of every subject this node uses.
    std::string subject_prefix = "spindle";
};

/// A node seen through its heartbeats.
struct peer_info
{
    node_id id;       ///< its id
    std::string name; ///< its name (`node_options::name`)
    /// The names it publishes.
    std::vector<std::string> actors;
    /// Time since its last heartbeat.
    std::chrono::milliseconds since_last_heartbeat{0};
};

/// Running totals of one node.
struct node_stats
{
    /// "connected", "reconnecting", "disconnected", "closed", ...
    std::string connection;
    bool connected = false;       ///< true while connected to a server
    std::uint64_t reconnects = 0; ///< reconnections so far
    /// From cnats: messages and bytes this connection sent and received.
    std::uint64_t messages_out = 0;
    std::uint64_t messages_in = 0; ///< see `messages_out`
    std::uint64_t bytes_out = 0;   ///< see `messages_out`
    std::uint64_t bytes_in = 0;    ///< see `messages_out`
    /// Messages cnats dropped because a subscription fell behind.
    std::uint64_t slow_consumer_drops = 0;
    /// Sends refused (not connected, payload too large, reconnect buffer full).
    std::uint64_t sends_refused = 0;
    /// Inbound messages that could not be read (unknown type, version, decode).
    std::uint64_t decode_errors = 0;
    /// Inbound messages for actors not here, or refused by a full mailbox.
    std::uint64_t undeliverable = 0;
    /// Asks sent and not yet answered.
    std::uint64_t asks_in_flight = 0;
    /// Asks ended because the connection was lost.
    std::uint64_t asks_lost = 0;
    /// Live peers.
    std::uint64_t peers = 0;
    /// Actors of other nodes that local actors monitor (resolved and live).
    std::uint64_t monitors = 0;
    /// Local actors that other nodes monitor.
    std::uint64_t monitored = 0;
};

/** A member of a Spindle cluster over NATS: makes local actors reachable
    from other processes and gives ordinary `actor_ref`s to theirs.

    @code
    spindle::system sys;
    spindle::remote::node n(sys, {.name = "a", .servers = {"nats://127.0.0.1:4222"}});
    n.publish("counter", sys.spawn<counter>());
    auto c = n.lookup<counter>("counter");   // on any node of the cluster
    c.tell(add{1});
    int total = c.ask(get_total{}, 1s).get();
    @endcode

    Semantics: at-most-once delivery; order kept per sender and receiver
    address; an ask to a name nobody publishes fails at once with
    `spindle::error::unknown_actor`.

    @par Thread safety
    All member functions are thread-safe.
*/
class SPINDLE_DECL node
{
    std::shared_ptr<detail::node_impl> impl_;

    void publish_(std::string const& name, basic_actor_ref const& ref, detail::in_table const& in,
        boost::system::error_code& ec);
    boost::intrusive_ptr<spindle::detail::actor_cell> lookup_(
        std::string const& name, std::type_info const& type, detail::out_table const& out) const;

public:
    /** Connects to NATS and joins the cluster.

        @throws spindle::system_error naming the cause (bad options, no
        server reachable within `connect_timeout`, refused credentials).
    */
    node(spindle::system& sys, node_options opts);

    /// As above; `ec` is set instead of throwing (the node is then closed).
    node(spindle::system& sys, node_options opts, boost::system::error_code& ec);

    /// `close()`.
    ~node();

    node(node const&) = delete;
    node& operator=(node const&) = delete;

    /// This node's id (new for every node object) and name.
    node_id id() const noexcept;
    /// This node's name (`node_options::name`).
    std::string const& name() const noexcept;

    /** Makes `ref` reachable as `name` from every node. Publishing the same
        name on several nodes makes a pool: each message goes to one of
        them (a NATS queue group).

        @param name Letters, digits, `-`, `_` and `.` only.
        Every message type of `A` (and every reply type) needs
        `message_traits`, or the call does not compile.
        @param ref The actor.
        @param ec `error::invalid_argument` (a bad name, an empty reference),
        `remote::error::not_connected` (the node is closed), `error::name_taken`
        (already published by this node); cleared on success.
    */
    template<class A>
    void publish(std::string const& name, actor_ref<A> const& ref, boost::system::error_code& ec)
    {
        publish_(name, ref, detail::in_table_for<A>(), ec);
    }

    /// @throws spindle::system_error as the `error_code` form reports.
    template<class A>
    void publish(std::string const& name, actor_ref<A> const& ref)
    {
        boost::system::error_code ec;
        publish(name, ref, ec);
        if(ec)
            spindle::detail::throw_error(ec, "spindle::remote::node::publish");
    }

    /// Stops serving `name` on this node (other pool members keep it).
    void unpublish(std::string const& name) noexcept;

    /** A reference to the actor published as `name` anywhere in the
        cluster (no network round trip). Messages sent while nobody
        publishes it are lost (tells) or fail with `unknown_actor` (asks).
    */
    template<class A>
    actor_ref<A> lookup(std::string const& name) const
    {
        return actor_ref<A>(lookup_(name, typeid(A), detail::out_table_for<A>()));
    }

    /// The live nodes of the cluster (not this one).
    std::vector<peer_info> peers() const;

    /** Waits until a live node (this one included) announces `name` in its
        heartbeat, or `timeout` passes. A node announces a name once its
        subscription is in place, so messages sent afterwards find it.
        Parks only the calling fiber (a plain thread sleeps).

        @return true if the name is published.
    */
    bool await_published(std::string const& name, std::chrono::nanoseconds timeout) const;

    /// @return The connection's state and running totals.
    node_stats stats() const;

    /** A JSON view for `/api/system` (`system_server::add_section`): this
        node, its connection, counters and peers.
    */
    boost::json::value describe() const;

    /** Leaves the cluster: peers are told at once (their monitors of this
        node's actors get `down` with `shutdown`), outgoing messages are
        flushed (up to 1 s), in-flight asks fail with `not_connected`, and
        the connection closes; messages still on their way to this node are
        lost (at most once). Proxies made by this node refuse sends from
        then on. Idempotent.
    */
    void close() noexcept;
};

} // namespace spindle::remote

#endif
