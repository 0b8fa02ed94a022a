package realtime_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/realtime"
	"github.com/plop-chat/plop/stomp"
)

func TestMalformedFramesGetAnErrorThenTheClose(t *testing.T) {
	n := startNode(t, realtime.Options{MaxFrameSize: 4096})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	sendHdr := "SEND\ndestination:/app/rooms." + room + ".messages\n"
	cases := []struct {
		name    string
		connect bool     // a valid CONNECT first
		msgs    []string // WebSocket messages
		code    string
		receipt string // the receipt-id the ERROR must carry
		header  [2]string
	}{
		{name: "garbage", msgs: []string{"\x01\x02\x03 garbage\n\n\x00"}, code: plop.EInvalid},
		{name: "unknown command", connect: true, msgs: []string{"PUBLISH\ndestination:/x\n\n\x00"}, code: plop.EInvalid},
		{name: "bad escape", connect: true, msgs: []string{"SUBSCRIBE\nid:a\\tb\ndestination:/user/queue/events\n\n\x00"}, code: plop.EInvalid},
		{name: "frame over MaxFrameSize", connect: true, msgs: []string{sendHdr + "\n" + `{"body":"` + strings.Repeat("x", 5000) + `"}` + "\x00"}, code: plop.ETooLarge},
		{name: "content-length too short", connect: true, msgs: []string{sendHdr + "content-length:5\n\n{\"body\":\"hi\"}\x00"}, code: plop.EInvalid},
		{name: "content-length not a number", connect: true, msgs: []string{sendHdr + "content-length:five\n\n{}\x00"}, code: plop.EInvalid},
		{name: "SEND before CONNECT", msgs: []string{sendHdr + "\n{\"body\":\"hi\"}\x00"}, code: plop.EInvalid},
		{name: "SUBSCRIBE before CONNECT", msgs: []string{"SUBSCRIBE\nid:1\ndestination:/user/queue/events\n\n\x00"}, code: plop.EInvalid},
		{name: "SEND without destination", connect: true, msgs: []string{"SEND\nreceipt:r-1\n\n{}\x00"}, code: plop.EInvalid, receipt: "r-1"},
		{name: "bad JSON body", connect: true, msgs: []string{sendHdr + "receipt:r-2\n\n{\"body\": oops}\x00"}, code: plop.EInvalid, receipt: "r-2"},
		{name: "body not an object", connect: true, msgs: []string{sendHdr + "\n[1,2]\x00"}, code: plop.EInvalid},
		{name: "empty message", connect: true, msgs: []string{sendHdr + "\n{\"body\":\"\"}\x00"}, code: plop.EInvalid},
		{name: "read without seq", connect: true, msgs: []string{"SEND\ndestination:/app/rooms." + room + ".read\n\n{}\x00"}, code: plop.EInvalid},
		{name: "unknown SEND destination", connect: true, msgs: []string{"SEND\ndestination:/app/rooms." + room + ".shout\n\n{}\x00"}, code: plop.ENotFound},
		{name: "unknown SUBSCRIBE destination", connect: true, msgs: []string{"SUBSCRIBE\nid:1\ndestination:/queue/elsewhere\n\n\x00"}, code: plop.ENotFound},
		{name: "SUBSCRIBE without id", connect: true, msgs: []string{"SUBSCRIBE\ndestination:/user/queue/events\n\n\x00"}, code: plop.EInvalid},
		{name: "duplicate subscription id", connect: true, msgs: []string{
			"SUBSCRIBE\nid:1\ndestination:/user/queue/events\n\n\x00SUBSCRIBE\nid:1\ndestination:/topic/rooms." + room + "\n\n\x00"}, code: plop.EInvalid},
		{name: "bad ack mode", connect: true, msgs: []string{"SUBSCRIBE\nid:1\nack:never\ndestination:/user/queue/events\n\n\x00"}, code: plop.EInvalid},
		{name: "transaction", connect: true, msgs: []string{"BEGIN\ntransaction:t1\nreceipt:r-3\n\n\x00"}, code: plop.EInvalid, receipt: "r-3"},
		{name: "SEND in a transaction", connect: true, msgs: []string{sendHdr + "transaction:t1\n\n{\"body\":\"hi\"}\x00"}, code: plop.EInvalid},
		{name: "server frame from a client", connect: true, msgs: []string{"MESSAGE\ndestination:/x\n\n\x00"}, code: plop.EInvalid},
		{name: "second CONNECT", connect: true, msgs: []string{"CONNECT\naccept-version:1.2\npasscode:" + ana.Token + "\n\n\x00"}, code: plop.EInvalid},
		{name: "bad heart-beat", msgs: []string{"CONNECT\naccept-version:1.2\nheart-beat:soon\npasscode:" + ana.Token + "\n\n\x00"}, code: plop.EInvalid},
		{name: "no version in common", msgs: []string{"CONNECT\naccept-version:2.0,3.1\npasscode:" + ana.Token + "\n\n\x00"}, code: plop.EInvalid,
			header: [2]string{"version", "1.2,1.1,1.0"}},
		{name: "no token", msgs: []string{"CONNECT\naccept-version:1.2\n\n\x00"}, code: plop.EUnauthenticated},
		{name: "bad token", msgs: []string{"CONNECT\naccept-version:1.2\npasscode:not-a-token\n\n\x00"}, code: plop.EUnauthenticated},
		{name: "bad bearer", msgs: []string{"STOMP\naccept-version:1.2\nAuthorization:Basic " + ana.Token + "\n\n\x00"}, code: plop.EUnauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, n.WSURL, rawOptions{protocols: "v12.stomp"})
			if tc.connect {
				r.connect(ana.Token)
			}
			for _, m := range tc.msgs {
				r.send(m)
			}
			f := r.expectError(tc.code)
			if got, _ := f.Get(stomp.HdrReceiptID); got != tc.receipt {
				t.Errorf("receipt-id %q, want %q", got, tc.receipt)
			}
			if tc.header[0] != "" {
				if got, _ := f.Get(tc.header[0]); got != tc.header[1] {
					t.Errorf("header %s %q, want %q", tc.header[0], got, tc.header[1])
				}
			}
		})
	}

	// After all that, the server still serves.
	ca, cb := n.dial(t, ana), n.dial(t, bo)
	topic := subscribe(t, cb, client.RoomTopic(room))
	r := send(t, ca, room, "still here", "after-errors")
	if m := decodeMessage(t, next(t, topic)); m.ID != r.MessageID {
		t.Fatalf("after the errors Bo got %+v", m)
	}
}

