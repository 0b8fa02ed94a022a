// Package realtime is Plop's real-time transport: STOMP 1.2 (and 1.1, 1.0) over WebSocket
// at /ws. It authenticates CONNECT frames, authorizes every SUBSCRIBE and SEND through the
// services (package app), and runs the hub that delivers the events of the broker to the
// subscribers connected to this node.
//
// # Protocol
//
// Subprotocols v12.stomp, v11.stomp and v10.stomp are negotiated (the client's best);
// a client that offers none is served too. One WebSocket message, text or binary, may carry
// several frames and a frame may span several messages. The first frame must be CONNECT or
// STOMP, with the access token in "Authorization: Bearer <token>" or in passcode; CONNECTED
// carries version, heart-beat, server (plop/<version>), session (the connection id) and
// user-name (the user id).
//
// Destinations: SUBSCRIBE to /topic/rooms.{roomId} (members only) or /user/queue/events (the
// connected user's own queue); SEND to /app/rooms.{roomId}.messages ({body, client_msg_id,
// reply_to?}), .read ({seq}) and .typing ({typing}). The RECEIPT of a message SEND comes only
// once the message is committed and carries message-id, room-id and seq. A user removed from
// a room loses its topic subscriptions on every node (on the member.removed event).
//
// Every subscription is delivered as ack:auto: "client" and "client-individual" are accepted,
// and ACK and NACK are answered (with a RECEIPT when asked) but change nothing. Transactions
// (BEGIN, COMMIT, ABORT, or a transaction header) are refused with an ERROR: accepting and
// ignoring them would make a SEND inside one take effect before its COMMIT. UNSUBSCRIBE of an
// unknown id is not an error, since the server may have ended that subscription itself.
//
// Every failure is an ERROR frame whose message header is a plop error code
// (invalid_argument, unauthenticated, not_found, forbidden, payload_too_large, rate_limited
// with retry-after, unavailable, internal) and whose body a person can read; it carries the
// receipt-id of the failed frame when that asked for a receipt. The connection is then
// closed, as STOMP requires. WebSocket close codes: 1000 after DISCONNECT, 1001 when the
// server shuts down or the peer fell silent, 1008 after an ERROR, 1013 for a slow consumer.
//
// MESSAGE frames carry destination, subscription, message-id (a counter unique on this
// node), content-type application/json, content-length, room-id for room events and seq for
// message events; the body is the event as the services encoded it.
//
// # Connections and memory
//
// WebSockets are served by github.com/lxzan/gws rather than coder/websocket or gorilla: it
// reads into pooled buffers and calls back on the connection's one read goroutine, and it
// lets the server choose the reader. An idle session costs one goroutine parked in a read
// (4 KiB of stack: frames are handled on a short-lived goroutine, so the deep stacks of a
// token check or a database query never stay with the connection), no read buffer (gws reads
// through a 16-byte reader over one that takes a pooled 4 KiB buffer only while bytes are
// waiting; lazyread.go) and about 2.8 KiB of heap (the gws and net connections, the session,
// its subscriptions, its presence entry): 6.8 KiB per idle session in process
// (TestIdleSessionMemory), and 10–10.4 KiB of the node's resident memory per session with
// 15,000 sessions (plop bench connect), which adds the heap the Go runtime keeps between
// collections. The same in-process measurement of a bare coder/websocket connection with its
// reading goroutine, before any STOMP state, gave 14.9 KiB (10.8 KiB of heap: its read and
// write buffers, 4 KiB of stack); gorilla is reported at about 22 KiB.
//
// Writes do not go through gws: each session has a bounded outbound queue (Options.
// OutboundQueue frames and Options.OutboundBytes bytes), and a writer goroutine exists only
// while the queue is not empty: it drains the queue, writes many WebSocket messages per
// system call from a pooled buffer, and exits. A MESSAGE is queued as a pointer to its
// event's shared encoding plus its subscription, so a burst to a room of 1,000 holds one copy
// of the body. When a queue is full, delivery does not wait: the queue is replaced by an
// ERROR and a close (the slow consumer is cut off) and everyone else goes on receiving.
// Every write has a deadline (Options.WriteTimeout); a peer that takes nothing for that long
// is cut off as a slow consumer too.
//
// Time is kept by one sweeper goroutine for all connections instead of a timer each: every
// second (or more often when the intervals are shorter) it sends heart-beats to quiet
// sessions, closes those silent for twice the negotiated client interval, and those that did
// not CONNECT within Options.ConnectTimeout.
//
// A login watcher goroutine (logins.go) ends the connections of a login that has ended
// (logout, or a refresh token used twice) with ERROR unauthenticated: at once when the App
// tells of it (from this node, or from another node's login.ended event), and otherwise on
// a periodic pass that asks the App once per distinct login, at most every two minutes.
//
// # Hub
//
// The hub subscribes once to the broker. Events are handed to one worker per CPU through a
// bounded queue chosen by room (so a room's events keep their order; a full queue drops the
// event, counted in plop_hub_events_dropped_total, and clients fill the gap from history).
// A worker looks up the subscribers of /topic/rooms.{RoomID} and the /user/queue/events
// subscriptions of each of UserIDs in 64-way sharded maps whose values are copy-on-write
// slices, so a fan-out holds no lock while it queues, and skips the connection ExceptConn.
//
// # Lock order
//
// A goroutine holding a lock may take only locks further down this list:
//
//  1. session.mu (a session's subscriptions)
//  2. subShard.mu (a hub shard: room or user key -> subscriptions)
//
// and these are leaves, taken with no other lock held by the same code path, or as the last:
// session.outMu (a session's outbound queue), connShard.mu (the connection registry),
// presenceGrace.mu, Server.mu. The fan-out copies a shard's slice under subShard.mu and
// releases it before queueing to any session.
//
// # Presence
//
// After CONNECT the session calls App.Connected; when it ends, App.Disconnected runs after
// Options.PresenceGrace. A user who reconnects within the grace has called Connected for the
// new connection first, so the presence store's count of live connections never reaches
// zero and their friends see no offline/online flap.
package realtime
