package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plop-chat/plop"
)

const (
	testLease    = time.Minute
	testDelay    = 2 * time.Second
	testCooldown = time.Minute
)

// mustClaimJobs claims every available job at now under claim.
func mustClaimJobs(tb testing.TB, db *DB, claim string, now time.Time) []plop.PushJob {
	tb.Helper()
	jobs, err := db.ClaimPushJobs(context.Background(), claim, now, testLease, 100)
	if err != nil {
		tb.Fatalf("ClaimPushJobs: %v", err)
	}
	return jobs
}

// foldAll claims every available job at now and folds each for recipients.
func foldAll(tb testing.TB, db *DB, now time.Time, recipients ...string) {
	tb.Helper()
	jobs := mustClaimJobs(tb, db, "fold-all", now)
	folds := make([]plop.PushFold, len(jobs))
	for i, j := range jobs {
		pm, err := db.PushMessage(context.Background(), j.RoomID, j.Seq)
		if err != nil {
			tb.Fatalf("PushMessage: %v", err)
		}
		folds[i] = plop.PushFold{JobID: j.ID, RoomID: j.RoomID, Seq: j.Seq, SenderID: pm.SenderID, UserIDs: recipients,
			Title: pm.SenderName, Body: pm.Body}
	}
	must(tb, db.FoldPushJobs(context.Background(), "fold-all", folds, now, testDelay, testCooldown))
}

// mustClaimPushes claims every notification due at now under claim.
func mustClaimPushes(tb testing.TB, db *DB, claim string, now time.Time) []plop.PendingPush {
	tb.Helper()
	ps, err := db.ClaimPushes(context.Background(), claim, now, testLease, 100)
	if err != nil {
		tb.Fatalf("ClaimPushes: %v", err)
	}
	return ps
}

func wantBacklog(tb testing.TB, db *DB, jobs, waiting int) {
	tb.Helper()
	j, w, err := db.PushBacklog(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if j != jobs || w != waiting {
		tb.Fatalf("backlog: %d jobs and %d waiting notifications, want %d and %d", j, w, jobs, waiting)
	}
}

func TestPushJobCommitsWithTheMessage(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a, b := mustUser(t, db, "Ana"), mustUser(t, db, "Ben")
		r := mustRoom(t, db, t0, a, b)
		m := plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "hi", ClientMsgID: "c-1", CreatedAt: t0}
		for range 2 { // the retry with the same client id stores nothing, and queues nothing
			mm := m
			if _, _, err := db.CreateMessage(ctx, &mm); err != nil {
				t.Fatal(err)
			}
		}
		// A message that is not stored queues no job.
		_, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: "no-such-room", SenderID: a.ID, Body: "lost", CreatedAt: t0})
		wantCode(t, err, plop.ENotFound)
		wantBacklog(t, db, 1, 0)

		jobs := mustClaimJobs(t, db, "claim-1", t0)
		want := []plop.PushJob{{ID: jobs[0].ID, RoomID: r.ID, Seq: 1, CreatedAt: t0}}
		if diff := cmp.Diff(want, jobs); diff != "" {
			t.Fatalf("claimed jobs (-want +got):\n%s", diff)
		}
	})
}

func TestPushJobLeases(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a, b := mustUser(t, db, "Ana"), mustUser(t, db, "Ben")
		r := mustRoom(t, db, t0, a, b)
		mustSend(t, db, r.ID, a.ID, "one", t0)

		first := mustClaimJobs(t, db, "node-1", t0)
		if len(first) != 1 {
			t.Fatalf("first claim got %d jobs", len(first))
		}
		if again := mustClaimJobs(t, db, "node-2", t0.Add(testLease-time.Millisecond)); len(again) != 0 {
			t.Fatalf("a leased job was claimed again: %+v", again)
		}
		// node-1 dies; once its lease ran out node-2 takes the job over, and node-1 can no
		// longer fold it.
		second := mustClaimJobs(t, db, "node-2", t0.Add(testLease))
		if len(second) != 1 || second[0].ID != first[0].ID {
			t.Fatalf("after the lease: %+v", second)
		}
		fold := []plop.PushFold{{JobID: first[0].ID, RoomID: r.ID, Seq: 1, SenderID: a.ID, UserIDs: []string{b.ID}, Title: "Ana", Body: "one"}}
		wantCode(t, db.FoldPushJobs(ctx, "node-1", fold, t0, testDelay, testCooldown), plop.EConflict)
		wantBacklog(t, db, 1, 0)
		must(t, db.FoldPushJobs(ctx, "node-2", fold, t0, testDelay, testCooldown))
		wantBacklog(t, db, 0, 1)

		// A job given back waits for its backoff and counts the attempt.
		mustSend(t, db, r.ID, a.ID, "two", t0)
		j := mustClaimJobs(t, db, "node-3", t0)
		must(t, db.RetryPushJob(ctx, "node-3", j[0].ID, t0.Add(5*time.Second)))
		if got := mustClaimJobs(t, db, "node-3", t0.Add(4*time.Second)); len(got) != 0 {
			t.Fatalf("claimed before its backoff: %+v", got)
		}
		if got := mustClaimJobs(t, db, "node-3", t0.Add(5*time.Second)); len(got) != 1 || got[0].Attempts != 1 {
			t.Fatalf("after the backoff: %+v", got)
		}
	})
}

