package stomp

import "strconv"

// HeartbeatEOL is what a peer sends to show it is alive when it has no frame to send.
var HeartbeatEOL = []byte{'\n'}

// headerMode says how header text is written.
type headerMode uint8

const (
	rawLF   headerMode = iota // unescaped (1.0, or CONNECT/CONNECTED in 1.1): LF becomes a space
	rawCRLF                   // unescaped in 1.2: LF and CR become spaces
	esc11                     // 1.1 escaping: \n \c \\
	esc12                     // 1.2 escaping: \r \n \c \\
)

// special[m][c] is true when byte c cannot be written as is in mode m.
var special = func() (t [4][256]bool) {
	t[rawLF]['\n'] = true
	t[rawCRLF]['\n'], t[rawCRLF]['\r'] = true, true
	t[esc11]['\n'], t[esc11][':'], t[esc11]['\\'] = true, true, true
	t[esc12]['\n'], t[esc12][':'], t[esc12]['\\'], t[esc12]['\r'] = true, true, true, true
	return t
}()

func modeFor(cmd string, ver int8) headerMode {
	switch {
	case escapesHeaders(cmd, ver) && ver >= 12:
		return esc12
	case escapesHeaders(cmd, ver):
		return esc11
	case ver >= 12:
		return rawCRLF
	}
	return rawLF
}

// appendText appends header text s in mode m. Unescaped frames cannot carry line breaks, so
// they are replaced by spaces rather than let a value start a new header.
func appendText(dst []byte, s string, m headerMode) []byte {
	t := &special[m]
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !t[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		start = i + 1
		if m < esc11 {
			dst = append(dst, ' ')
			continue
		}
		switch c {
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case ':':
			dst = append(dst, '\\', 'c')
		case '\\':
			dst = append(dst, '\\', '\\')
		}
	}
	return append(dst, s[start:]...)
}

func appendHeader(dst []byte, key, value string, m headerMode) []byte {
	dst = appendText(dst, key, m)
	dst = append(dst, ':')
	dst = appendText(dst, value, m)
	return append(dst, '\n')
}

// AppendFrame appends the encoding of f for protocol version ("1.0", "1.1" or "1.2"; anything
// else means 1.2) to dst and returns the extended slice. Headers are escaped as the version
// says, except in CONNECT, STOMP and CONNECTED frames. A content-length header is added when
// the body is not empty and f has none (a content-length f does carry is written as is and
// must be right). The frame ends with NUL. It allocates nothing when dst has room.
func AppendFrame(dst []byte, f *Frame, version string) []byte {
	m := modeFor(f.Command, parseVersion(version))
	dst = append(dst, f.Command...)
	dst = append(dst, '\n')
	hasLength := false
	for _, h := range f.Headers {
		if h.Key == HdrContentLength {
			hasLength = true
		}
		dst = appendHeader(dst, h.Key, h.Value, m)
	}
	if !hasLength && len(f.Body) > 0 {
		dst = appendContentLength(dst, len(f.Body))
	}
	dst = append(dst, '\n')
	dst = append(dst, f.Body...)
	return append(dst, 0)
}

func appendContentLength(dst []byte, n int) []byte {
	dst = append(dst, "content-length:"...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\n')
}

// AppendMessage is the fan-out fast path: it appends a MESSAGE frame with the destination,
// subscription and message-id headers, then the extra headers (content-type only if given
// there; a content-length in extra is ignored), then content-length and the body, without
// building a Frame. Headers are escaped by the STOMP 1.2 rules, which suit 1.1 clients too as
// long as no header holds a CR; use AppendFrame for 1.0 and 1.1 sessions to be exact.
func AppendMessage(dst []byte, destination, subscription, messageID string, extra []Header, body []byte) []byte {
	dst = append(dst, "MESSAGE\ndestination:"...)
	dst = appendText(dst, destination, esc12)
	dst = append(dst, "\nsubscription:"...)
	dst = appendText(dst, subscription, esc12)
	dst = append(dst, "\nmessage-id:"...)
	dst = appendText(dst, messageID, esc12)
	dst = append(dst, '\n')
	for _, h := range extra {
		if h.Key != HdrContentLength {
			dst = appendHeader(dst, h.Key, h.Value, esc12)
		}
	}
	dst = appendContentLength(dst, len(body))
	dst = append(dst, '\n')
	dst = append(dst, body...)
	return append(dst, 0)
}
