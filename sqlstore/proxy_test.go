package sqlstore

import (
	"net"
	"sync"
	"testing"
)

// tcpProxy forwards a loopback port to a database server, so that a test can take the
// database away from a live store and give it back: cut drops every connection and refuses
// new ones (a server that went down), hang keeps connections open but forwards nothing (a
// host that vanished from the network), resume serves again on the same port.
type tcpProxy struct {
	tb     testing.TB
	target string
	addr   string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]bool
	hanging bool
	wg      sync.WaitGroup
}

// startProxy listens on a free loopback port and forwards to target until tb ends.
func startProxy(tb testing.TB, target string) *tcpProxy {
	tb.Helper()
	p := &tcpProxy{tb: tb, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy listen: %v", err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	tb.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln, p.hanging = ln, false
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

// forward pipes c to a new connection to the target in both directions until either end
// closes or the proxy drops them.
func (p *tcpProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.mu.Lock()
				hanging := p.hanging
				p.mu.Unlock()
				if !hanging {
					if _, err := dst.Write(buf[:n]); err != nil {
						break
					}
				}
			}
			if err != nil {
				break
			}
		}
		// Close both ends so the other direction ends too.
		dst.Close()
		src.Close()
	}
	wg.Add(2)
	go pipe(s, c)
	go pipe(c, s)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// cut closes the listener and every forwarded connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// hang stops forwarding bytes without closing anything.
func (p *tcpProxy) hang() {
	p.mu.Lock()
	p.hanging = true
	p.mu.Unlock()
}

// resume drops what is left and serves again on the same port.
func (p *tcpProxy) resume() {
	p.tb.Helper()
	p.cut()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.tb.Fatalf("proxy listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
