package realtime

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// lazyReadSize is the size of the pooled buffer a connection reads into while it has
// bytes to take in; an idle connection holds none.
const lazyReadSize = 4 << 10

var lazyPool = sync.Pool{New: func() any { b := make([]byte, lazyReadSize); return &b }}

// lazyReader reads a TCP connection into a pooled buffer that it holds only while some of
// the bytes read are still to be consumed. It waits for the socket to be readable without a
// buffer (through syscall.RawConn), so the one read every idle connection has pending costs
// no memory; the small bufio.Reader gws keeps over it is all an idle connection holds.
//
// It is used by the connection's read goroutine only. A connection that ends with bytes
// still buffered leaves its buffer to the collector.
type lazyReader struct {
	rc    syscall.RawConn
	ahead []byte // bytes the client sent ahead of the handshake's answer

	buf  *[]byte // pooled; nil while nothing is buffered
	r, w int     // unread bytes: (*buf)[r:w]

	// The outcome of readFd, which rc.Read calls.
	into    []byte
	n       int
	readErr error
	readFd  func(fd uintptr) bool
}

// newLazyReader returns a reader of nc that first returns ahead, or nil when nc offers no
// raw access to its socket.
func newLazyReader(nc net.Conn, ahead []byte) *lazyReader {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	lr := &lazyReader{rc: rc, ahead: ahead}
	lr.readFd = lr.readOnce
	return lr
}

func (lr *lazyReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(lr.ahead) > 0 {
		n := copy(p, lr.ahead)
		lr.ahead = lr.ahead[n:]
		if len(lr.ahead) == 0 {
			lr.ahead = nil
		}
		return n, nil
	}
	if lr.buf == nil {
		if len(p) >= lazyReadSize {
			return lr.fill(p) // large enough: read straight into p
		}
		// readOnce takes a pooled buffer only once the socket has bytes for it.
		if n, err := lr.fill(nil); n == 0 {
			return 0, err
		}
	}
	n := copy(p, (*lr.buf)[lr.r:lr.w])
	lr.r += n
	if lr.r == lr.w {
		lazyPool.Put(lr.buf)
		lr.buf = nil
	}
	return n, nil
}

// fill reads once, waiting until the socket has something (or an error): into b, or when b
// is nil into a pooled buffer that becomes lr.buf.
func (lr *lazyReader) fill(b []byte) (int, error) {
	lr.into, lr.n, lr.readErr = b, 0, nil
	err := lr.rc.Read(lr.readFd)
	n, rerr := lr.n, lr.readErr
	lr.into, lr.readErr = nil, nil
	if err != nil {
		// A closed connection or a read deadline: report it as net.Conn.Read would.
		var oe *net.OpError
		if errors.As(err, &oe) {
			cp := *oe
			cp.Op = "read"
			err = &cp
		}
		return 0, err
	}
	if rerr != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", rerr)}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// readOnce is the callback of rc.Read; false means "nothing to read yet: wait".
func (lr *lazyReader) readOnce(fd uintptr) bool {
	b, bp := lr.into, (*[]byte)(nil)
	if b == nil {
		bp = lazyPool.Get().(*[]byte)
		b = *bp
	}
	for {
		n, err := syscall.Read(int(fd), b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if bp != nil {
				lazyPool.Put(bp)
			}
			return false
		case err != nil:
			lr.readErr = err
		default:
			lr.n = n
		}
		if bp != nil {
			if lr.n > 0 {
				lr.buf, lr.r, lr.w = bp, 0, lr.n
			} else {
				lazyPool.Put(bp)
			}
		}
		return true
	}
}
