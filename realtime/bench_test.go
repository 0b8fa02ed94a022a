package realtime_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/inmem"
	"github.com/plop-chat/plop/realtime"
)

// BenchmarkSendToMessage measures the time from a SEND on one connection to the MESSAGE on
// another, through the real services and SQLite, on loopback; one message at a time.
func BenchmarkSendToMessage(b *testing.B) {
	n := startNode(b, realtime.Options{})
	ana, bo := n.newUser(b, "Ana"), n.newUser(b, "Bo")
	room := n.direct(b, ana, bo)
	ca, cb := n.dial(b, ana), n.dial(b, bo)
	topic := subscribe(b, cb, client.RoomTopic(room))
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		body := fmt.Appendf(nil, `{"body":"message %d","client_msg_id":"b-%d"}`, i, i)
		if err := ca.Send(ctx, "/app/rooms."+room+".messages", body, false); err != nil {
			b.Fatal(err)
		}
		next(b, topic)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// fanOutSubscribers is the size of the room of the fan-out benchmarks.
const fanOutSubscribers = 1000

// fanOutBody is the event of the fan-out benchmarks: a typical short chat message.
var fanOutBody = []byte(`{"type":"message.created","room_id":"big","message":{"id":"0192f1e2-7c3b-7d4e-9a1b-2c3d4e5f6a7b","room_id":"big","seq":1,` +
	`"sender_id":"0192f1e2-7c3b-7d4e-9a1b-000000000001","body":"a typical short chat message, a few words long","client_msg_id":"c-1",` +
	`"reply_to":null,"reactions":[],"attachments":[],"created_at":"2026-11-25T20:00:00.000Z","edited_at":null,"deleted":false}}`)

// fanOutRoom starts a bare server and dials fanOutSubscribers counting clients to one room.
func fanOutRoom(b *testing.B) (plop.Broker, []*countingClient) {
	broker := inmem.NewBroker()
	_, url := startBare(b, broker, realtime.Options{HeartBeat: -1})
	counters := make([]*countingClient, fanOutSubscribers)
	for i := range counters {
		counters[i] = dialCounting(b, url, fmt.Sprintf("user-%d", i), "/topic/rooms.big")
	}
	return broker, counters
}

// publishFanOut publishes event i of a fan-out benchmark.
func publishFanOut(b *testing.B, broker plop.Broker, i int) {
	if err := broker.Publish(context.Background(), plop.Event{Type: plop.EventMessageCreated, RoomID: "big", Seq: int64(i + 1), Body: fanOutBody}); err != nil {
		b.Fatal(err)
	}
}

// awaitFanOut waits until every subscriber has the b.N events, and reports the rate.
func awaitFanOut(b *testing.B, counters []*countingClient, start time.Time) {
	deadline := time.Now().Add(30 * time.Second)
	for slowest(counters) < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("slowest subscriber got %d of %d events", slowest(counters), b.N)
		}
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(counters))/elapsed.Seconds(), "deliveries/s")
}

// BenchmarkFanOut measures deliveries per second from the broker to the 1,000 subscribers of
// one room, each on its own WebSocket connection: the hub, the outbound queues and the
// writers, without the database (a stand-in App authorizes everything). Each op is one event,
// so 1,000 deliveries. The subscribers are minimal clients that count frames.
func BenchmarkFanOut(b *testing.B) {
	broker, counters := fanOutRoom(b)
	const window = 256 // events in flight before the publisher waits for the slowest reader
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		for int64(i)-slowest(counters) > window {
			time.Sleep(50 * time.Microsecond)
		}
		publishFanOut(b, broker, i)
	}
	awaitFanOut(b, counters, start)
}