func TestFramesMayBeJoinedAndSplitAcrossMessages(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	r := dialRaw(t, n.WSURL, rawOptions{})
	// CONNECT and SUBSCRIBE in one message, with heart-beat EOLs around them.
	r.send("\n\r\nCONNECT\naccept-version:1.2\npasscode:" + ana.Token + "\n\n\x00\nSUBSCRIBE\nid:q\ndestination:/user/queue/events\nreceipt:sub\n\n\x00\n")
	if f := r.frame(5 * time.Second); f == nil || f.Command != stomp.CmdConnected {
		t.Fatalf("want CONNECTED, got %+v", f)
	}
	if f := r.frame(5 * time.Second); f == nil || f.Command != stomp.CmdReceipt {
		t.Fatalf("want RECEIPT, got %+v", f)
	}
	// One SEND in three messages, text and binary, cut inside a header and inside the body.
	frame := "SEND\ndestination:/app/rooms." + room + ".messages\nreceipt:m1\ncontent-type:application/json\n\n" +
		`{"body":"in pieces","client_msg_id":"p-1"}` + "\x00"
	r.send(frame[:12])
	r.sendOp(0x2, []byte(frame[12:70]), true)
	r.send(frame[70:])
	var receipt, message *stomp.Frame
	for receipt == nil || message == nil {
		f := r.frame(5 * time.Second)
		if f == nil {
			t.Fatal("connection ended")
		}
		switch f.Command {
		case stomp.CmdReceipt:
			receipt = f
		case stomp.CmdMessage:
			if strings.Contains(string(f.Body), `"type":"message.created"`) {
				message = f
			}
		}
	}
	if id, _ := receipt.Get("receipt-id"); id != "m1" {
		t.Fatalf("receipt %v", receipt.Headers)
	}
	if seq, _ := receipt.Get("seq"); seq != "1" {
		t.Fatalf("receipt %v", receipt.Headers)
	}
	if !strings.Contains(string(message.Body), "in pieces") {
		t.Fatalf("message %q", message.Body)
	}
	// A WebSocket message fragmented into continuation frames is one message too.
	r.sendOp(0x1, []byte("DISCONN"), false)
	r.sendOp(0x0, []byte("ECT\nreceipt:bye\n\n\x00"), true)
	if f := r.frame(5 * time.Second); f == nil || f.Command != stomp.CmdReceipt {
		t.Fatalf("want the DISCONNECT receipt, got %+v", f)
	}
	r.expectClosed()
	if r.closeCode != 1000 {
		t.Fatalf("close code %d after DISCONNECT, want 1000", r.closeCode)
	}
}

