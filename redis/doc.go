// Package redis holds the implementations of the plop interfaces for a cluster of several
// `plop serve` nodes sharing one Redis (PLOP_REDIS_URL): the event Broker, the
// PresenceStore, the rate Limiter, the SessionStore and the CodeStore. They pass the same
// behaviour suites (internal/contract) as the in-process versions in package inmem, and
// they keep their promises across nodes.
//
// One Client (Open) is one connection pool; every key and channel name starts with its
// prefix ("plop:" unless the URL says ?prefix=...), so one Redis can serve several clusters
// and the tests. The timeouts are short (1 s to dial, read and write, no dial retries): when
// Redis is down or hung a request fails within about a second with an error wrapping
// plop.ErrUnavailable, which transports answer with 503.
//
// # Broker
//
// Events travel on one pub/sub channel, <prefix>events, in a compact binary encoding
// (codec.go). Each node holds one subscription whatever the number of its subscribers and
// fans each event out in process. Pub/sub keeps nothing: an event published while a node is
// disconnected does not reach it, and clients fill such gaps from history, as the design
// intends. The subscription reconnects by itself after a Redis restart, and replaces a
// connection that stops answering pings.
//
// # Presence
//
// Per user, two keys in one hash slot:
//
//	<prefix>presence:{user}:conns  sorted set: node-instance/connection → last heartbeat (ms)
//	<prefix>presence:{user}:seen   last_seen (ms)
//
// A connection is live while its score is younger than the TTL (30 s by default). Each
// node remembers its own connections and stamps them every TTL/3 from a heartbeat goroutine
// (NewPresence starts it, Close stops it). When a node dies, even by kill -9, its
// connections stop being stamped and count no more once the TTL has passed; its users are
// then offline, last seen at that node's last heartbeat. Connect, Disconnect and the
// heartbeat each run one Lua script per user, which first purges the dead connections, so
// the reports cameOnline and wentOffline are atomic and happen once under any concurrency.
// Liveness uses the Redis server's clock (TIME), so the nodes' clocks need not agree.
//
// Stamping each connection (rather than refreshing one key per node) costs one script per
// connected user per heartbeat, about 2,000 per second for a node holding 20,000 users at
// the default TTL, which Redis absorbs easily. In return every script touches only its
// user's keys, which keeps them correct under Redis Cluster; a node restarted under the
// same name cannot revive its former connections (each Presence adds a random instance
// id); and a heartbeat can write back the connections of a Redis that lost its data.
//
// # Limiter
//
// GCRA in a Lua script, on the server's clock in microseconds: one key per limited thing,
// holding its theoretical arrival time and expiring when that passes.
//
// # Sessions and codes
//
//	<prefix>session:<id>    hash of the session, expiring with its refresh token
//	<prefix>refresh:<hash>  hash of one refresh token: session, expiry, spent time
//	<prefix>code:<email>    hash of the pending verification code, expiring with it
//
// A rotation (check, spend, mint the successor, extend the session) is one Lua script. A
// spent token is kept as long as the session it extended, so that presenting it again is
// recognized as reuse and revokes the family. Expiry is decided by the times stored in the
// hashes, against the caller's clock, exactly as in the SQL store; the TTLs (an hour longer)
// only collect what can no longer be used. Unlike the SQL store, nothing is kept for an
// audit trail, and the scripts touching a token and its session name keys in different
// hash slots: they need a single Redis (or Sentinel), not Redis Cluster.
package redis
