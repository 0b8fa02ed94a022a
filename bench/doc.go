// Package bench is Plop's load generator, behind `plop bench SCENARIO`.
//
// Four scenarios measure a node the way its users load it:
//
//   - friends: virtual users calling GET /api/v1/friends (each seeded user has F friends);
//   - connect: a ramp to N idle STOMP sessions, each with its user queue and one room
//     subscription, reporting the connect rate and the server's memory per session;
//   - fanout: one sender and one room of N subscribers at stepped rates, reporting each
//     step's deliveries per second and latency, and the highest step with p99 under 100 ms;
//   - chat: many users in direct and group rooms sending at a rate, with RECEIPTs, read
//     receipts, typing and reconnect churn, verifying that every acknowledged message is in
//     history exactly once and reached every member once.
//
// The target is a node started in-process (the default: a fresh data directory, SQLite,
// cheap password hashing so that seeding is fast), a node started as a child process
// (Config.Spawn, so that its memory and file descriptors are its own), or any running node
// (Config.URL). connect and fanout can also point at any STOMP-over-WebSocket broker
// (Config.Target), to compare Plop with it in the same run.
//
// Every run is bounded in time and in count, and stops by itself. Latencies go to
// log-linear histograms (see Histogram) recorded without locks; a line of progress is
// written every second; the Result prints as a table, encodes as JSON and renders as a
// self-contained HTML report with SVG charts.
package bench
