package realtime_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/plop-chat/plop/stomp"
)

// raw is a hand-made WebSocket client for the tests that need to misbehave: send broken
// frames, split or join frames across messages, stop reading, stop sending.
type raw struct {
	tb   testing.TB
	nc   net.Conn
	br   *bufio.Reader
	dec  *stomp.Decoder
	resp *http.Response
	// closeCode is the code of the close frame received, 0 until one is.
	closeCode int
	// lastErr is the read error that made frame return nil.
	lastErr error
}

// timedOut reports whether the last read ended by its deadline rather than by the end of
// the connection.
func (r *raw) timedOut() bool {
	var ne net.Error
	return errors.As(r.lastErr, &ne) && ne.Timeout()
}

type rawOptions struct {
	protocols string // Sec-WebSocket-Protocol, "" for none
	origin    string
	rcvbuf    int // SO_RCVBUF before connecting, 0 for the system's
}

// dialRaw opens a WebSocket to wsURL; it fails the test unless the server answers 101.
func dialRaw(tb testing.TB, wsURL string, o rawOptions) *raw {
	tb.Helper()
	r, err := tryDialRaw(tb, wsURL, o)
	if err != nil {
		tb.Fatal(err)
	}
	if r.resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("handshake answered %s", r.resp.Status)
	}
	return r
}

func tryDialRaw(tb testing.TB, wsURL string, o rawOptions) (*raw, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	if o.rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, o.rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	nc, err := d.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { nc.Close() })
	var key [16]byte
	rand.Read(key[:])
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", u.Path, u.Host, base64.StdEncoding.EncodeToString(key[:]))
	if o.protocols != "" {
		req += "Sec-WebSocket-Protocol: " + o.protocols + "\r\n"
	}
	if o.origin != "" {
		req += "Origin: " + o.origin + "\r\n"
	}
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		return nil, err
	}
	r := &raw{tb: tb, nc: nc, br: bufio.NewReader(nc), dec: stomp.NewDecoder(stomp.Limits{MaxFrameSize: 1 << 20})}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	r.resp, err = http.ReadResponse(r.br, nil)
	if err != nil {
		return nil, fmt.Errorf("read handshake answer: %w", err)
	}
	r.resp.Body.Close()
	return r, nil
}

// send writes payload as one masked WebSocket text message.
func (r *raw) send(payload string) { r.sendOp(0x1, []byte(payload), true) }

// sendOp writes one WebSocket frame.
func (r *raw) sendOp(op byte, payload []byte, fin bool) {
	r.tb.Helper()
	if err := r.write(op, payload, fin); err != nil {
		r.tb.Fatalf("raw write: %v", err)
	}
}

func (r *raw) write(op byte, payload []byte, fin bool) error {
	b := []byte{op}
	if fin {
		b[0] |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := r.nc.Write(b)
	return err
}

// connect sends CONNECT with token and returns CONNECTED.
func (r *raw) connect(token string, extra ...string) *stomp.Frame {
	r.tb.Helper()
	f := "CONNECT\naccept-version:1.2\nhost:localhost\nAuthorization:Bearer " + token + "\n"
	for _, h := range extra {
		f += h + "\n"
	}
	r.send(f + "\n\x00")
	got := r.frame(5 * time.Second)
	if got == nil || got.Command != stomp.CmdConnected {
		r.tb.Fatalf("want CONNECTED, got %+v", got)
	}
	return got
}

// readMsg reads one WebSocket message; a close frame sets closeCode and returns io.EOF.
func (r *raw) readMsg(d time.Duration) (op byte, payload []byte, err error) {
	r.nc.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return 0, nil, err
	}
	op = h[0] & 0x0F
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(r.br, e[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(r.br, e[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if h[1]&0x80 != 0 {
		return 0, nil, errors.New("the server masked a frame")
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r.br, payload); err != nil {
		return 0, nil, err
	}
	if op == 0x8 {
		if len(payload) >= 2 {
			r.closeCode = int(binary.BigEndian.Uint16(payload))
		} else {
			r.closeCode = 1005
		}
		return op, payload, io.EOF
	}
	return op, payload, nil
}

// frame returns the next STOMP frame (heart-beats skipped), or nil when the connection
// ends or nothing comes within d.
func (r *raw) frame(d time.Duration) *stomp.Frame {
	r.tb.Helper()
	for {
		f, err := r.dec.Next()
		if err != nil {
			r.tb.Fatalf("server sent a malformed frame: %v", err)
		}
		if f != nil {
			return f
		}
		op, p, err := r.readMsg(d)
		if err != nil {
			r.lastErr = err
			return nil
		}
		if op == 0x1 || op == 0x2 {
			if err := r.dec.Write(p); err != nil {
				r.tb.Fatalf("server sent a malformed frame: %v", err)
			}
		}
	}
}

// expectError reads the next frame, which must be an ERROR with message code, then the end
// of the connection.
func (r *raw) expectError(code string) *stomp.Frame {
	r.tb.Helper()
	f := r.frame(5 * time.Second)
	if f == nil {
		r.tb.Fatalf("want ERROR %s, the connection ended or stayed silent", code)
	}
	if f.Command != stomp.CmdError {
		r.tb.Fatalf("want ERROR %s, got %s %v %q", code, f.Command, f.Headers, f.Body)
	}
	if got, _ := f.Get(stomp.HdrMessage); got != code {
		r.tb.Fatalf("ERROR message %q, want %q (body %q)", got, code, f.Body)
	}
	if len(f.Body) == 0 {
		r.tb.Errorf("ERROR %s has no readable body", code)
	}
	r.expectClosed()
	return f
}

// expectClosed reads until the connection ends, which must happen within five seconds,
// answering a close frame as a client must.
func (r *raw) expectClosed() {
	r.tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		op, _, err := r.readMsg(time.Until(deadline))
		if op == 0x8 {
			_ = r.write(0x8, []byte{0x03, 0xE8}, true)
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			return
		}
	}
	r.tb.Fatal("the server did not close the connection within 5s")
}
