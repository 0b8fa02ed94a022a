package stomp

import (
	"errors"
	"strconv"
	"testing"
)

var fuzzVersions = [...]string{V10, V11, V12}

// fuzzLimits are small so that the fuzzer reaches every limit, or the defaults.
func fuzzLimits(small bool) Limits {
	if small {
		return Limits{MaxFrameSize: 96, MaxHeaders: 4, MaxHeaderBytes: 24}
	}
	return Limits{}
}

// FuzzDecoder checks that decoding never panics, that where the input is split does not
// change the frames or the error, and that every decoded frame survives AppendFrame and a
// second decoding.
func FuzzDecoder(f *testing.F) {
	for _, tc := range decodeCases {
		ver := byte(2)
		switch tc.version {
		case V10:
			ver = 0
		case V11:
			ver = 1
		}
		f.Add([]byte(tc.in), uint16(len(tc.in)/2), ver, tc.lim != Limits{})
	}
	f.Add(AppendFrame(nil, benchSendFrame(), V12), uint16(100), byte(2), false)
	f.Add(benchMessageRaw(), uint16(7), byte(1), false)
	f.Add([]byte("CONNECT\naccept-version:1.2\nhost:plop\nheart-beat:10000,10000\nAuthorization:Bearer x\n\n\x00\n"), uint16(20), byte(2), false)

	f.Fuzz(func(t *testing.T, data []byte, split uint16, ver byte, small bool) {
		version := fuzzVersions[int(ver)%len(fuzzVersions)]
		lim := fuzzLimits(small)
		whole, werr := decodeChunks(t, lim, version, data)

		s := int(split) % (len(data) + 1)
		parts, perr := decodeChunks(t, lim, version, data[:s], data[s:])
		if d := diffFrames(whole, parts); d != "" {
			t.Fatalf("split at %d changes the frames (-whole +split):\n%s", s, d)
		}
		if (werr == nil) != (perr == nil) || werr != nil && werr.Error() != perr.Error() {
			t.Fatalf("split at %d changes the error: whole %v, split %v", s, werr, perr)
		}
		if werr != nil && !isSentinel(werr) {
			t.Fatalf("error %v wraps no sentinel", werr)
		}

		for _, fr := range whole {
			raw := AppendFrame(nil, fr, version)
			again, err := decodeChunks(t, Limits{MaxFrameSize: 1 << 20, MaxHeaderBytes: 1 << 20}, version, raw)
			if err != nil {
				t.Fatalf("re-encoded frame %q fails to decode: %v", raw, err)
			}
			want := *fr
			if _, ok := fr.Get(HdrContentLength); !ok && len(fr.Body) > 0 {
				want.Headers = append(append([]Header(nil), fr.Headers...), Header{HdrContentLength, strconv.Itoa(len(fr.Body))})
			}
			if d := diffFrames([]*Frame{&want}, again); d != "" {
				t.Fatalf("re-encoded frame %q decodes differently (-want +got):\n%s", raw, d)
			}
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrFrameTooLarge, ErrTooManyHeaders, ErrHeaderTooLong, ErrBadEscape,
		ErrBadCommand, ErrBadContentLength, ErrMalformed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
