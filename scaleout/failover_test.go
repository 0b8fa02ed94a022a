package scaleout

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

// TestNodeKilledDuringTraffic kills one of three nodes with SIGKILL while three senders
// send to a group at a steady pace and three receivers follow it. The clients of the dead
// node reconnect through nginx to the others and fill the gap from history; in the end
// every acknowledged message is stored exactly once and every receiver has every message
// exactly once.
func TestNodeKilledDuringTraffic(t *testing.T) {
	t.Parallel()
	loseNodeDuringTraffic(t, "killed with SIGKILL", func(t *testing.T, nd *node) { nd.proc.kill() })
}

// TestNodeStoppedDuringTraffic is the planned restart: SIGTERM makes the node finish what
// it has in flight, close its WebSockets ("going away") and exit by itself, and its
// clients carry on through nginx on the others as after a crash.
func TestNodeStoppedDuringTraffic(t *testing.T) {
	t.Parallel()
	loseNodeDuringTraffic(t, "stopped with SIGTERM", func(t *testing.T, nd *node) {
		start := time.Now()
		if err := syscall.Kill(nd.proc.cmd.Process.Pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-nd.proc.done:
		case <-time.After(15 * time.Second): // PLOP_SHUTDOWN_TIMEOUT is 5s
			t.Fatalf("%s still running 15s after SIGTERM", nd.id)
		}
		if err := nd.proc.exitErr(); err != nil {
			t.Fatalf("%s exited with %v after SIGTERM, want status 0; log:\n%s", nd.id, err, nd.proc.tail(20))
		}
		t.Logf("%s exited with status 0, %s after SIGTERM", nd.id, time.Since(start).Round(time.Millisecond))
	})
}

// loseNodeDuringTraffic runs the traffic of TestNodeKilledDuringTraffic and takes node 1
// away with lose once it is under way.
func loseNodeDuringTraffic(t *testing.T, how string, lose func(*testing.T, *node)) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	senders, receivers, room := c.trafficRoom(ctx, t, 3, "Steady traffic")
	owner := senders[0]

	// Sender i and receiver i start on node i; node 1 (index 0) is the one that dies.
	const perSender = 150
	tr := &traffic{}
	var sconns, rconns []*client.STOMPConn
	for i := range 3 {
		sconns = append(sconns, c.dialOn(t, senders[i], i))
		rconns = append(rconns, c.dialOn(t, receivers[i], i))
		tr.senders = append(tr.senders, newSender(c, senders[i], room.ID, 15*time.Millisecond, perSender))
		tr.receivers = append(tr.receivers, newReceiver(c, receivers[i], room.ID))
	}
	tr.start(ctx, sconns, rconns)

	waitFor(t, 30*time.Second, "traffic under way", nil, func() error {
		if n := tr.acked(); n < 60 {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	})
	victim := c.nodes[0]
	before := tr.acked()
	lose(t, victim)
	t.Logf("%s %s after %d acknowledged messages", victim.id, how, before)

	tr.finish(t, func() bool {
		for _, s := range tr.senders {
			if s.acked.Load() < perSender {
				return false
			}
		}
		return true
	})
	if tr.acked() <= before {
		t.Fatalf("no message was acknowledged after %s was %s", victim.id, how)
	}
	// The dead node's clients came back through nginx; the others never left.
	for i, s := range tr.senders {
		if got := s.reconnects.Load(); (i == 0) != (got > 0) {
			t.Errorf("sender %s reconnected %d times; only the dead node's clients should", s.u.Name, got)
		}
	}
	for i, r := range tr.receivers {
		if got := r.reconnects.Load(); (i == 0) != (got > 0) {
			t.Errorf("receiver %s reconnected %d times; only the dead node's clients should", r.u.Name, got)
		}
	}
	if got := c.alive(); len(got) != 2 {
		t.Fatalf("nodes alive at the end: %v, want the two survivors", got)
	}
	tr.verify(t, owner, room.ID)
}

// trafficRoom signs up n senders and n receivers and puts them all in one group owned by the
// first sender, who befriends the others first.
func (c *cluster) trafficRoom(ctx context.Context, t *testing.T, n int, name string) (senders, receivers []*user, room plop.Room) {
	t.Helper()
	for i := range n {
		senders = append(senders, c.signup(t, fmt.Sprintf("Sender%d", i+1)))
		receivers = append(receivers, c.signup(t, fmt.Sprintf("Receiver%d", i+1)))
	}
	owner := senders[0]
	var members []string
	for _, u := range append(senders[1:], receivers...) {
		c.befriend(t, owner, u)
		members = append(members, u.ID)
	}
	room, err := owner.API.CreateGroupRoom(ctx, name, members...)
	if err != nil {
		t.Fatal(err)
	}
	return senders, receivers, room
}
