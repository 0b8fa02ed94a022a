package push

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/plop-chat/plop"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// recorder is a Sender that remembers the devices it was given.
type recorder struct{ got []string }

func (r *recorder) Send(_ context.Context, d plop.Device, _ Notification) error {
	r.got = append(r.got, d.ID)
	return nil
}

func TestMuxSendsByPlatform(t *testing.T) {
	fcm, web, fallback := &recorder{}, &recorder{}, &recorder{}
	m := NewMux(fcm, web, fallback)
	ctx := context.Background()
	m.Send(ctx, plop.Device{ID: "a", Platform: plop.PlatformFCM}, Notification{})
	m.Send(ctx, plop.Device{ID: "b", Platform: plop.PlatformWebPush}, Notification{})
	if err := m.Send(ctx, plop.Device{ID: "c", Platform: "pager"}, Notification{}); err == nil {
		t.Error("an unknown platform was accepted")
	}
	if strings.Join(fcm.got, ",") != "a" || strings.Join(web.got, ",") != "b" || len(fallback.got) != 0 {
		t.Fatalf("fcm got %v, webpush %v, fallback %v", fcm.got, web.got, fallback.got)
	}

	// Unconfigured platforms go to the fallback.
	m = NewMux(nil, web, fallback)
	m.Send(ctx, plop.Device{ID: "d", Platform: plop.PlatformFCM}, Notification{})
	m = NewMux(fcm, nil, fallback)
	m.Send(ctx, plop.Device{ID: "e", Platform: plop.PlatformWebPush}, Notification{})
	if strings.Join(fallback.got, ",") != "d,e" {
		t.Fatalf("fallback got %v", fallback.got)
	}
}

func TestLogSenderKeepsSecretsOut(t *testing.T) {
	var buf bytes.Buffer
	s := NewMux(nil, nil, NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil))))
	d := plop.Device{ID: "dev-9", UserID: "u-9", Platform: plop.PlatformWebPush, Token: "https://push.example/secret-endpoint",
		Subscription: json.RawMessage(`{"endpoint":"https://push.example/secret-endpoint","keys":{"p256dh":"BKEY","auth":"AUTHSECRET"}}`)}
	if err := s.Send(context.Background(), d, Notification{Title: "Ana", Body: "private words", RoomID: "r-1", Count: 2}); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if rec["device_id"] != "dev-9" || rec["platform"] != "webpush" || rec["title"] != "Ana" || rec["count"] != 2.0 || rec["room_id"] != "r-1" {
		t.Errorf("log record %v", rec)
	}
	for _, secret := range []string{"secret-endpoint", "AUTHSECRET", "BKEY", "private words"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log shows %q: %s", secret, buf.String())
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello world", 8, "hello…"},
		{"ééé", 5, "é…"},
		{"éééé", 6, "é…"},
		{"hello", 2, ""},
	} {
		if got := truncate(tc.in, tc.max); got != tc.want || len(got) > tc.max {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
