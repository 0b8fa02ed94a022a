package httpapi

import (
	"bufio"
	"net"
	"net/http"
)

// recorder remembers the status and size of an answer for the access log and metrics. It
// passes Flush and Hijack through, so that streaming answers and WebSocket upgrades served
// inside the middleware keep working.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (rec *recorder) WriteHeader(code int) {
	if !rec.wroteHeader && code >= 200 {
		rec.status = code
		rec.wroteHeader = true
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Flush sends any buffered data to the client.
func (rec *recorder) Flush() {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

// Hijack hands the connection over, for WebSocket upgrades; the request is then logged with
// status 101.
func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rec.ResponseWriter).Hijack()
	if err == nil && !rec.wroteHeader {
		rec.status = http.StatusSwitchingProtocols
		rec.wroteHeader = true
	}
	return conn, brw, err
}

// Unwrap gives http.ResponseController the writer underneath.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// statusCode is the answer's status; a handler that wrote nothing answered 200.
func (rec *recorder) statusCode() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}
