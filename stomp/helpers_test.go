package stomp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// decodeChunks feeds chunks to a new decoder one Write at a time, draining Next after each,
// and returns the frames and the first error.
func decodeChunks(tb testing.TB, lim Limits, version string, chunks ...[]byte) ([]*Frame, error) {
	tb.Helper()
	d := NewDecoder(lim)
	d.SetVersion(version)
	var frames []*Frame
	for _, c := range chunks {
		werr := d.Write(c)
		for {
			f, err := d.Next()
			if err != nil {
				if werr != nil && err != werr {
					tb.Fatalf("Write returned %v but Next returned %v", werr, err)
				}
				return frames, err
			}
			if f == nil {
				break
			}
			frames = append(frames, f)
		}
		if werr != nil {
			tb.Fatalf("Write returned %v but Next returned no error", werr)
		}
	}
	return frames, nil
}

// byteChunks splits b into one-byte chunks.
func byteChunks(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

var frameCmp = cmpopts.EquateEmpty()

func diffFrames(want, got []*Frame) string {
	return cmp.Diff(want, got, frameCmp)
}

// fr builds a frame from a command, key/value pairs and a body.
func fr(cmd string, body string, kv ...string) *Frame {
	f := &Frame{Command: cmd}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	if body != "" {
		f.Body = []byte(body)
	}
	return f
}
