package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/sqlstore"
)

// fakePusher records the notifications it is given, per device, and answers with the error
// its answer function returns for a device (nil: delivered).
type fakePusher struct {
	mu     sync.Mutex
	got    map[string][]plop.PushNotification // device id → notifications
	answer func(d plop.Device) error
}

func (p *fakePusher) Push(_ context.Context, d plop.Device, n plop.PushNotification) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.answer != nil {
		if err := p.answer(d); err != nil {
			return err
		}
	}
	if p.got == nil {
		p.got = map[string][]plop.PushNotification{}
	}
	p.got[d.ID] = append(p.got[d.ID], n)
	return nil
}

// to returns what device id was sent.
func (p *fakePusher) to(id string) []plop.PushNotification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]plop.PushNotification(nil), p.got[id]...)
}

// total returns how many notifications were sent to any device.
func (p *fakePusher) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, ns := range p.got {
		n += len(ns)
	}
	return n
}

var testPushConfig = PushConfig{NodeID: "test", Delay: 2 * time.Second, Cooldown: time.Minute, RetryMin: 5 * time.Second, RetryMax: time.Minute, MaxAttempts: 3}

// pushApp is a testApp with a push worker on the same store and clock, driven by hand with
// run: no goroutine of its own.
type pushApp struct {
	*testApp
	worker *PushWorker
	pusher *fakePusher
	outbox *outboxSpy
}

// outboxSpy is the store as the worker's outbox, counting the messages read with every
// member of their room (PushMessage).
type outboxSpy struct {
	*sqlstore.DB
	withMembers atomic.Int64
	memberIDs   atomic.Int64
}

func (o *outboxSpy) PushMessage(ctx context.Context, roomID string, seq int64) (plop.PushMessage, error) {
	o.withMembers.Add(1)
	return o.DB.PushMessage(ctx, roomID, seq)
}

func (o *outboxSpy) MemberIDs(ctx context.Context, roomID string) ([]string, error) {
	o.memberIDs.Add(1)
	return o.DB.MemberIDs(ctx, roomID)
}

func newPushApp(tb testing.TB) *pushApp {
	tb.Helper()
	ta := newTestApp(tb, Config{})
	p := &fakePusher{}
	out := &outboxSpy{DB: ta.store}
	w, err := NewPushWorker(PushDeps{Outbox: out, Devices: ta.store, Presence: ta.presence, Pusher: p,
		Logger: ta.log, Now: ta.clock.Now}, testPushConfig)
	if err != nil {
		tb.Fatal(err)
	}
	return &pushApp{testApp: ta, worker: w, pusher: p, outbox: out}
}

// run lets the clock move by d, then works the queue as the worker's loop would.
func (pa *pushApp) run(d time.Duration) {
	pa.clock.Advance(d)
	pa.worker.drain(context.Background())
}

// device registers an FCM device for user and returns its id.
func (pa *pushApp) device(tb testing.TB, user, token string) string {
	tb.Helper()
	d, err := pa.RegisterDevice(context.Background(), user, DeviceInput{Platform: plop.PlatformFCM, Token: token})
	if err != nil {
		tb.Fatal(err)
	}
	return d.ID
}

// idle fails unless the outbox is empty: no job queued, no notification waiting.
func (pa *pushApp) idle(tb testing.TB) {
	tb.Helper()
	jobs, waiting, err := pa.worker.Backlog(context.Background())
	if err != nil || jobs != 0 || waiting != 0 {
		tb.Fatalf("backlog: %d jobs, %d waiting, %v; want none", jobs, waiting, err)
	}
}

func TestPushBurstIsOneNotification(t *testing.T) {
	pa := newPushApp(t)
	ana := pa.user(t, "Ana")
	ben := pa.friendOf(t, "Ben", ana)
	phone, laptop := pa.device(t, ben, "phone-token"), pa.device(t, ben, "laptop-token")
	r := pa.direct(t, ana, ben)
	for i := 1; i <= 5; i++ {
		pa.send(t, ana, r.ID, fmt.Sprintf("message %d", i))
		pa.run(100 * time.Millisecond)
	}
	if n := pa.pusher.total(); n != 0 {
		t.Fatalf("%d notifications before the coalescing delay", n)
	}
	pa.run(2 * time.Second)
	want := []plop.PushNotification{{
		Title: "Ana", Body: "message 5", RoomID: r.ID, Count: 5, Tag: "room:" + r.ID,
		Data: map[string]string{"room_id": r.ID, "seq": "5", "count": "5"}, Urgency: "high",
	}}
	for _, dev := range []string{phone, laptop} {
		if diff := cmp.Diff(want, pa.pusher.to(dev)); diff != "" {
			t.Errorf("device %s (-want +got):\n%s", dev, diff)
		}
	}
	pa.idle(t)
	pa.run(5 * time.Second)
	if n := pa.pusher.total(); n != 2 {
		t.Fatalf("%d notifications in all, want one per device", n)
	}

	// Within the cooldown after a push, more messages are folded into the next one.
	pa.send(t, ana, r.ID, "message 6")
	pa.run(10 * time.Second)
	pa.send(t, ana, r.ID, "message 7")
	pa.run(10 * time.Second)
	if n := pa.pusher.total(); n != 2 {
		t.Fatalf("pushed again within the cooldown: %d notifications", n)
	}
	pa.run(time.Minute)
	got := pa.pusher.to(phone)
	if len(got) != 2 || got[1].Count != 7 || got[1].Body != "message 7" {
		t.Fatalf("after the cooldown: %+v", got)
	}

	// Reading the room clears it: the next message is a fresh notification counting one.
	if err := pa.MarkRead(context.Background(), ben, r.ID, 7); err != nil {
		t.Fatal(err)
	}
	pa.idle(t)
	pa.send(t, ana, r.ID, "message 8")
	pa.run(0)
	pa.run(2 * time.Second)
	if got := pa.pusher.to(phone); len(got) != 3 || got[2].Count != 1 {
		t.Fatalf("after reading: %+v", got)
	}
}

