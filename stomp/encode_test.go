package stomp

import (
	"strconv"
	"testing"
)

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		version string
		f       *Frame
		want    string
	}{
		{"no headers no body", V12, fr("DISCONNECT", ""), "DISCONNECT\n\n\x00"},
		{"content-length added for a body", V12, fr("SEND", "hi", "destination", "/a"),
			"SEND\ndestination:/a\ncontent-length:2\n\nhi\x00"},
		{"content-length kept when set", V12, fr("SEND", "hi", "content-length", "2", "destination", "/a"),
			"SEND\ncontent-length:2\ndestination:/a\n\nhi\x00"},
		{"no content-length for an empty body", V12, fr("RECEIPT", "", "receipt-id", "9"),
			"RECEIPT\nreceipt-id:9\n\n\x00"},
		{"1.2 escaping", V12, fr("MESSAGE", "", "k:x", "a\nb\rc\\d:e"),
			"MESSAGE\nk\\cx:a\\nb\\rc\\\\d\\ce\n\n\x00"},
		{"1.1 escaping leaves CR", V11, fr("MESSAGE", "", "k:x", "a\nb\rc\\d:e"),
			"MESSAGE\nk\\cx:a\\nb\rc\\\\d\\ce\n\n\x00"},
		{"1.0 is not escaped, LF cannot break a line", V10, fr("MESSAGE", "", "k", "a\nb\\c:d\r"),
			"MESSAGE\nk:a b\\c:d\r\n\n\x00"},
		{"CONNECTED is not escaped in 1.2", V12, fr("CONNECTED", "", "version", "1.2", "server", "plop\\1:x\ny\rz"),
			"CONNECTED\nversion:1.2\nserver:plop\\1:x y z\n\n\x00"},
		{"CONNECT is not escaped in 1.1", V11, fr("CONNECT", "", "passcode", "a\\b:c\rd"),
			"CONNECT\npasscode:a\\b:c\rd\n\n\x00"},
		{"body with NULs", V12, fr("SEND", "a\x00b"), "SEND\ncontent-length:3\n\na\x00b\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendFrame([]byte("prefix"), tc.f, tc.version))
			if got != "prefix"+tc.want {
				t.Errorf("got  %q\nwant %q", got, "prefix"+tc.want)
			}
		})
	}
}

func TestAppendMessage(t *testing.T) {
	got := string(AppendMessage(nil, "/rooms/a:b", "sub-0", "m\\1",
		[]Header{{"content-type", "application/json"}, {"content-length", "999"}, {"seq", "4\n2"}},
		[]byte(`{"x":1}`)))
	want := "MESSAGE\ndestination:/rooms/a\\cb\nsubscription:sub-0\nmessage-id:m\\\\1\n" +
		"content-type:application/json\nseq:4\\n2\ncontent-length:7\n\n{\"x\":1}\x00"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = string(AppendMessage(nil, "/d", "s", "m", nil, nil))
	if want := "MESSAGE\ndestination:/d\nsubscription:s\nmessage-id:m\ncontent-length:0\n\n\x00"; got != want {
		t.Errorf("empty body: got %q, want %q", got, want)
	}
}

func TestAppendMessageDecodesAsFrame(t *testing.T) {
	raw := AppendMessage(nil, "/rooms/1", "0", "id:7", []Header{{"content-type", "text/plain"}}, []byte("x\x00y"))
	got, err := decodeChunks(t, Limits{}, V12, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := fr("MESSAGE", "x\x00y", "destination", "/rooms/1", "subscription", "0", "message-id", "id:7",
		"content-type", "text/plain", "content-length", "3")
	if d := diffFrames([]*Frame{want}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, v := range []string{V10, V11, V12} {
		f := fr("SEND", "body\x00with nul", "destination", "/rooms/1", "x-note", "colon: and \\ backslash")
		if v != V10 {
			f.Add("multi\nline", "a\nb")
		}
		raw := AppendFrame(nil, f, v)
		got, err := decodeChunks(t, Limits{}, v, raw)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		f.Add(HdrContentLength, strconv.Itoa(len(f.Body)))
		if d := diffFrames([]*Frame{f}, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", v, d)
		}
	}
}

func TestEncodersDoNotAllocate(t *testing.T) {
	f := benchSendFrame()
	dst := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { dst = AppendFrame(dst[:0], f, V12) }); n != 0 {
		t.Errorf("AppendFrame allocates %v times", n)
	}
	m := benchMessage()
	if n := testing.AllocsPerRun(100, func() {
		dst = AppendMessage(dst[:0], m.dest, m.sub, m.id, m.extra, m.body)
	}); n != 0 {
		t.Errorf("AppendMessage allocates %v times", n)
	}
}
