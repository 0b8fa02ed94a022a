package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// httpConn is a lean HTTP/1.1 keep-alive client for one virtual user: it writes prepared
// request bytes and reads the answer's status and body length, discarding the body. It
// costs the generator a fraction of what net/http does per request, which matters when the
// generator and the node share two cores.
type httpConn struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
}

// getRequest returns the bytes of a GET of path with a bearer token.
func getRequest(host, path, token string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: plop-bench\r\nAccept: application/json\r\n", path, host)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// do sends req and reads the answer within requestTimeout. A failed connection is closed;
// the next call redials.
func (c *httpConn) do(ctx context.Context, req []byte) (status, bodyLen int, err error) {
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return 0, 0, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 16<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	_ = c.conn.SetDeadline(time.Now().Add(requestTimeout))
	status, bodyLen, keep, err := c.roundTrip(req)
	if err != nil || !keep {
		c.close()
	}
	return status, bodyLen, err
}

func (c *httpConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *httpConn) roundTrip(req []byte) (status, bodyLen int, keep bool, err error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, 0, false, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	contentLength, chunked := -1, false
	keep = true
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return status, 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			contentLength, err = strconv.Atoi(string(value))
			if err != nil {
				return status, 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		bodyLen, err = c.discardChunked()
	case contentLength >= 0:
		bodyLen, err = c.br.Discard(contentLength)
	default:
		n, err := io.Copy(io.Discard, c.br) // the body runs to the end of the connection
		return status, int(n), false, err
	}
	return status, bodyLen, keep, err
}

func (c *httpConn) discardChunked() (int, error) {
	total := 0
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return total, err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeText)), 16, 64)
		if err != nil || size < 0 {
			return total, fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, then the empty line
				t, err := c.br.ReadSlice('\n')
				if err != nil {
					return total, err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return total, nil
				}
			}
		}
		n, err := c.br.Discard(int(size))
		total += n
		if err != nil {
			return total, err
		}
		if _, err := c.br.Discard(2); err != nil { // CRLF after the chunk
			return total, err
		}
	}
}

// errStatus is an answer other than the one expected.
var errStatus = errors.New("unexpected status")

// requestTimeout bounds one request of the load.
const requestTimeout = 10 * time.Second
