package realtime_test

import (
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/realtime"
	"github.com/plop-chat/plop/stomp"
)

func TestHeartBeatsKeepALiveConnectionAndASilentOneIsClosed(t *testing.T) {
	const hb = 200 * time.Millisecond
	n := startNode(t, realtime.Options{HeartBeat: hb})
	ana := n.newUser(t, "Ana")
	r := dialRaw(t, n.WSURL, rawOptions{})
	f := r.connect(ana.Token, "heart-beat:100,100")
	if v, _ := f.Get(stomp.HdrHeartBeat); v != "200,200" {
		t.Fatalf("CONNECTED heart-beat %q, want the server's 200,200", v)
	}

	// While the client sends an EOL every 100ms, the server keeps the connection and sends
	// its own heart-beats, about every 200ms.
	beats := 0
	var lastSent time.Time
	until := time.Now().Add(1200 * time.Millisecond)
	for time.Now().Before(until) {
		r.send("\n")
		lastSent = time.Now()
		op, p, err := r.readMsg(100 * time.Millisecond)
		switch {
		case err == nil && op == 0x1 && string(p) == "\n":
			beats++
		case err == nil:
			t.Fatalf("unexpected message %x %q", op, p)
		case r.closeCode != 0:
			t.Fatalf("closed (%d) while the client kept sending heart-beats", r.closeCode)
		}
	}
	if beats < 3 {
		t.Fatalf("%d server heart-beats in 1.2s, want about 6", beats)
	}

	// Then it falls silent: after twice the interval, the server closes.
	r.expectClosed()
	if waited := time.Since(lastSent); waited < 2*hb {
		t.Fatalf("closed after %v of silence, before twice the heart-beat interval", waited)
	}
	if r.closeCode != 1001 {
		t.Fatalf("close code %d, want 1001", r.closeCode)
	}
	eventually(t, "the timeout counted", func() bool { return counter(t, n, "plop_ws_heartbeat_timeouts_total") == 1 })
}

func TestGoClientKeepsTheConnectionAliveWithHeartBeats(t *testing.T) {
	n := startNode(t, realtime.Options{HeartBeat: 100 * time.Millisecond})
	ana := n.newUser(t, "Ana")
	c := n.dial(t, ana, client.WithHeartBeat(100*time.Millisecond, 100*time.Millisecond))
	// Ten read limits pass with no frame but heart-beats.
	select {
	case err := <-c.Err():
		t.Fatalf("the connection ended: %v", err)
	case <-time.After(2 * time.Second):
	}
	subscribe(t, c, client.UserQueue)
	if got := counter(t, n, "plop_ws_heartbeat_timeouts_total"); got != 0 {
		t.Fatalf("%v heart-beat timeouts", got)
	}
}

func TestAConnectionThatNeverSendsCONNECTIsClosed(t *testing.T) {
	n := startNode(t, realtime.Options{ConnectTimeout: 300 * time.Millisecond})
	r := dialRaw(t, n.WSURL, rawOptions{})
	start := time.Now()
	r.expectError(plop.EUnauthenticated)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the connect timeout", d)
	}
}

// counter returns the value of a counter or gauge of the node's real-time metrics.
func counter(tb testing.TB, n *node, name string) float64 {
	tb.Helper()
	mfs, err := n.Reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			if m.Gauge != nil {
				return m.Gauge.GetValue()
			}
		}
	}
	tb.Fatalf("no metric %s", name)
	return 0
}
