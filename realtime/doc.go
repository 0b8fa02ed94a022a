// Package realtime is Plop's real-time transport: STOMP 1.2 (and 1.1, 1.0) over WebSocket
// at /ws.
package realtime
