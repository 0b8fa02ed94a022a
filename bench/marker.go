package bench

import (
	"bytes"
	"strconv"
	"time"
)

// epoch is the origin of the generator's clock: latencies are differences of monotonic
// readings, immune to changes of the wall clock.
var epoch = time.Now()

// now returns nanoseconds since epoch on the monotonic clock.
func now() int64 { return int64(time.Since(epoch)) }

// markerPrefix starts the marker a generated message body carries: ~b:GROUP:INDEX:NANOS~,
// where GROUP is a step or a room, INDEX numbers the message, and NANOS is its planned
// send time on the generator's clock. Room ids, user ids and JSON never contain "~b:".
var markerPrefix = []byte("~b:")

// appendBody appends a message body of exactly size bytes (at least the marker's length)
// holding the marker, padded with dots.
func appendBody(dst []byte, group, index int, sent int64, size int) []byte {
	start := len(dst)
	dst = append(dst, markerPrefix...)
	dst = strconv.AppendInt(dst, int64(group), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, sent, 10)
	dst = append(dst, '~')
	for len(dst)-start < size {
		dst = append(dst, '.')
	}
	return dst
}

// parseMarker finds the marker in b (a message body, or a JSON event holding it).
func parseMarker(b []byte) (group, index int, sent int64, ok bool) {
	i := bytes.Index(b, markerPrefix)
	if i < 0 {
		return 0, 0, 0, false
	}
	b = b[i+len(markerPrefix):]
	var nums [3]int64
	for k := range nums {
		n, j := int64(0), 0
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			n = n*10 + int64(b[j]-'0')
			j++
		}
		want := byte(':')
		if k == 2 {
			want = '~'
		}
		if j == 0 || j >= len(b) || b[j] != want {
			return 0, 0, 0, false
		}
		nums[k] = n
		b = b[j+1:]
	}
	return int(nums[0]), int(nums[1]), nums[2], true
}
