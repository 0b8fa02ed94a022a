package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/sqlstore/sqlstoretest"
)

// forEachURL runs body once per supported database with the url of a fresh empty database,
// for tests that open it several times, as several nodes would.
func forEachURL(t *testing.T, body func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		body(t, "sqlite://"+filepath.Join(t.TempDir(), "plop.db"))
	})
	t.Run("mysql", func(t *testing.T) {
		body(t, sqlstoretest.MySQLURL(t))
	})
}

// openNodes opens url n times: n separate pools, as n nodes have.
func openNodes(tb testing.TB, url string, n int) []*DB {
	tb.Helper()
	nodes := make([]*DB, n)
	for i := range nodes {
		nodes[i] = mustOpenURL(tb, url)
	}
	return nodes
}

func TestSeqAcrossNodes(t *testing.T) {
	forEachURL(t, func(t *testing.T, url string) {
		const nodeCount, perNode, each = 4, 8, 25
		const total = nodeCount * perNode * each
		nodes := openNodes(t, url, nodeCount)
		ctx := context.Background()
		senders := make([]plop.User, perNode)
		for i := range senders {
			senders[i] = mustUser(t, nodes[0], fmt.Sprintf("Node sender %d", i))
		}
		r := mustRoom(t, nodes[0], t0, senders...)

		type sent struct {
			clientID string
			seq      int64
		}
		results := make(chan sent, total)
		errs := make(chan error, nodeCount*perNode)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for n, db := range nodes {
			for g := range perNode {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for i := range each {
						id := fmt.Sprintf("n%d-g%d-%d", n, g, i)
						m, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: senders[g].ID,
							Body: id, ClientMsgID: id, CreatedAt: t0})
						if err != nil || !created {
							errs <- fmt.Errorf("node %d sender %d message %d: created=%v err=%v", n, g, i, created, err)
							return
						}
						results <- sent{id, m.Seq}
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		close(results)
		for err := range errs {
			t.Fatal(err)
		}

		// Every acknowledged seq is distinct and they are exactly 1..total.
		bySeq := map[int64]string{}
		for s := range results {
			if other, dup := bySeq[s.seq]; dup {
				t.Fatalf("seq %d given to both %s and %s", s.seq, other, s.clientID)
			}
			bySeq[s.seq] = s.clientID
		}
		for seq := int64(1); seq <= total; seq++ {
			if _, ok := bySeq[seq]; !ok {
				t.Fatalf("seq %d was never given out (%d messages acknowledged)", seq, len(bySeq))
			}
		}
		if len(bySeq) != total {
			t.Fatalf("%d seqs acknowledged, want %d", len(bySeq), total)
		}

		// The stored history, read from another node, says the same.
		stored := 0
		for after := int64(0); after < total; {
			// The window (after, after+MaxPageSize]: Messages pages forward only from a
			// seq > 0, so bound it from above too.
			page, err := nodes[3].Messages(ctx, r.ID, after+plop.MaxPageSize+1, after, plop.MaxPageSize)
			must(t, err)
			if len(page) == 0 {
				t.Fatalf("no messages after seq %d", after)
			}
			for _, m := range page {
				stored++
				if m.Seq != after+1 {
					t.Fatalf("history jumps from seq %d to %d", after, m.Seq)
				}
				if bySeq[m.Seq] != m.ClientMsgID || m.Body != m.ClientMsgID {
					t.Fatalf("seq %d holds %q, acknowledged as %q", m.Seq, m.ClientMsgID, bySeq[m.Seq])
				}
				after = m.Seq
			}
		}
		room, err := nodes[2].Room(ctx, r.ID, senders[0].ID)
		must(t, err)
		if stored != total || room.LastSeq != total {
			t.Fatalf("stored %d messages, room last_seq %d; want %d", stored, room.LastSeq, total)
		}
		t.Logf("%d messages from %d nodes x %d senders: seqs 1..%d, no gaps, no duplicates", total, nodeCount, perNode, total)
	})
}

func TestIdempotentRetryAcrossNodes(t *testing.T) {
	forEachURL(t, func(t *testing.T, url string) {
		const rounds = 40
		nodes := openNodes(t, url, 2)
		ctx := context.Background()
		a, b := mustUser(t, nodes[0], "Retry"), mustUser(t, nodes[0], "Reader")
		r := mustRoom(t, nodes[0], t0, a, b)
		for round := range rounds {
			// The same send reaches two nodes at once (a client retrying through another
			// node while the first attempt is still in flight).
			id := fmt.Sprintf("retry-%d", round)
			var got [2]plop.Message
			var created [2]bool
			var errs [2]error
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, db := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got[i], created[i], errs[i] = db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID,
						Body: fmt.Sprintf("from node %d", i), ClientMsgID: id, CreatedAt: t0})
				}()
			}
			close(start)
			wg.Wait()
			must(t, errs[0])
			must(t, errs[1])
			if created[0] == created[1] {
				t.Fatalf("round %d: created = %v, want exactly one true", round, created)
			}
			if got[0].ID != got[1].ID || got[0].Seq != got[1].Seq || got[0].Body != got[1].Body {
				t.Fatalf("round %d: the two answers differ: %+v / %+v", round, got[0], got[1])
			}
			if got[0].Seq != int64(round+1) {
				t.Fatalf("round %d: seq %d, want %d (a losing retry must not use a seq)", round, got[0].Seq, round+1)
			}
		}
		page, err := nodes[1].Messages(ctx, r.ID, 0, 0, plop.MaxPageSize)
		must(t, err)
		if len(page) != rounds {
			t.Fatalf("%d messages stored, want %d", len(page), rounds)
		}
	})
}

func TestMigrateConcurrently(t *testing.T) {
	forEachURL(t, func(t *testing.T, url string) {
		const nodeCount = 4
		ctx := context.Background()
		dbs := make([]*DB, nodeCount)
		errs := make([]error, nodeCount)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				dbs[i], errs[i] = Open(ctx, url, quietLogger())
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("node %d: Open: %v", i, err)
			}
			t.Cleanup(func() { dbs[i].Close() })
		}
		list, err := loadMigrations(dbs[0].d.name)
		must(t, err)
		var n int
		must(t, dbs[0].r.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n))
		if n != len(list) {
			t.Fatalf("schema_migrations has %d rows after %d nodes started at once, want %d", n, nodeCount, len(list))
		}
		// Every node works on the one schema.
		u := mustUser(t, dbs[1], "Migrated")
		for i, db := range dbs {
			if _, err := db.UserByID(ctx, u.ID); err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
		}
	})
}
