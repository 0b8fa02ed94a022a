package realtime

import (
	"net"
	"sync"
)

// gwsConn is a connection as gws sees it. A session writes its frames to the raw connection
// itself; gws writes only the handshake answer and, when the peer closes first, its close
// reply. A WebSocket close must be sent once (a browser fails a connection that receives a
// second one), so the session's close and gws's reply agree here on which one goes out.
type gwsConn struct {
	net.Conn
	mu        sync.Mutex
	upgraded  bool // the handshake answer is written: any later gws write is a close reply
	closeSent bool
}

// Write is called by gws only.
func (c *gwsConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upgraded {
		if c.closeSent {
			return len(b), nil // the session's close went first: this reply is not sent
		}
		c.closeSent = true
	}
	return c.Conn.Write(b)
}

// markUpgraded records that the handshake is over.
func (c *gwsConn) markUpgraded() {
	c.mu.Lock()
	c.upgraded = true
	c.mu.Unlock()
}

// sendClose runs write, which sends the session's close frame, unless a close was sent
// already; it reports whether it ran.
func (c *gwsConn) sendClose(write func() error) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return false, nil
	}
	c.closeSent = true
	return true, write()
}