// TestPushClaimsAcrossNodes has several nodes claim and fold one queue at once: every job is
// folded exactly once.
func TestPushClaimsAcrossNodes(t *testing.T) {
	forEachURL(t, func(t *testing.T, url string) {
		const nodeCount, messages = 3, 120
		nodes := openNodes(t, url, nodeCount)
		ctx := context.Background()
		a, b := mustUser(t, nodes[0], "Ana"), mustUser(t, nodes[0], "Ben")
		r := mustRoom(t, nodes[0], t0, a, b)
		for i := range messages {
			mustSend(t, nodes[0], r.ID, a.ID, fmt.Sprint(i), t0)
		}
		var mu sync.Mutex
		folded := map[int64]int{}
		var wg sync.WaitGroup
		for n, db := range nodes {
			for w := range 2 {
				wg.Go(func() {
					for round := 0; ; round++ {
						claim := fmt.Sprintf("node-%d-%d-%d", n, w, round)
						jobs, err := db.ClaimPushJobs(ctx, claim, t0, testLease, 7)
						if err != nil {
							t.Error(err)
							return
						}
						if len(jobs) == 0 {
							return
						}
						folds := make([]plop.PushFold, len(jobs))
						for i, j := range jobs {
							folds[i] = plop.PushFold{JobID: j.ID, RoomID: j.RoomID, Seq: j.Seq, SenderID: a.ID, UserIDs: []string{b.ID}, Title: "Ana", Body: "x"}
						}
						if err := db.FoldPushJobs(ctx, claim, folds, t0, testDelay, testCooldown); err != nil {
							t.Errorf("fold: %v", err)
							return
						}
						mu.Lock()
						for _, j := range jobs {
							folded[j.Seq]++
						}
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		if len(folded) != messages {
			t.Fatalf("%d of %d messages folded", len(folded), messages)
		}
		for seq, n := range folded {
			if n != 1 {
				t.Errorf("message %d folded %d times", seq, n)
			}
		}
		wantBacklog(t, nodes[0], 0, 1)
		ps := mustClaimPushes(t, nodes[0], "send", t0.Add(testDelay))
		if len(ps) != 1 || ps[0].Count != messages || ps[0].LastSeq != messages {
			t.Fatalf("pending pushes %+v, want one counting %d", ps, messages)
		}
	})
}

func TestPushCollapsesUntilRead(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a, b := mustUser(t, db, "Ana"), mustUser(t, db, "Ben")
		r := mustRoom(t, db, t0, a, b)
		for i := 1; i <= 5; i++ {
			mustSend(t, db, r.ID, a.ID, fmt.Sprintf("message %d", i), t0)
		}
		foldAll(t, db, t0, b.ID)
		wantBacklog(t, db, 0, 1)

		if ps := mustClaimPushes(t, db, "early", t0.Add(testDelay-time.Millisecond)); len(ps) != 0 {
			t.Fatalf("claimed before the coalescing delay: %+v", ps)
		}
		sendAt := t0.Add(testDelay)
		ps := mustClaimPushes(t, db, "w-1", sendAt)
		want := []plop.PendingPush{{UserID: b.ID, RoomID: r.ID, Count: 5, LastSeq: 5, Title: "Ana", Body: "message 5"}}
		if len(ps) == 1 {
			want[0].ID = ps[0].ID
		}
		if diff := cmp.Diff(want, ps); diff != "" {
			t.Fatalf("due notifications (-want +got):\n%s", diff)
		}
		// While w-1 sends, a sixth message arrives; it is folded in, and due again after the
		// cooldown once w-1 is done.
		mustSend(t, db, r.ID, a.ID, "message 6", sendAt)
		foldAll(t, db, sendAt, b.ID)
		must(t, db.FinishPush(ctx, "w-1", ps[0], true, sendAt, sendAt.Add(testCooldown)))
		if got := mustClaimPushes(t, db, "w-2", sendAt.Add(testCooldown-time.Millisecond)); len(got) != 0 {
			t.Fatalf("claimed within the cooldown: %+v", got)
		}
		ps = mustClaimPushes(t, db, "w-2", sendAt.Add(testCooldown))
		if len(ps) != 1 || ps[0].Count != 6 || ps[0].LastSeq != 6 || ps[0].Body != "message 6" {
			t.Fatalf("after the cooldown: %+v", ps)
		}
		later := sendAt.Add(testCooldown)
		must(t, db.FinishPush(ctx, "w-2", ps[0], true, later, later.Add(testCooldown)))
		wantBacklog(t, db, 0, 0)

		// A message within the cooldown of the last push waits for its end.
		mustSend(t, db, r.ID, a.ID, "message 7", later.Add(time.Second))
		foldAll(t, db, later.Add(time.Second), b.ID)
		if got := mustClaimPushes(t, db, "w-3", later.Add(testCooldown-time.Millisecond)); len(got) != 0 {
			t.Fatalf("claimed within the cooldown: %+v", got)
		}
		// Reading up to 6 leaves one unread message; reading everything clears it.
		_, err := db.MarkRead(ctx, r.ID, b.ID, 6)
		must(t, err)
		ps = mustClaimPushes(t, db, "w-3", later.Add(testCooldown))
		if len(ps) != 1 || ps[0].Count != 1 {
			t.Fatalf("after reading up to 6: %+v", ps)
		}
		_, err = db.MarkRead(ctx, r.ID, b.ID, 7)
		must(t, err)
		wantBacklog(t, db, 0, 0)
		// Its sender's finish finds nothing to record: the user read the room meanwhile.
		must(t, db.FinishPush(ctx, "w-3", ps[0], true, later, later))
		wantBacklog(t, db, 0, 0)

		// After a read, the next message starts a fresh notification after the short delay.
		mustSend(t, db, r.ID, a.ID, "message 8", t0.Add(time.Hour))
		foldAll(t, db, t0.Add(time.Hour), b.ID)
		ps = mustClaimPushes(t, db, "w-4", t0.Add(time.Hour+testDelay))
		if len(ps) != 1 || ps[0].Count != 1 || ps[0].LastSeq != 8 {
			t.Fatalf("after the read: %+v", ps)
		}
		// A push service that is down: the notification comes back at the given time.
		must(t, db.RetryPush(ctx, "w-4", ps[0], t0.Add(2*time.Hour)))
		ps = mustClaimPushes(t, db, "w-5", t0.Add(2*time.Hour))
		if len(ps) != 1 || ps[0].Attempts != 1 {
			t.Fatalf("after a retry: %+v", ps)
		}
	})
}

func TestPushSenderReadsTheirRoom(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		a, b := mustUser(t, db, "Ana"), mustUser(t, db, "Ben")
		r := mustRoom(t, db, t0, a, b)
		mustSend(t, db, r.ID, a.ID, "are you there?", t0)
		foldAll(t, db, t0, b.ID)
		wantBacklog(t, db, 0, 1)
		// Ben answers from a device with no live connection: his own pending notification
		// about the room is gone, and Ana's is started.
		mustSend(t, db, r.ID, b.ID, "yes", t0)
		foldAll(t, db, t0, a.ID)
		ps := mustClaimPushes(t, db, "w", t0.Add(testDelay))
		if len(ps) != 1 || ps[0].UserID != a.ID {
			t.Fatalf("pending after the answer: %+v", ps)
		}
	})
}

func TestPushMessage(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a, b, c, d := mustUser(t, db, "Ana"), mustUser(t, db, "Ben"), mustUser(t, db, "Cat"), mustUser(t, db, "Dan")
		r := mustRoom(t, db, t0, a, b, c, d)
		muted := true
		must(t, db.UpdateRoom(ctx, r.ID, c.ID, nil, &muted, t0))
		must(t, db.Block(ctx, d.ID, a.ID, t0))
		mustSend(t, db, r.ID, b.ID, "first", t0)
		m := mustSend(t, db, r.ID, a.ID, "second", t0)

		got, err := db.PushMessage(ctx, r.ID, m.Seq)
		must(t, err)
		want := plop.PushMessage{RoomID: r.ID, RoomType: plop.RoomGroup, RoomName: "group", Seq: 2, SenderID: a.ID, SenderName: "Ana",
			Body: "second", Members: []plop.PushMember{
				{UserID: b.ID, LastReadSeq: 1},
				{UserID: c.ID, Muted: true},
				{UserID: d.ID, Blocked: true},
			}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("PushMessage (-want +got):\n%s", diff)
		}
		_, err = db.DeleteMessage(ctx, r.ID, m.Seq, t0)
		must(t, err)
		got, err = db.PushMessage(ctx, r.ID, m.Seq)
		must(t, err)
		if !got.Deleted || got.Body != "" {
			t.Fatalf("an unsent message: %+v", got)
		}
		_, err = db.PushMessage(ctx, r.ID, 99)
		wantCode(t, err, plop.ENotFound)
	})
}
