// Package stomp is the STOMP 1.2 frame codec of Plop: it parses and encodes frames, escapes
// and unescapes header text, and negotiates the protocol version and heart-beats. It does no
// I/O and has no policy; the WebSocket session layer feeds a Decoder with the bytes of each
// message and writes what AppendFrame and AppendMessage produce.
//
// The codec is hand-written rather than built on a general STOMP library because it sits on
// the path of every message: a Decoder makes three small allocations per frame (the frame
// with room for eight headers, one string holding all header text, and the body), well-known
// commands and header names are interned, and the encoders allocate nothing when the
// destination slice has room. The benchmarks in this package compare it with
// github.com/go-stomp/stomp/v3/frame.
//
// Versions 1.0, 1.1 and 1.2 are understood. 1.1 and 1.2 escape header text (\n, \c, \\, and
// \r in 1.2 only); 1.0 does not, and neither do CONNECT, STOMP and CONNECTED frames. Lines end
// with LF, or in 1.2 with CRLF.
package stomp
