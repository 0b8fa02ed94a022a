package redis

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plop-chat/plop"
)

var codecCases = []plop.Event{
	{},
	{Type: plop.EventMessageCreated, RoomID: "room-1", Seq: 1, Body: []byte(`{"type":"message.created"}`)},
	{Type: plop.EventTyping, RoomID: "r", Seq: -42, UserIDs: []string{"a", "", "ccc"}, ExceptConn: "conn-7", Body: []byte("\x00\xff")},
	{Type: plop.EventPresence, UserIDs: []string{"u"}, Seq: 1 << 62},
}

func TestEventCodecRoundTrip(t *testing.T) {
	for _, e := range codecCases {
		got, err := decodeEvent(string(appendEvent(nil, e)))
		if err != nil {
			t.Fatalf("decode %+v: %v", e, err)
		}
		if diff := cmp.Diff(e, got); diff != "" {
			t.Fatalf("round trip differs (-want +got):\n%s", diff)
		}
	}
}

func TestEventCodecRejectsGarbage(t *testing.T) {
	good := string(appendEvent(nil, codecCases[2]))
	for _, msg := range []string{"", "{}", "\x02" + good[1:], good[:len(good)-1], good + "x", "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"} {
		if _, err := decodeEvent(msg); err == nil {
			t.Errorf("decodeEvent(%q) succeeded", msg)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, e := range codecCases {
		f.Add(string(appendEvent(nil, e)))
	}
	f.Fuzz(func(t *testing.T, msg string) {
		e, err := decodeEvent(msg)
		if err != nil {
			return
		}
		// Whatever decodes survives encoding and decoding again unchanged.
		again, err := decodeEvent(string(appendEvent(nil, e)))
		if err != nil {
			t.Fatalf("re-encoding the decoding of %q: %v", msg, err)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Fatalf("decoding of %q changed on a round trip (-first +second):\n%s", msg, diff)
		}
	})
}
