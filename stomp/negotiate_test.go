package stomp

import (
	"errors"
	"testing"
	"time"
)

func TestNegotiateVersion(t *testing.T) {
	tests := []struct {
		accept, want string
		err          error
	}{
		{"", V10, nil},
		{"   ", V10, nil},
		{"1.0", V10, nil},
		{"1.1", V11, nil},
		{"1.2", V12, nil},
		{"1.0,1.1,1.2", V12, nil},
		{"1.2,1.0", V12, nil},
		{"1.1, 1.0", V11, nil},
		{"1.3,1.1", V11, nil},
		{"2.0", "", ErrUnsupportedVersion},
		{"1.3,,", "", ErrUnsupportedVersion},
	}
	for _, tc := range tests {
		got, err := NegotiateVersion(tc.accept)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("NegotiateVersion(%q) = %q, %v; want %q, %v", tc.accept, got, err, tc.want, tc.err)
		}
	}
}

func TestParseHeartBeat(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in     string
		cx, cy time.Duration
		bad    bool
	}{
		{"", 0, 0, false},
		{"0,0", 0, 0, false},
		{"10000,10000", 10 * time.Second, 10 * time.Second, false},
		{"4000, 0", 4000 * ms, 0, false},
		{"1,2", ms, 2 * ms, false},
		{"1", 0, 0, true},
		{"a,b", 0, 0, true},
		{"-1,0", 0, 0, true},
		{"+1,0", 0, 0, true},
		{"1,2,3", 0, 0, true},
		{",", 0, 0, true},
		{"99999999999999999999,0", 0, 0, true},
		{"9223372036854776,0", 0, 0, true}, // overflows a Duration
	}
	for _, tc := range tests {
		cx, cy, err := ParseHeartBeat(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadHeartBeat) {
				t.Errorf("ParseHeartBeat(%q) error = %v, want ErrBadHeartBeat", tc.in, err)
			}
			continue
		}
		if err != nil || cx != tc.cx || cy != tc.cy {
			t.Errorf("ParseHeartBeat(%q) = %v, %v, %v; want %v, %v", tc.in, cx, cy, err, tc.cx, tc.cy)
		}
	}
	if got := FormatHeartBeat(10*time.Second, 0); got != "10000,0" {
		t.Errorf("FormatHeartBeat = %q", got)
	}
}

func TestNegotiateHeartBeat(t *testing.T) {
	s := time.Second
	tests := []struct {
		name           string
		cx, cy, sx, sy time.Duration
		send, interval time.Duration // interval: how often the client must send
	}{
		{"no heart-beats asked (heart-beat:0,0 is the default)", 0, 0, 10 * s, 10 * s, 0, 0},
		{"client cannot send (cx=0)", 0, 5 * s, 10 * s, 10 * s, 10 * s, 0},
		{"server does not want to receive (sy=0)", 5 * s, 5 * s, 10 * s, 0, 10 * s, 0},
		{"client does not want to receive (cy=0)", 5 * s, 0, 10 * s, 10 * s, 0, 10 * s},
		{"server cannot send (sx=0)", 5 * s, 5 * s, 0, 10 * s, 0, 10 * s},
		{"MAX of both sides", 4 * s, 1 * s, 2 * s, 8 * s, 2 * s, 8 * s},
		{"client slower than server", 20 * s, 30 * s, 10 * s, 10 * s, 30 * s, 20 * s},
		{"stomp.js defaults", 10 * s, 10 * s, 10 * s, 10 * s, 10 * s, 10 * s},
	}
	for _, tc := range tests {
		send, recv := NegotiateHeartBeat(tc.cx, tc.cy, tc.sx, tc.sy)
		if send != tc.send || recv != tc.interval*3/2 {
			t.Errorf("%s: got send %v recv %v; want send %v recv %v", tc.name, send, recv, tc.send, tc.interval*3/2)
		}
	}
}
