package scaleout

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
)

// TestBackingServicesRestart restarts Redis, then MariaDB, under steady traffic on two
// nodes. While each is down, requests that need it are answered 503 unavailable at once,
// with the documented error body and nothing of the cause; STOMP frames that need it get an
// ERROR unavailable (or the connection drops). When it is back, the nodes serve again by
// themselves, and every message acknowledged before, during or after is stored once.
func TestBackingServicesRestart(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	senders, receivers, room := c.trafficRoom(ctx, t, 2, "Through outages")
	owner := senders[0]
	tr := &traffic{}
	var sconns, rconns []*client.STOMPConn
	for i := range 2 {
		// Each receiver follows the room from the node its partner sender is not on.
		sconns = append(sconns, c.dialOn(t, senders[i], i))
		rconns = append(rconns, c.dialOn(t, receivers[i], 1-i))
		tr.senders = append(tr.senders, newSender(c, senders[i], room.ID, 20*time.Millisecond, 0))
		tr.receivers = append(tr.receivers, newReceiver(c, receivers[i], room.ID))
	}
	tr.start(ctx, sconns, rconns)
	awaitGrowth(t, "messages acknowledged before the outages", tr.acked, 30)

	t.Run("redis", func(t *testing.T) {
		presence := func() answer {
			return c.probe(ctx, "GET", "/api/v1/presence?user_ids="+receivers[0].ID, owner.Tokens.AccessToken)
		}
		login := func() answer {
			return c.probeJSON(ctx, "POST", "/api/v1/auth/login", "", map[string]string{"email": owner.Email, "password": owner.Password})
		}
		c.redis.kill()
		c.expectOutage(t, "GET /api/v1/presence", presence)
		// Log-in counts attempts in Redis, and refuses rather than lets them through uncounted.
		c.expectOutage(t, "POST /api/v1/auth/login", login)
		c.expectNotReady(t)
		// Nothing a STOMP client sends needs Redis: typing is relayed best-effort and its
		// throttle lets it through, so the frame is acknowledged rather than failed.
		c.expectSTOMPAccepted(ctx, t, owner, "typing", func(conn *client.STOMPConn) error {
			return conn.Typing(ctx, room.ID, true)
		})
		// Messages do not need Redis: they are stored and acknowledged all along, and
		// receivers fill what fan-out could not carry from history.
		awaitGrowth(t, "messages acknowledged while Redis is down", tr.acked, 20)

		c.redis.start(t)
		c.expectRecovery(t, "GET /api/v1/presence", presence)
		c.expectRecovery(t, "POST /api/v1/auth/login", login)
		c.expectReady(t)
		// Fan-out resumes: every receiver gets messages live again.
		for _, r := range tr.receivers {
			awaitGrowth(t, r.u.Name+"'s live messages after Redis is back", r.live.Load, 10)
		}
		// The nodes' presence heartbeats write their live connections back into the empty
		// Redis: a connected friend shows online again.
		waitFor(t, 25*time.Second, "receiver 1 online again after the Redis restart", nil, func() error {
			ps, err := owner.API.Presence(ctx, receivers[0].ID)
			if err != nil {
				return err
			}
			if len(ps) != 1 || !ps[0].Online {
				return fmt.Errorf("presence %+v", ps)
			}
			return nil
		})
	})

	t.Run("mariadb", func(t *testing.T) {
		rooms := func() answer { return c.probe(ctx, "GET", "/api/v1/rooms", owner.Tokens.AccessToken) }
		c.db.kill()
		c.expectOutage(t, "GET /api/v1/rooms", rooms)
		c.expectNotReady(t)
		c.expectSTOMPUnavailable(ctx, t, owner, "send", func(conn *client.STOMPConn) error {
			_, err := conn.SendMessage(ctx, room.ID, app.MessageInput{Body: "into the void", ClientMsgID: uuid.NewString()})
			return err
		})

		c.db.start(t)
		c.expectRecovery(t, "GET /api/v1/rooms", rooms)
		c.expectReady(t)
		awaitGrowth(t, "messages acknowledged after MariaDB is back", tr.acked, 30)
		for _, r := range tr.receivers {
			awaitGrowth(t, r.u.Name+"'s live messages after MariaDB is back", r.live.Load, 10)
		}
	})

	tr.finish(t, func() bool { return true })
	// The same node processes served throughout: nothing was restarted but Redis and MariaDB.
	if got := c.alive(); len(got) != len(c.nodes) {
		t.Errorf("nodes still running: %v of %d", got, len(c.nodes))
	}
	tr.verify(t, owner, room.ID)
	if logs := c.nodeLogs(); strings.Contains(logs, `"msg":"internal error"`) {
		var lines []string
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, `"msg":"internal error"`) {
				lines = append(lines, l)
			}
		}
		t.Errorf("the nodes answered %d requests with 500 internal during the outages:\n%s", len(lines), strings.Join(lines[:min(5, len(lines))], "\n"))
	}
}
