package realtime_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
