package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxzan/gws"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/stomp"
)

// fakeSTOMP is a scripted STOMP server: onConnect answers the CONNECT frame (nil: say
// nothing); it counts the heart-beats it receives.
type fakeSTOMP struct {
	gws.BuiltinEventHandler
	onConnect func(ws *gws.Conn)
	beats     atomic.Int64
}

func (f *fakeSTOMP) OnMessage(ws *gws.Conn, m *gws.Message) {
	defer m.Close()
	if strings.Trim(m.Data.String(), "\r\n") == "" {
		f.beats.Add(1)
		return
	}
	d := stomp.NewDecoder(stomp.Limits{})
	_ = d.Write(m.Bytes())
	fr, err := d.Next()
	if err != nil || fr == nil {
		return
	}
	switch fr.Command {
	case stomp.CmdConnect:
		if f.onConnect != nil {
			f.onConnect(ws)
		}
	default:
		if id, ok := fr.Get(stomp.HdrReceipt); ok {
			writeFrame(ws, &stomp.Frame{Command: stomp.CmdReceipt, Headers: []stomp.Header{{Key: stomp.HdrReceiptID, Value: id}}})
		}
	}
}

func startFake(tb testing.TB, f *fakeSTOMP) string {
	tb.Helper()
	up := gws.NewUpgrader(f, &gws.ServerOption{SubProtocols: []string{"v12.stomp"}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go ws.ReadLoop()
	})}
	go hs.Serve(ln)
	tb.Cleanup(func() { hs.Close() })
	return "ws://" + ln.Addr().String() + "/ws"
}

func writeFrame(ws *gws.Conn, f *stomp.Frame) {
	_ = ws.WriteMessage(gws.OpcodeText, stomp.AppendFrame(nil, f, stomp.V12))
}

func connected(heartBeat string) func(*gws.Conn) {
	return func(ws *gws.Conn) {
		writeFrame(ws, &stomp.Frame{Command: stomp.CmdConnected, Headers: []stomp.Header{
			{Key: "version", Value: "1.2"}, {Key: "heart-beat", Value: heartBeat}, {Key: "session", Value: "s-1"},
		}})
	}
}

func TestSTOMPClientEndsWhenTheServerFallsSilent(t *testing.T) {
	url := startFake(t, &fakeSTOMP{onConnect: connected("100,100")})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.DialSTOMP(ctx, url, "token", client.WithHeartBeat(100*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	select {
	case err := <-c.Err():
		if err == nil || !strings.Contains(err.Error(), "heart-beat timeout") {
			t.Fatalf("ended with %v, want a heart-beat timeout", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("gave up after %v, before twice the interval", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client kept a silent connection for 5s")
	}
	if _, err := c.Subscribe(ctx, client.UserQueue); err == nil {
		t.Fatal("Subscribe on an ended connection succeeded")
	}
}

func TestSTOMPClientSendsHeartBeats(t *testing.T) {
	f := &fakeSTOMP{onConnect: connected("0,100")}
	url := startFake(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.DialSTOMP(ctx, url, "token", client.WithHeartBeat(50*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for f.beats.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d heart-beats in 5s, want one every 100ms", f.beats.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDialSTOMPGivesUpWithItsContext(t *testing.T) {
	url := startFake(t, &fakeSTOMP{}) // never answers CONNECT
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.DialSTOMP(ctx, url, "token")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

func TestDialSTOMPReturnsTheServersError(t *testing.T) {
	url := startFake(t, &fakeSTOMP{onConnect: func(ws *gws.Conn) {
		writeFrame(ws, &stomp.Frame{Command: stomp.CmdError, Headers: []stomp.Header{{Key: "message", Value: plop.EUnauthenticated}},
			Body: []byte("invalid access token")})
		_ = ws.WriteClose(1008, nil)
	}})
	_, err := client.DialSTOMP(context.Background(), url, "bad")
	var se *client.STOMPError
	if !errors.As(err, &se) || se.Message != "invalid access token" || plop.ErrorCode(err) != plop.EUnauthenticated {
		t.Fatalf("got %v, want the ERROR frame as a *STOMPError", err)
	}
}
