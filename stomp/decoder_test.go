package stomp

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

type decodeCase struct {
	name    string
	version string // "" means 1.2
	lim     Limits
	in      string
	want    []*Frame
	err     error // sentinel expected after the frames, nil for none
}

var decodeCases = []decodeCase{
	{name: "send without body", in: "SEND\ndestination:/rooms/1\n\n\x00",
		want: []*Frame{fr("SEND", "", "destination", "/rooms/1")}},
	{name: "body without content-length ends at first NUL", in: "SEND\ndestination:/a\n\nhello\x00",
		want: []*Frame{fr("SEND", "hello", "destination", "/a")}},
	{name: "content-length body holds NULs", in: "SEND\ncontent-length:5\n\na\x00b\x00c\x00",
		want: []*Frame{fr("SEND", "a\x00b\x00c", "content-length", "5")}},
	{name: "content-length zero", in: "SEND\ncontent-length:0\n\n\x00",
		want: []*Frame{fr("SEND", "", "content-length", "0")}},
	{name: "content-length with leading zeros", in: "SEND\ncontent-length:002\n\nab\x00",
		want: []*Frame{fr("SEND", "ab", "content-length", "002")}},
	{name: "first content-length wins", in: "SEND\ncontent-length:1\ncontent-length:x\n\na\x00",
		want: []*Frame{fr("SEND", "a", "content-length", "1", "content-length", "x")}},
	{name: "CRLF line endings in 1.2", in: "SEND\r\ndestination:/a\r\nk:v\r\n\r\nhi\x00",
		want: []*Frame{fr("SEND", "hi", "destination", "/a", "k", "v")}},
	{name: "CRLF command in 1.1 is not a command", version: V11, in: "SEND\r\n\n\x00", err: ErrBadCommand},
	{name: "CRLF blank line in 1.1 is malformed", version: V11, in: "SEND\n\r\n\x00", err: ErrMalformed},
	{name: "CR before LF is part of the value in 1.1", version: V11, in: "SEND\nk:v\r\n\n\x00",
		want: []*Frame{fr("SEND", "", "k", "v\r")}},
	{name: "CR before LF is part of the value in 1.0", version: V10, in: "SEND\nk:v\r\n\n\x00",
		want: []*Frame{fr("SEND", "", "k", "v\r")}},
	{name: "bare CR inside a 1.2 header", in: "SEND\nk:a\rb\n\n\x00", err: ErrMalformed},
	{name: "1.2 escapes", in: "SEND\nk\\cx:a\\nb\\rc\\\\d\\ce\n\n\x00",
		want: []*Frame{fr("SEND", "", "k:x", "a\nb\rc\\d:e")}},
	{name: "1.1 escapes", version: V11, in: "SEND\nk\\cx:a\\nb\\\\d\\ce\n\n\x00",
		want: []*Frame{fr("SEND", "", "k:x", "a\nb\\d:e")}},
	{name: "\\r is undefined in 1.1", version: V11, in: "SEND\nk:a\\rb\n\n\x00", err: ErrBadEscape},
	{name: "undefined escape", in: "SEND\nk:a\\tb\n\n\x00", err: ErrBadEscape},
	{name: "undefined escape in key", in: "SEND\nk\\x:v\n\n\x00", err: ErrBadEscape},
	{name: "backslash at end of value", in: "SEND\nk:ab\\\n\n\x00", err: ErrBadEscape},
	{name: "1.0 headers are not unescaped", version: V10, in: "SEND\nk:a\\tb\\n\n\n\x00",
		want: []*Frame{fr("SEND", "", "k", `a\tb\n`)}},
	{name: "CONNECT headers are not unescaped", in: "CONNECT\npasscode:a\\tb\\c\n\n\x00",
		want: []*Frame{fr("CONNECT", "", "passcode", `a\tb\c`)}},
	{name: "STOMP headers are not unescaped", in: "STOMP\nlogin:a\\\n\n\x00",
		want: []*Frame{fr("STOMP", "", "login", `a\`)}},
	{name: "CONNECTED headers are not unescaped", in: "CONNECTED\nserver:a\\q\n\n\x00",
		want: []*Frame{fr("CONNECTED", "", "server", `a\q`)}},
	{name: "repeated keys are all kept", in: "MESSAGE\nfoo:World\nfoo:Hello\n\n\x00",
		want: []*Frame{fr("MESSAGE", "", "foo", "World", "foo", "Hello")}},
	{name: "keys and values are not trimmed", in: "SEND\n k : v \n\n\x00",
		want: []*Frame{fr("SEND", "", " k ", " v ")}},
	{name: "more headers than fit the frame's own block", in: "SEND\na:1\nb:2\nc:3\nd:4\ne:5\nf:6\ng:7\nh:8\ni:9\nj:10\n\n\x00",
		want: []*Frame{fr("SEND", "", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7", "h", "8", "i", "9", "j", "10")}},
	{name: "empty value", in: "SEND\nk:\n\n\x00", want: []*Frame{fr("SEND", "", "k", "")}},
	{name: "colon inside a value is kept", in: "SEND\nk:a:b\n\n\x00",
		want: []*Frame{fr("SEND", "", "k", "a:b")}},
	{name: "header without colon", in: "SEND\nnocolon\n\n\x00", err: ErrMalformed},
	{name: "header with empty name", in: "SEND\n:v\n\n\x00", err: ErrMalformed},
	{name: "lower-case command", in: "send\n\n\x00", err: ErrBadCommand},
	{name: "unknown command", in: "PUBLISH\n\n\x00", err: ErrBadCommand},
	{name: "command with trailing space", in: "SEND \n\n\x00", err: ErrBadCommand},
	{name: "negative content-length", in: "SEND\ncontent-length:-1\n\n\x00", err: ErrBadContentLength},
	{name: "non-numeric content-length", in: "SEND\ncontent-length:ten\n\n\x00", err: ErrBadContentLength},
	{name: "empty content-length", in: "SEND\ncontent-length:\n\n\x00", err: ErrBadContentLength},
	{name: "content-length with a space", in: "SEND\ncontent-length: 1\n\na\x00", err: ErrBadContentLength},
	{name: "content-length not followed by NUL", in: "SEND\ncontent-length:2\n\nabc\x00", err: ErrMalformed},
	{name: "heart-beats before, between and after frames",
		in:   "\n\r\n\nSEND\n\n\x00\n\n\r\nRECEIPT\nreceipt-id:7\n\n\x00\n",
		want: []*Frame{fr("SEND", ""), fr("RECEIPT", "", "receipt-id", "7")}},
	{name: "several frames in one write",
		in: "SUBSCRIBE\nid:0\ndestination:/rooms/1\nack:auto\n\n\x00" +
			"SEND\ndestination:/rooms/1\ncontent-type:application/json\ncontent-length:7\n\n{\"a\":1}\x00" +
			"DISCONNECT\nreceipt:77\n\n\x00",
		want: []*Frame{
			fr("SUBSCRIBE", "", "id", "0", "destination", "/rooms/1", "ack", "auto"),
			fr("SEND", `{"a":1}`, "destination", "/rooms/1", "content-type", "application/json", "content-length", "7"),
			fr("DISCONNECT", "", "receipt", "77"),
		}},
	{name: "frames before an error are returned", in: "ACK\nid:1\n\n\x00NOPE\n\n\x00",
		want: []*Frame{fr("ACK", "", "id", "1")}, err: ErrBadCommand},
	{name: "incomplete frame waits", in: "SEND\ndestination:/a\n\nhal"},
	{name: "incomplete content-length body waits", in: "SEND\ncontent-length:10\n\n\x00\x00"},
	{name: "lone CR at the end waits", in: "SEND\n\n\x00\r", want: []*Frame{fr("SEND", "")}},

	// Limits.
	{name: "frame of exactly MaxFrameSize", lim: Limits{MaxFrameSize: 11}, in: "SEND\n\n1234\x00",
		want: []*Frame{fr("SEND", "1234")}},
	{name: "frame one byte over MaxFrameSize", lim: Limits{MaxFrameSize: 11}, in: "SEND\n\n12345\x00", err: ErrFrameTooLarge},
	{name: "body without NUL beyond MaxFrameSize", lim: Limits{MaxFrameSize: 16}, in: "SEND\n\n" + strings.Repeat("x", 20), err: ErrFrameTooLarge},
	{name: "content-length over MaxFrameSize fails before the body",
		lim: Limits{MaxFrameSize: 100}, in: "SEND\ncontent-length:95\n\n", err: ErrFrameTooLarge},
	{name: "huge content-length", in: "SEND\ncontent-length:99999999999999999999999\n", err: ErrFrameTooLarge},
	{name: "heart-beats do not count toward MaxFrameSize", lim: Limits{MaxFrameSize: 8},
		in: strings.Repeat("\n", 50) + "SEND\n\n\x00", want: []*Frame{fr("SEND", "")}},
	{name: "MaxHeaders headers", lim: Limits{MaxHeaders: 2}, in: "SEND\na:1\nb:2\n\n\x00",
		want: []*Frame{fr("SEND", "", "a", "1", "b", "2")}},
	{name: "too many headers", lim: Limits{MaxHeaders: 2}, in: "SEND\na:1\nb:2\nc:3\n\n\x00", err: ErrTooManyHeaders},
	{name: "header line of MaxHeaderBytes", lim: Limits{MaxHeaderBytes: 6}, in: "SEND\nkey:ab\n\n\x00",
		want: []*Frame{fr("SEND", "", "key", "ab")}},
	{name: "header line over MaxHeaderBytes", lim: Limits{MaxHeaderBytes: 6}, in: "SEND\nkey:abc\n\n\x00", err: ErrHeaderTooLong},
	{name: "header line over MaxHeaderBytes without LF yet", lim: Limits{MaxHeaderBytes: 6}, in: "SEND\nkey:abc", err: ErrHeaderTooLong},
	{name: "command line over MaxHeaderBytes", lim: Limits{MaxHeaderBytes: 6}, in: "SUBSCRIBE\n\n\x00", err: ErrHeaderTooLong},
}

func TestDecoder(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.version
			if v == "" {
				v = V12
			}
			in := []byte(tc.in)
			check := func(how string, got []*Frame, err error) {
				t.Helper()
				if d := diffFrames(tc.want, got); d != "" {
					t.Errorf("%s: frames (-want +got):\n%s", how, d)
				}
				if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
					t.Errorf("%s: error %v, want %v", how, err, tc.err)
				}
			}
			got, err := decodeChunks(t, tc.lim, v, in)
			check("whole", got, err)
			got, err = decodeChunks(t, tc.lim, v, byteChunks(in)...)
			check("byte by byte", got, err)
			for i := 1; i < len(in); i++ {
				got, err = decodeChunks(t, tc.lim, v, in[:i], in[i:])
				check("split at "+itoa(i), got, err)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDecoderAcceptsEveryCommand(t *testing.T) {
	for _, c := range []string{CmdConnect, CmdStomp, CmdConnected, CmdSend, CmdSubscribe, CmdUnsubscribe,
		CmdAck, CmdNack, CmdBegin, CmdCommit, CmdAbort, CmdDisconnect, CmdMessage, CmdReceipt, CmdError} {
		got, err := decodeChunks(t, Limits{}, V12, []byte(c+"\n\n\x00"))
		if err != nil || len(got) != 1 || got[0].Command != c {
			t.Errorf("%s: got %v, %v", c, got, err)
		}
	}
}

func TestDecoderErrorIsSticky(t *testing.T) {
	d := NewDecoder(Limits{})
	if err := d.Write([]byte("BOGUS\n\n\x00SEND\n\n\x00")); err != nil {
		t.Fatal(err)
	}
	_, err := d.Next()
	if !errors.Is(err, ErrBadCommand) {
		t.Fatalf("Next: %v, want ErrBadCommand", err)
	}
	if !strings.Contains(err.Error(), `"BOGUS"`) {
		t.Errorf("message %q does not name the command", err.Error())
	}
	if f, err2 := d.Next(); f != nil || err2 != err {
		t.Errorf("second Next = %v, %v; want the same error", f, err2)
	}
	if err2 := d.Write([]byte("SEND\n\n\x00")); err2 != err {
		t.Errorf("Write after error = %v; want the same error", err2)
	}
}

func TestDecoderWriteRejectsOversizedFrame(t *testing.T) {
	d := NewDecoder(Limits{MaxFrameSize: 64})
	if err := d.Write([]byte("SEND\n\n" + strings.Repeat("x", 50))); err != nil {
		t.Fatalf("first write: %v", err)
	}
	err := d.Write(bytes.Repeat([]byte("x"), 20))
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Write = %v, want ErrFrameTooLarge", err)
	}
	if d.Buffered() != 0 {
		t.Errorf("a broken decoder still holds %d bytes", d.Buffered())
	}
}

func TestDecoderWriteAcceptsManySmallFramesBeyondLimit(t *testing.T) {
	// One message holding more bytes than MaxFrameSize is fine when each frame fits.
	one := "SEND\ndestination:/a\n\n0123456789\x00"
	d := NewDecoder(Limits{MaxFrameSize: len(one)})
	if err := d.Write([]byte(strings.Repeat(one, 10) + "SEND\n")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for i := range 10 {
		f, err := d.Next()
		if err != nil || f == nil || string(f.Body) != "0123456789" {
			t.Fatalf("frame %d: %v, %v", i, f, err)
		}
	}
	if f, err := d.Next(); f != nil || err != nil {
		t.Fatalf("after the frames: %v, %v; want nil, nil", f, err)
	}
	if d.Buffered() != len("SEND\n") {
		t.Errorf("Buffered = %d, want the partial frame", d.Buffered())
	}
}

func TestDecoderVersionSwitch(t *testing.T) {
	// The CONNECT frame is parsed before the version is known; later frames follow it.
	d := NewDecoder(Limits{})
	if err := d.Write([]byte("CONNECT\naccept-version:1.0\n\n\x00SEND\nk:a\\tb\n\n\x00")); err != nil {
		t.Fatal(err)
	}
	f, err := d.Next()
	if err != nil || f.Command != CmdConnect {
		t.Fatalf("CONNECT: %v, %v", f, err)
	}
	d.SetVersion(V10)
	f, err = d.Next()
	if err != nil {
		t.Fatalf("SEND in 1.0: %v", err)
	}
	if v, _ := f.Get("k"); v != `a\tb` {
		t.Errorf("value %q, want it raw", v)
	}
}

func TestDecodedFrameDoesNotAliasInput(t *testing.T) {
	in := []byte("SEND\ndestination:/a\nx-k:v\n\nbody\x00")
	d := NewDecoder(Limits{})
	if err := d.Write(in); err != nil {
		t.Fatal(err)
	}
	f, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = '#'
	}
	_ = d.Write([]byte("SEND\ndestination:/zzzzzzzzzzzzzzzzzzzzzzzzz\n\nother body\x00"))
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	if want := fr("SEND", "body", "destination", "/a", "x-k", "v"); diffFrames([]*Frame{want}, []*Frame{f}) != "" {
		t.Errorf("frame changed after the input was reused: %+v", f)
	}
}

func TestFrameGetSetAdd(t *testing.T) {
	f := fr("SEND", "", "a", "1", "b", "2", "a", "3")
	if v, ok := f.Get("a"); !ok || v != "1" {
		t.Errorf("Get(a) = %q, %v; want the first value", v, ok)
	}
	if _, ok := f.Get("c"); ok {
		t.Error("Get(c) found a missing header")
	}
	f.Set("a", "9")
	f.Set("c", "4")
	f.Add("b", "5")
	want := fr("SEND", "", "a", "9", "b", "2", "a", "3", "c", "4", "b", "5")
	if d := diffFrames([]*Frame{want}, []*Frame{f}); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestDecoderAllocations(t *testing.T) {
	raw := AppendFrame(nil, benchSendFrame(), V12)
	d := NewDecoder(Limits{})
	allocs := testing.AllocsPerRun(1000, func() {
		_ = d.Write(raw)
		if f, err := d.Next(); f == nil || err != nil {
			t.Fatalf("Next: %v, %v", f, err)
		}
	})
	// The frame with its headers, one string for the header text, the body.
	if allocs > 3 {
		t.Errorf("decoding a SEND frame makes %v allocations, want at most 3", allocs)
	}
}

func TestDecoderReleasesLargeBuffers(t *testing.T) {
	// An idle connection must not keep the memory of the largest frame it ever received.
	d := NewDecoder(Limits{})
	big := AppendFrame(nil, fr("SEND", strings.Repeat("x", 50<<10), "destination", "/a"), V12)
	for i := 0; i < len(big); i += 1000 {
		if err := d.Write(big[i:min(i+1000, len(big))]); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if d.Buffered() != 0 {
		t.Fatalf("Buffered = %d after the frame", d.Buffered())
	}
	if err := d.Write(nil); err != nil {
		t.Fatal(err)
	}
	if c := cap(d.buf) + cap(d.scratch); c > keepBufCap+keepScratchCap {
		t.Errorf("decoder keeps %d bytes of buffers after a large frame", c)
	}
}