func TestSubprotocolOriginAndPlainHTTP(t *testing.T) {
	n := startNode(t, realtime.Options{AllowedOrigins: []string{"https://chat.example.com"}})
	for _, tc := range []struct{ offer, want string }{
		{"v10.stomp, v12.stomp", "v12.stomp"},
		{"v11.stomp,v10.stomp", "v11.stomp"},
		{"v10.stomp", "v10.stomp"},
		{"", ""},
		{"mqtt", ""},
	} {
		r := dialRaw(t, n.WSURL, rawOptions{protocols: tc.offer})
		if got := r.resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
			t.Errorf("offered %q, got %q, want %q", tc.offer, got, tc.want)
		}
		r.nc.Close()
	}

	if r, err := tryDialRaw(t, n.WSURL, rawOptions{origin: "https://evil.example.com"}); err != nil || r.resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: %v %v, want 403", err, r.resp.Status)
	}
	dialRaw(t, n.WSURL, rawOptions{origin: "https://chat.example.com"})
	dialRaw(t, n.WSURL, rawOptions{origin: strings.Replace(n.URL, "http:", "https:", 1)}) // same host

	resp, err := http.Get(n.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET /ws: %s, want 426", resp.Status)
	}
}

func TestOlderVersionsAreSpokenToo(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	cb := n.dial(t, bo)

	// 1.1: header values are escaped, so a subscription id may hold a colon.
	r11 := dialRaw(t, n.WSURL, rawOptions{protocols: "v11.stomp"})
	r11.send("CONNECT\naccept-version:1.0,1.1\npasscode:" + ana.Token + "\n\n\x00")
	f := r11.frame(5 * time.Second)
	if v, _ := f.Get("version"); f.Command != stomp.CmdConnected || v != "1.1" {
		t.Fatalf("1.1 CONNECTED %+v", f)
	}
	r11.dec.SetVersion("1.1")
	r11.send("SUBSCRIBE\nid:room\\c1\ndestination:/topic/rooms." + room + "\nreceipt:s\n\n\x00")
	if f := r11.frame(5 * time.Second); f == nil || f.Command != stomp.CmdReceipt {
		t.Fatalf("want RECEIPT, got %+v", f)
	}

	// 1.0: no accept-version, and SUBSCRIBE needs no id.
	r10 := dialRaw(t, n.WSURL, rawOptions{})
	r10.send("CONNECT\nlogin:ana\npasscode:" + ana.Token + "\n\n\x00")
	f = r10.frame(5 * time.Second)
	if v, _ := f.Get("version"); f.Command != stomp.CmdConnected || v != "1.0" {
		t.Fatalf("1.0 CONNECTED %+v", f)
	}
	r10.dec.SetVersion("1.0")
	r10.send("SUBSCRIBE\ndestination:/topic/rooms." + room + "\nreceipt:s\n\n\x00")
	if f := r10.frame(5 * time.Second); f == nil || f.Command != stomp.CmdReceipt {
		t.Fatalf("want RECEIPT, got %+v", f)
	}

	send(t, cb, room, "to old clients", "old-1")
	for _, tc := range []struct {
		r   *raw
		sub string
	}{{r11, "room:1"}, {r10, "/topic/rooms." + room}} {
		f := tc.r.frame(5 * time.Second)
		if f == nil || f.Command != stomp.CmdMessage {
			t.Fatalf("want MESSAGE, got %+v", f)
		}
		if got, _ := f.Get("subscription"); got != tc.sub {
			t.Errorf("subscription %q, want %q", got, tc.sub)
		}
		if !strings.Contains(string(f.Body), "to old clients") {
			t.Errorf("body %q", f.Body)
		}
	}
}

func TestCloseEndsSessionsWithGoingAwayAndNoError(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana := n.newUser(t, "Ana")
	c := n.dial(t, ana)
	r := dialRaw(t, n.WSURL, rawOptions{})
	r.connect(ana.Token)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.RT.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if f := r.frame(5 * time.Second); f != nil {
		t.Fatalf("got %s %v before the close", f.Command, f.Headers)
	}
	if r.closeCode != 1001 {
		t.Fatalf("close code %d, want 1001", r.closeCode)
	}
	err := ended(t, c)
	var se *client.STOMPError
	if errors.As(err, &se) || !errors.Is(err, client.ErrSTOMPClosed) {
		t.Fatalf("the client ended with %v, want ErrSTOMPClosed and no ERROR frame", err)
	}
	// New connections are refused once the real-time side has closed.
	rr, err := tryDialRaw(t, n.WSURL, rawOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rr.resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %s, want 503", rr.resp.Status)
	}
}