func TestPushSparesOnlineMutedAndBlocking(t *testing.T) {
	pa := newPushApp(t)
	ctx := context.Background()
	ana := pa.user(t, "Ana")
	online := pa.friendOf(t, "Olga", ana)
	muted := pa.friendOf(t, "Max", ana)
	blocking := pa.friendOf(t, "Bea", ana)
	blocked := pa.friendOf(t, "Ned", ana)
	away := pa.friendOf(t, "Will", ana)
	devices := map[string]string{}
	for _, u := range []string{ana, online, muted, blocking, blocked, away} {
		devices[u] = pa.device(t, u, "token-"+u)
	}
	g := pa.group(t, ana, "Hiking", online, muted, blocking, blocked, away)
	if err := pa.Connected(ctx, online, "conn-1"); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := pa.UpdateRoom(ctx, muted, g.ID, RoomUpdate{Muted: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := pa.Block(ctx, blocking, ana); err != nil {
		t.Fatal(err)
	}
	if err := pa.Block(ctx, ana, blocked); err != nil {
		t.Fatal(err)
	}
	pa.send(t, ana, g.ID, "who is in for Sunday?")
	pa.run(0)
	pa.run(2 * time.Second)
	for u, dev := range devices {
		got := pa.pusher.to(dev)
		if u == away {
			if len(got) != 1 || got[0].Title != "Ana in Hiking" || got[0].Body != "who is in for Sunday?" {
				t.Errorf("the member who is away got %+v", got)
			}
			continue
		}
		if len(got) != 0 {
			t.Errorf("user %s got %+v", u, got)
		}
	}
	pa.idle(t)
}

// The worker learns who a message went to from its event when it hears it (on every node
// with a broker), else from the store; either way, nobody online is notified.
func TestPushWhenEveryoneIsOnline(t *testing.T) {
	for _, hears := range []bool{false, true} {
		t.Run(fmt.Sprintf("hears events %v", hears), func(t *testing.T) { testPushWhenEveryoneIsOnline(t, hears) })
	}
}

func testPushWhenEveryoneIsOnline(t *testing.T, hears bool) {
	pa := newPushApp(t)
	ctx := context.Background()
	if hears {
		sctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		if err := pa.broker.Subscribe(sctx, pa.worker.heard.add); err != nil {
			t.Fatal(err)
		}
	}
	ana := pa.user(t, "Ana")
	ben := pa.friendOf(t, "Ben", ana)
	cy := pa.friendOf(t, "Cy", ana)
	anaPhone, cyPhone := pa.device(t, ana, "ana-phone"), pa.device(t, cy, "cy-phone")
	g := pa.group(t, ana, "Hiking", ben, cy)
	// Ben writes while everyone is away: Ana and Cy have a notification waiting.
	pa.send(t, ben, g.ID, "first")
	pa.run(0)
	for _, u := range []string{ana, ben, cy} {
		if err := pa.Connected(ctx, u, "conn-"+u); err != nil {
			t.Fatal(err)
		}
	}
	// Ana answers while everyone is online: nobody is notified, and the members need not be
	// read to know it.
	read, listed := pa.outbox.withMembers.Load(), pa.outbox.memberIDs.Load()
	pa.send(t, ana, g.ID, "second")
	pa.run(0)
	if n := pa.outbox.withMembers.Load() - read; n != 0 {
		t.Errorf("the members of a room where everyone is online were read %d times", n)
	}
	if n := pa.outbox.memberIDs.Load() - listed; hears && n != 0 {
		t.Errorf("the members were listed %d times though the message's event named them", n)
	}
	pa.run(2 * time.Second)
	if n := pa.pusher.total(); n != 0 {
		t.Fatalf("%d notifications to people who are online", n)
	}
	// Ana and Cy leave and Ben writes again. Ana read the room up to her own message, so her
	// notification counts one; Cy's counts what he never read while away.
	for _, u := range []string{ana, cy} {
		if err := pa.Disconnected(ctx, u, "conn-"+u); err != nil {
			t.Fatal(err)
		}
	}
	pa.send(t, ben, g.ID, "third")
	pa.run(0)
	pa.run(2 * time.Second)
	if got := pa.pusher.to(anaPhone); len(got) != 1 || got[0].Count != 1 || got[0].Body != "third" || got[0].Title != "Ben in Hiking" {
		t.Errorf("Ana got %+v, want one notification of the third message counting one", got)
	}
	if got := pa.pusher.to(cyPhone); len(got) != 1 || got[0].Count != 2 || got[0].Body != "third" {
		t.Errorf("Cy got %+v, want one notification of the third message counting two", got)
	}
	pa.idle(t)
}

func TestPushSkipsWhoCameOnline(t *testing.T) {
	pa := newPushApp(t)
	ctx := context.Background()
	ana := pa.user(t, "Ana")
	ben := pa.friendOf(t, "Ben", ana)
	dev := pa.device(t, ben, "t")
	r := pa.direct(t, ana, ben)
	pa.send(t, ana, r.ID, "hello")
	pa.run(0) // folded while Ben was away
	if err := pa.Connected(ctx, ben, "c"); err != nil {
		t.Fatal(err)
	}
	pa.run(2 * time.Second)
	if got := pa.pusher.to(dev); len(got) != 0 {
		t.Fatalf("pushed to a user who came online: %+v", got)
	}
	pa.idle(t)
}

func TestPushDeviceOutcomes(t *testing.T) {
	pa := newPushApp(t)
	ctx := context.Background()
	ana := pa.user(t, "Ana")
	ben := pa.friendOf(t, "Ben", ana)
	gone, flaky, refused := pa.device(t, ben, "gone"), pa.device(t, ben, "flaky"), pa.device(t, ben, "refused")
	var flakyTries int
	pa.pusher.answer = func(d plop.Device) error {
		switch d.Token {
		case "gone":
			return fmt.Errorf("fcm: UNREGISTERED: %w", plop.ErrDeviceGone)
		case "flaky":
			flakyTries++
			if flakyTries == 1 {
				return fmt.Errorf("fcm: 503: %w", plop.ErrUnavailable)
			}
		case "refused":
			return errors.New("fcm: 400 INVALID_ARGUMENT")
		}
		return nil
	}
	r := pa.direct(t, ana, ben)
	pa.send(t, ana, r.ID, "hello")
	pa.run(0)
	pa.run(2 * time.Second)

	ds, err := pa.Devices(ctx, ben)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	if diff := cmp.Diff([]string{flaky, refused}, ids); diff != "" {
		t.Fatalf("devices after the push (-want +got):\n%s", diff)
	}
	// The unavailable service is tried again after the backoff (5 s at most), and only then.
	pa.run(2 * time.Second)
	if flakyTries != 1 {
		t.Fatalf("tried %d times before the backoff", flakyTries)
	}
	pa.run(3 * time.Second)
	if flakyTries != 2 || len(pa.pusher.to(flaky)) != 1 {
		t.Fatalf("after the backoff: %d tries, got %+v", flakyTries, pa.pusher.to(flaky))
	}
	if got := pa.pusher.to(gone); len(got) != 0 {
		t.Fatalf("a gone device got %+v", got)
	}
	pa.idle(t)
}

func TestPushGivesUpOnUnavailableService(t *testing.T) {
	pa := newPushApp(t)
	ana := pa.user(t, "Ana")
	ben := pa.friendOf(t, "Ben", ana)
	pa.device(t, ben, "t")
	tries := 0
	pa.pusher.answer = func(plop.Device) error { tries++; return plop.ErrUnavailable }
	r := pa.direct(t, ana, ben)
	pa.send(t, ana, r.ID, "hello")
	pa.run(0)
	for range 10 {
		pa.run(time.Minute)
	}
	if tries != testPushConfig.MaxAttempts {
		t.Fatalf("%d tries, want %d", tries, testPushConfig.MaxAttempts)
	}
	pa.idle(t)
}

func TestPushPreviewIsBounded(t *testing.T) {
	long := strings.Repeat("é", plop.MaxMessageBody/2)
	pm := plop.PushMessage{RoomType: plop.RoomGroup, RoomName: strings.Repeat("g", 255), SenderName: strings.Repeat("s", 255), Body: long}
	if p := pushPreview(pm); len(p) > plop.MaxPushBody || !strings.HasSuffix(p, "é…") {
		t.Errorf("preview of %d bytes ends %q", len(p), p[len(p)-6:])
	}
	if got := pushPreview(plop.PushMessage{Body: "  "}); got != "New message" {
		t.Errorf("preview of a blank body: %q", got)
	}
	if got := pushTitle(plop.PushMessage{RoomType: plop.RoomDirect, SenderName: "Ana"}); got != "Ana" {
		t.Errorf("direct title %q", got)
	}
	if got := pushTitle(plop.PushMessage{RoomType: plop.RoomGroup, SenderName: "Ana"}); got != "Ana in a group" {
		t.Errorf("unnamed group title %q", got)
	}
}
