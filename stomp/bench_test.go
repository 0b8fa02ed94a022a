package stomp

import (
	"bytes"
	"io"
	"strings"
	"testing"

	gostomp "github.com/go-stomp/stomp/v3/frame"
)

// A typical SEND from the web client: eight headers and a 200-byte JSON body.
var benchBody = []byte(`{"body":"Hello everyone, the meeting moved to 3pm. See the updated agenda in the pinned message.","client_msg_id":"5f0c3a9e-2b7d-4c1e-9a8f-0d6e4b3c2a19","reply_to":1842}`)

func benchSendHeaders() []string {
	return []string{
		"destination", "/rooms/0190a4c2-7d1e-7b3a-9f2e-3c4d5e6f7a8b",
		"content-type", "application/json",
		"content-length", itoa(len(benchBody)),
		"receipt", "send-1842",
		"client-msg-id", "5f0c3a9e-2b7d-4c1e-9a8f-0d6e4b3c2a19",
		"x-request-id", "01J8Z3K7Q4W5E6R7T8Y9U0I1O2",
		"priority", "normal",
		"accept-language", "en-GB",
	}
}

func benchSendFrame() *Frame { return fr(CmdSend, string(benchBody), benchSendHeaders()...) }

type benchMsg struct {
	dest, sub, id string
	extra         []Header
	body          []byte
}

func benchMessage() benchMsg {
	return benchMsg{
		dest: "/rooms/0190a4c2-7d1e-7b3a-9f2e-3c4d5e6f7a8b", sub: "sub-3", id: "0190a4c2-7d1e-7b3a:1842",
		extra: []Header{{"content-type", "application/json"}, {"seq", "1842"}, {"sender", "0190a4c2-1111-7b3a-9f2e-3c4d5e6f7a8b"}},
		body:  benchBody,
	}
}

func benchMessageRaw() []byte {
	m := benchMessage()
	return AppendMessage(nil, m.dest, m.sub, m.id, m.extra, m.body)
}

func goStompFrame(cmd string, body []byte, kv ...string) *gostomp.Frame {
	f := gostomp.New(cmd, kv...)
	f.Body = body
	return f
}

// loopReader yields the same bytes forever, like a connection carrying one frame after another.
type loopReader struct {
	b   []byte
	off int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}

func benchDecode(b *testing.B, raw []byte) {
	d := NewDecoder(Limits{})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Write(raw); err != nil {
			b.Fatal(err)
		}
		if f, err := d.Next(); f == nil || err != nil {
			b.Fatal(f, err)
		}
	}
}

func benchGoStompDecode(b *testing.B, raw []byte) {
	r := gostomp.NewReader(&loopReader{b: raw})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if f, err := r.Read(); f == nil || err != nil {
			b.Fatal(f, err)
		}
	}
}

func BenchmarkDecodeSend(b *testing.B) { benchDecode(b, AppendFrame(nil, benchSendFrame(), V12)) }
func BenchmarkGoStompDecodeSend(b *testing.B) {
	benchGoStompDecode(b, AppendFrame(nil, benchSendFrame(), V12))
}
func BenchmarkDecodeMessage(b *testing.B)        { benchDecode(b, benchMessageRaw()) }
func BenchmarkGoStompDecodeMessage(b *testing.B) { benchGoStompDecode(b, benchMessageRaw()) }

func BenchmarkEncodeSend(b *testing.B) {
	f := benchSendFrame()
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendFrame(dst[:0], f, V12)
	}
	b.SetBytes(int64(len(dst)))
}

func BenchmarkGoStompEncodeSend(b *testing.B) {
	f := goStompFrame(CmdSend, benchBody, benchSendHeaders()...)
	w := gostomp.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMessage(b *testing.B) {
	m := benchMessage()
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendMessage(dst[:0], m.dest, m.sub, m.id, m.extra, m.body)
	}
	b.SetBytes(int64(len(dst)))
}

// BenchmarkGoStompEncodeMessage builds the frame each time, as a fan-out must for every
// subscriber (the subscription header differs).
func BenchmarkGoStompEncodeMessage(b *testing.B) {
	m := benchMessage()
	w := gostomp.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		f := goStompFrame(CmdMessage, m.body, "destination", m.dest, "subscription", m.sub, "message-id", m.id,
			"content-type", "application/json", "seq", "1842", "sender", m.extra[2].Value)
		if err := w.Write(f); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchFramesDecodeAlike(t *testing.T) {
	// Both codecs must read the benchmark frames the same way, or the comparison means nothing.
	for _, raw := range [][]byte{AppendFrame(nil, benchSendFrame(), V12), benchMessageRaw()} {
		mine, err := decodeChunks(t, Limits{}, V12, raw)
		if err != nil || len(mine) != 1 {
			t.Fatalf("decode: %v, %v", mine, err)
		}
		theirs, err := gostomp.NewReader(bytes.NewReader(raw)).Read()
		if err != nil {
			t.Fatal(err)
		}
		if theirs.Command != mine[0].Command || !bytes.Equal(theirs.Body, mine[0].Body) || theirs.Header.Len() != len(mine[0].Headers) {
			t.Fatalf("go-stomp read %s %d headers %q", theirs.Command, theirs.Header.Len(), theirs.Body)
		}
		for i, h := range mine[0].Headers {
			if k, v := theirs.Header.GetAt(i); k != h.Key || v != h.Value {
				t.Errorf("header %d: go-stomp %s:%s, here %s:%s", i, k, v, h.Key, h.Value)
			}
		}
		if !strings.HasPrefix(string(raw), mine[0].Command+"\n") {
			t.Errorf("frame does not start with its command")
		}
	}
}
