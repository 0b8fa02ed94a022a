package stomp

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// NegotiateVersion returns the highest version listed in the accept-version header of a
// CONNECT frame that this codec speaks ("1.0", "1.1" or "1.2"). An absent or empty header
// means the client speaks 1.0. It returns an error wrapping ErrUnsupportedVersion when no
// listed version is supported; the ERROR frame should then carry version:SupportedVersions.
func NegotiateVersion(acceptVersion string) (string, error) {
	if strings.TrimSpace(acceptVersion) == "" {
		return V10, nil
	}
	best := int8(0)
	for rest := acceptVersion; ; {
		v, tail, more := strings.Cut(rest, ",")
		switch strings.TrimSpace(v) {
		case V10:
			best = max(best, 10)
		case V11:
			best = max(best, 11)
		case V12:
			best = max(best, 12)
		}
		if !more {
			break
		}
		rest = tail
	}
	switch best {
	case 10:
		return V10, nil
	case 11:
		return V11, nil
	case 12:
		return V12, nil
	}
	return "", newError(ErrUnsupportedVersion, "the client accepts "+strconv.Quote(acceptVersion)+", the server speaks "+SupportedVersions)
}

// maxHeartBeatMS is the largest heart-beat value that fits a time.Duration.
const maxHeartBeatMS = math.MaxInt64 / int64(time.Millisecond)

// ParseHeartBeat parses a heart-beat header, "cx,cy" in milliseconds; "" means 0,0. Spaces
// around the numbers are tolerated; anything else wraps ErrBadHeartBeat.
func ParseHeartBeat(v string) (cx, cy time.Duration, err error) {
	if v == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return 0, 0, newError(ErrBadHeartBeat, strconv.Quote(v)+" is not two numbers separated by a comma")
	}
	if cx, err = parseMillis(a, v); err != nil {
		return 0, 0, err
	}
	if cy, err = parseMillis(b, v); err != nil {
		return 0, 0, err
	}
	return cx, cy, nil
}

func parseMillis(s, whole string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := s == ""
	for i := 0; i < len(s) && !bad; i++ {
		bad = s[i] < '0' || s[i] > '9'
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if bad || err != nil || n > maxHeartBeatMS {
		return 0, newError(ErrBadHeartBeat, strconv.Quote(whole)+" must be two non-negative numbers of milliseconds")
	}
	return time.Duration(n) * time.Millisecond, nil
}

// FormatHeartBeat formats a heart-beat header value from two durations, in milliseconds.
func FormatHeartBeat(x, y time.Duration) string {
	return strconv.FormatInt(x.Milliseconds(), 10) + "," + strconv.FormatInt(y.Milliseconds(), 10)
}

// NegotiateHeartBeat returns how often the server must send (send) and the longest silence it
// may accept from the client (recv, 0 = none) given the client's cx,cy (its CONNECT
// heart-beat header) and the server's sx,sy (its CONNECTED heart-beat header).
//
// As the specification says, the server sends every MAX(sx,cy) unless either is 0, and the
// client sends every MAX(cx,sy) unless either is 0. Since the receiver should tolerate timing
// inaccuracies, recv is that client interval plus half of it; a caller may close the
// connection after recv without receiving any byte.
func NegotiateHeartBeat(cx, cy, sx, sy time.Duration) (send, recv time.Duration) {
	if sx > 0 && cy > 0 {
		send = max(sx, cy)
	}
	if cx > 0 && sy > 0 {
		i := max(cx, sy)
		recv = i + i/2
	}
	return send, recv
}
