package realtime_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/realtime"
	"github.com/plop-chat/plop/stomp"
)

func TestASlowConsumerIsCutOffWhileOthersGetEverything(t *testing.T) {
	n := startNode(t, realtime.Options{
		OutboundQueue:     64,
		SocketWriteBuffer: 64 << 10,
		WriteTimeout:      500 * time.Millisecond,
	})
	ana, bo, cy, sid := n.newUser(t, "Ana"), n.newUser(t, "Bo"), n.newUser(t, "Cy"), n.newUser(t, "Sid")
	room := n.group(t, ana, bo, cy, sid)
	ca := n.dial(t, ana)
	subs := []*client.Subscription{
		subscribe(t, n.dial(t, bo), client.RoomTopic(room)),
		subscribe(t, n.dial(t, cy), client.RoomTopic(room)),
	}
	// Sid subscribes, then never reads again.
	slow := dialRaw(t, n.WSURL, rawOptions{rcvbuf: 4096})
	slow.connect(sid.Token)
	slow.send("SUBSCRIBE\nid:1\ndestination:" + client.RoomTopic(room) + "\nreceipt:s\n\n\x00")
	if f := slow.frame(5 * time.Second); f == nil || f.Command != stomp.CmdReceipt {
		t.Fatalf("want RECEIPT, got %+v", f)
	}

	const burst = 150
	body := strings.Repeat("a fairly long message ", 180) // about 4 KB
	start := time.Now()
	for i := range burst {
		send(t, ca, room, fmt.Sprintf("%d %s", i, body), fmt.Sprintf("burst-%d", i))
	}
	t.Logf("%d messages sent in %v", burst, time.Since(start))

	for _, s := range subs {
		for seq := int64(1); seq <= burst; seq++ {
			if m := decodeMessage(t, next(t, s)); m.Seq != seq {
				t.Fatalf("got seq %d, want %d", m.Seq, seq)
			}
		}
	}
	eventually(t, "the slow consumer counted", func() bool { return counter(t, n, "plop_ws_slow_consumers_total") == 1 })

	// What Sid's socket still holds ends early, with the close.
	got := 0
	for {
		f := slow.frame(5 * time.Second)
		if f == nil {
			break
		}
		if f.Command == stomp.CmdMessage {
			got++
		}
	}
	if slow.timedOut() {
		t.Fatal("the slow consumer's connection was not closed")
	}
	if got >= burst {
		t.Fatalf("the slow consumer got all %d messages", got)
	}
	t.Logf("the slow consumer got %d of %d messages, then close code %d", got, burst, slow.closeCode)
}

// A reader that falls behind for a while, but not for WriteTimeout, gets every message whole
// and in order once it reads again, however the writes to it were cut up.
func TestALateReaderGetsEveryMessageWhole(t *testing.T) {
	n := startNode(t, realtime.Options{
		OutboundQueue:     1024,
		SocketWriteBuffer: 8 << 10,
		WriteTimeout:      10 * time.Second,
	})
	ana, sid := n.newUser(t, "Ana"), n.newUser(t, "Sid")
	room := n.group(t, ana, sid)
	ca := n.dial(t, ana)
	late := dialRaw(t, n.WSURL, rawOptions{rcvbuf: 4096})
	late.connect(sid.Token)
	late.send("SUBSCRIBE\nid:1\ndestination:" + client.RoomTopic(room) + "\nreceipt:s\n\n\x00")
	if f := late.frame(5 * time.Second); f == nil || f.Command != stomp.CmdReceipt {
		t.Fatalf("want RECEIPT, got %+v", f)
	}
	const count = 40
	body := strings.Repeat("a fairly long message ", 180) // about 4 KB: far more than the buffers
	for i := range count {
		send(t, ca, room, fmt.Sprintf("%d %s", i, body), fmt.Sprintf("late-%d", i))
	}
	for i := range count {
		f := late.frame(5 * time.Second)
		if f == nil || f.Command != stomp.CmdMessage {
			t.Fatalf("message %d: got %+v (%v)", i, f, late.lastErr)
		}
		var ev struct {
			Message plop.Message `json:"message"`
		}
		if err := json.Unmarshal(f.Body, &ev); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := fmt.Sprintf("%d %s", i, body); ev.Message.Seq != int64(i+1) || ev.Message.Body != want {
			t.Fatalf("message %d: seq %d, body of %d bytes starting %.12q", i, ev.Message.Seq, len(ev.Message.Body), ev.Message.Body)
		}
	}
	if c := counter(t, n, "plop_ws_slow_consumers_total"); c != 0 {
		t.Fatalf("%v slow consumers counted", c)
	}
}
