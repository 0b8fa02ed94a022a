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
// The target is a node started in this process (the default: a fresh data directory, SQLite,
// cheap password hashing so that seeding is fast), a node started as a child process
// (Config.Spawn, so that its memory and file descriptors are its own), or any running node
// (Config.URL). connect and fanout can also point at any STOMP-over-WebSocket broker
// (Config.Target), to compare Plop with it in the same run.
//
// # Seeding
//
// Users are signed up, verified with the code the node e-mails to its outbox folder, and
// made friends (a request, then its acceptance) and room members, concurrently. A node the
// generator starts runs with cheap password hashing, with client addresses taken from
// X-Forwarded-For (each seeded user signs up from an address of its own, so the per-address
// sign-up limit does not stop the seeding) and with day-long access tokens; in this process
// it is seeded through its services by default (Config.Seed "app": the same rules, without
// HTTP and JSON), otherwise through the REST API. The single SQLite writer bounds the
// seeding: about a thousand friendships a second on two busy cores, so the 250,000 of the
// friends scenario take minutes; Config.Reuse keeps them for the next runs.
//
// A node at a URL is seeded through the REST API, and the generator reads the codes from
// its outbox: start it with the same settings and a data directory the generator can read,
//
//	PLOP_DATA_DIR=/tmp/plop-bench PLOP_TRUST_PROXY=true PLOP_ARGON2_MEMORY_KIB=64 \
//	PLOP_ARGON2_TIME=1 PLOP_ACCESS_TOKEN_TTL=24h plop serve
//	plop bench chat --url http://127.0.0.1:8080 --data-dir /tmp/plop-bench
//
// # Bounds
//
// Every run is bounded in time and in count, and stops by itself. Latencies go to
// log-linear histograms (see Histogram) recorded without locks; a line of progress is
// written every second; the Result prints as a table, encodes as JSON and renders as a
// self-contained HTML report with SVG charts.
package bench