// BenchmarkFanOutPaced is BenchmarkFanOut at a steady rate instead of as fast as it goes: one
// event to the 1,000 subscribers every 10 ms (100,000 deliveries/s), so that the writers
// rarely find more than one frame queued, as in `plop bench fanout` below saturation. It
// reports the CPU time of the whole process (server and the counting clients) per delivery;
// that includes the scheduler's spinning while idle, so on a busy machine compare
// interleaved runs only.
func BenchmarkFanOutPaced(b *testing.B) {
	const every = 10 * time.Millisecond
	broker, counters := fanOutRoom(b)
	cpu0 := processCPU(b)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		publishFanOut(b, broker, i)
	}
	awaitFanOut(b, counters, start)
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*len(counters)), "cpu-ns/delivery")
}

// processCPU returns the CPU time the process has used, user and system, in nanoseconds.
func processCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func slowest(cs []*countingClient) int64 {
	m := int64(-1)
	for _, c := range cs {
		if n := c.frames.Load(); m < 0 || n < m {
			m = n
		}
	}
	return m
}

// startBare starts a real-time server over a stand-in App, alone on a loopback port.
func startBare(tb testing.TB, broker plop.Broker, opt realtime.Options) (*realtime.Server, string) {
	tb.Helper()
	rt, err := realtime.New(standIn{}, broker, opt)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := rt.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: rt}
	go hs.Serve(ln)
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		rt.Close(sctx)
		hs.Shutdown(sctx)
		cancel()
	})
	return rt, "ws://" + ln.Addr().String() + "/ws"
}

// standIn is an App that takes any token as the user id and authorizes everything.
type standIn struct{}

func (standIn) Authenticate(_ context.Context, tok string) (app.Identity, error) {
	return app.Identity{UserID: tok}, nil
}
func (standIn) AuthorizeRoom(context.Context, string, string) error { return nil }
func (standIn) SendMessage(context.Context, string, string, app.MessageInput) (plop.Message, bool, error) {
	return plop.Message{}, false, plop.Errorf(plop.EInvalid, "not here")
}
func (standIn) MarkRead(context.Context, string, string, int64) error      { return nil }
func (standIn) Typing(context.Context, string, string, string, bool) error { return nil }
func (standIn) Connected(context.Context, string, string) error            { return nil }
func (standIn) Disconnected(context.Context, string, string) error         { return nil }

// countingClient is the lightest possible subscriber: one goroutine that reads WebSocket
// frames and counts the STOMP frames in them by their NUL terminators.
type countingClient struct {
	nc     net.Conn
	frames atomic.Int64
}

// dialCounting connects as user, subscribes to destination, waits for the RECEIPT and then
// counts what arrives.
func dialCounting(tb testing.TB, wsURL, user, destination string) *countingClient {
	tb.Helper()
	u, _ := url.Parse(wsURL)
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	req := "GET " + u.Path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	frames := "CONNECT\naccept-version:1.2\nheart-beat:0,0\npasscode:" + user + "\n\n\x00" +
		"SUBSCRIBE\nid:0\ndestination:" + destination + "\nreceipt:ready\n\n\x00"
	var msg bytes.Buffer
	msg.WriteString(req)
	msg.Write(maskedText([]byte(frames)))
	if _, err := nc.Write(msg.Bytes()); err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("handshake: %v %v", resp, err)
	}
	// CONNECTED, then the RECEIPT.
	for seen := 0; seen < 2; {
		p, err := readPayload(br)
		if err != nil {
			tb.Fatal(err)
		}
		seen += bytes.Count(p, []byte{0})
	}
	c := &countingClient{nc: nc}
	go func() {
		for {
			p, err := readPayload(br)
			if err != nil {
				return
			}
			c.frames.Add(int64(bytes.Count(p, []byte{0})))
		}
	}()
	return c
}

// maskedText frames p as one masked WebSocket text message (mask 0, which is allowed).
func maskedText(p []byte) []byte {
	b := []byte{0x81}
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, p...)
}

// readPayload reads one unmasked WebSocket frame and returns its payload.
func readPayload(br *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(br, e[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, err
	}
	if h[0]&0x0F == 0x8 {
		return nil, io.EOF
	}
	return p, nil
}
