package push

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/push/pushtest"
)

var fcmDevice = plop.Device{ID: "dev-1", UserID: "u-1", Platform: plop.PlatformFCM, Token: "fcm-registration-token"}

func testNotification() Notification {
	return Notification{
		Title: "Ana", Body: "are we still on for tonight?", RoomID: "room-1", Count: 3,
		Tag: "room:room-1", Data: map[string]string{"seq": "42"}, TTL: time.Hour, Urgency: UrgencyHigh,
	}
}

func TestFCMSendsTheV1Message(t *testing.T) {
	f := pushtest.NewFCM(t)
	s := mustFCM(t, f)
	before := time.Now()
	if err := s.Send(context.Background(), fcmDevice, testNotification()); err != nil {
		t.Fatal(err)
	}
	if grants, sends := fcmCounts(f); grants != 1 || sends != 1 {
		t.Fatalf("%d grants and %d sends, want 1 and 1", grants, sends)
	}
	m := f.Sends()[0].Message
	if m.Token != "fcm-registration-token" || m.Notification["title"] != "Ana" || m.Notification["body"] != "are we still on for tonight?" {
		t.Errorf("token and notification: %+v", m)
	}
	if m.Data["room_id"] != "room-1" || m.Data["seq"] != "42" || m.Data["count"] != "3" {
		t.Errorf("data %v", m.Data)
	}
	a := m.Android
	if a.Priority != "high" || a.TTL != "3600s" || a.CollapseKey != "room:room-1" || a.Notification["tag"] != "room:room-1" {
		t.Errorf("android %+v", a)
	}
	h := m.APNS.Headers
	exp, _ := strconv.ParseInt(h["apns-expiration"], 10, 64)
	if h["apns-priority"] != "10" || h["apns-collapse-id"] != "room:room-1" || exp < before.Add(time.Hour).Unix()-1 || exp > time.Now().Add(time.Hour).Unix()+1 {
		t.Errorf("apns headers %v", h)
	}
	aps := m.APNS.Payload.APS
	if aps.Alert["title"] != "Ana" || aps.Alert["body"] != "are we still on for tonight?" || aps.Badge != 3 || aps.ThreadID != "room-1" {
		t.Errorf("aps %+v", aps)
	}

	// A normal notification without a tag: normal priorities, the default TTL, no collapse key.
	if err := s.Send(context.Background(), fcmDevice, Notification{Title: "Ben", Body: strings.Repeat("é", 2000)}); err != nil {
		t.Fatal(err)
	}
	m = f.Sends()[1].Message
	if m.Android.Priority != "normal" || m.Android.TTL != "86400s" || m.Android.CollapseKey != "" || m.Android.Notification != nil ||
		m.APNS.Headers["apns-priority"] != "5" || m.APNS.Headers["apns-collapse-id"] != "" {
		t.Errorf("normal message %+v", m)
	}
	if b := m.Notification["body"]; len(b) > MaxBodyBytes || !strings.HasSuffix(b, "é…") {
		t.Errorf("a long body is sent as %d bytes ending %q", len(b), b[len(b)-8:])
	}
}

func TestFCMCachesTheAccessToken(t *testing.T) {
	f := pushtest.NewFCM(t)
	s := mustFCM(t, f)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- s.Send(context.Background(), fcmDevice, testNotification()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if grants, sends := fcmCounts(f); grants != 1 || sends != 20 {
		t.Fatalf("%d grants for %d sends, want 1 for 20", grants, sends)
	}

	// A token with a little more than the margin left is still used; shortly before it
	// expires, the next send gets a new one first.
	age := func(left time.Duration) {
		s.tokens.mu.Lock()
		s.tokens.expiry = time.Now().Add(left)
		s.tokens.mu.Unlock()
	}
	for _, tc := range []struct {
		left   time.Duration
		grants int
	}{{tokenMargin + 5*time.Second, 1}, {tokenMargin - time.Second, 2}} {
		age(tc.left)
		if err := s.Send(context.Background(), fcmDevice, testNotification()); err != nil {
			t.Fatal(err)
		}
		if grants, _ := fcmCounts(f); grants != tc.grants {
			t.Fatalf("with %v left on the token: %d grants, want %d", tc.left, grants, tc.grants)
		}
	}
}

func TestFCMReplacesARefusedToken(t *testing.T) {
	f := pushtest.NewFCM(t)
	s := mustFCM(t, f)
	if err := s.Send(context.Background(), fcmDevice, testNotification()); err != nil {
		t.Fatal(err)
	}
	f.Revoke()
	if err := s.Send(context.Background(), fcmDevice, testNotification()); err != nil {
		t.Fatalf("send after the token was revoked: %v", err)
	}
	if grants, sends := fcmCounts(f); grants != 2 || sends != 2 {
		t.Fatalf("%d grants and %d accepted sends, want 2 and 2", grants, sends)
	}
}

func TestFCMRefusedTokensDoNotLoop(t *testing.T) {
	f := pushtest.NewFCM(t)
	f.Deny()
	s := mustFCM(t, f)
	err := s.Send(context.Background(), fcmDevice, testNotification())
	if err == nil || !strings.Contains(err.Error(), "UNAUTHENTICATED") || errors.Is(err, ErrGone) || errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("send with tokens always refused: %v", err)
	}
	if f.Grants() != 2 || f.Denied() != 2 {
		t.Fatalf("%d grants and %d refused sends, want 2 and 2 (one fresh token, then give up)", f.Grants(), f.Denied())
	}
}

func TestFCMRetriesThrottlingThenSucceeds(t *testing.T) {
	f := pushtest.NewFCM(t)
	f.SetAnswer(func(n int, _ pushtest.Message) (int, http.Header, string) {
		if n <= 2 {
			return 429, nil, `{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`
		}
		return 200, nil, `{"name":"projects/plop-test/messages/3"}`
	})
	s := mustFCM(t, f)
	if err := s.Send(context.Background(), fcmDevice, testNotification()); err != nil {
		t.Fatal(err)
	}
	if _, sends := fcmCounts(f); sends != 3 {
		t.Fatalf("%d sends, want exactly 3 (two throttled, one accepted)", sends)
	}
}

func TestFCMHonoursRetryAfter(t *testing.T) {
	f := pushtest.NewFCM(t)
	f.SetAnswer(func(n int, _ pushtest.Message) (int, http.Header, string) {
		if n == 1 {
			return 503, http.Header{"Retry-After": {"1"}}, `{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`
		}
		return 200, nil, `{}`
	})
	s := mustFCM(t, f)
	if err := s.Send(context.Background(), fcmDevice, testNotification()); err != nil {
		t.Fatal(err)
	}
	if gap := f.Sends()[1].At.Sub(f.Sends()[0].At); gap < 900*time.Millisecond {
		t.Fatalf("retried after %v, the service asked for 1s", gap)
	}

	// A Retry-After beyond the caller's deadline ends the send at once.
	f.SetAnswer(func(int, pushtest.Message) (int, http.Header, string) {
		return 503, http.Header{"Retry-After": {"3"}}, `{"error":{"code":503,"status":"UNAVAILABLE"}}`
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, fcmDevice, testNotification())
	if !errors.Is(err, plop.ErrUnavailable) || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("send with no time to wait: %v after %v", err, time.Since(start))
	}
}

func TestFCMGivesUpAfterServerErrors(t *testing.T) {
	f := pushtest.NewFCM(t)
	f.SetAnswer(func(int, pushtest.Message) (int, http.Header, string) {
		return 500, nil, `{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}`
	})
	s := mustFCM(t, f)
	err := s.Send(context.Background(), fcmDevice, testNotification())
	if !errors.Is(err, plop.ErrUnavailable) || errors.Is(err, ErrGone) {
		t.Fatalf("after server errors: %v, want unavailable", err)
	}
	if _, sends := fcmCounts(f); sends != 4 {
		t.Fatalf("%d sends, want exactly 4 tries", sends)
	}
}

func TestFCMGoneDevices(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		gone   bool
	}{
		{"unregistered", 404, `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`, true},
		{"not a token", 400, `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`, true},
		{"token field", 400, `{"error":{"code":400,"message":"Invalid value","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}]}}`, true},
		{"bad ttl", 400, `{"error":{"code":400,"message":"Invalid value at 'message.android.ttl'","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.android.ttl"}]}]}}`, false},
		{"wrong sender", 403, `{"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}`, false},
		{"bare 404", 404, `404 page not found`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := pushtest.NewFCM(t)
			f.SetAnswer(func(int, pushtest.Message) (int, http.Header, string) { return tc.status, nil, tc.body })
			s := mustFCM(t, f)
			err := s.Send(context.Background(), fcmDevice, testNotification())
			if err == nil || errors.Is(err, ErrGone) != tc.gone || errors.Is(err, plop.ErrUnavailable) {
				t.Fatalf("error %v: gone %v, want %v, and not unavailable", err, errors.Is(err, ErrGone), tc.gone)
			}
			if _, sends := fcmCounts(f); sends != 1 {
				t.Fatalf("%d sends, want 1: a refusal is not retried", sends)
			}
		})
	}
	f := pushtest.NewFCM(t)
	if err := mustFCM(t, f).Send(context.Background(), plop.Device{ID: "d", Platform: plop.PlatformFCM}, testNotification()); !errors.Is(err, ErrGone) {
		t.Fatalf("device without a token: %v", err)
	}
}

func TestFCMGrantRefused(t *testing.T) {
	f := pushtest.NewFCM(t)
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadFCM(f.CredentialsFileWithKey(t, stranger), f.URL, f.Client(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), fcmDevice, testNotification())
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") || errors.Is(err, ErrGone) {
		t.Fatalf("send with a key Google does not know: %v", err)
	}
	if grants, sends := fcmCounts(f); grants != 0 || sends != 0 {
		t.Fatalf("%d grants and %d sends, want none", grants, sends)
	}
}

func TestLoadFCMRejectsBadCredentials(t *testing.T) {
	f := pushtest.NewFCM(t)
	good, _ := os.ReadFile(f.CredentialsFile(t))
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":   "{",
		"wrong type": strings.Replace(string(good), `"service_account"`, `"authorized_user"`, 1),
		"no project": strings.Replace(string(good), `"project_id":"plop-test"`, `"project_id":""`, 1),
		"bad pem":    strings.Replace(string(good), `-----BEGIN PRIVATE KEY-----`, `-----BEGIN NOTHING-----`, 1),
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := LoadFCM(path, "", nil, nil); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "MII") {
			t.Errorf("%s: the error shows the key: %v", name, err)
		}
	}
	if _, err := LoadFCM(filepath.Join(dir, "missing.json"), "", nil, nil); err == nil {
		t.Error("a missing file was accepted")
	}
	path := filepath.Join(dir, "good.json")
	os.WriteFile(path, good, 0o600)
	s, err := LoadFCM(path, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.sendURL != "https://fcm.googleapis.com/v1/projects/plop-test/messages:send" {
		t.Errorf("default send URL %s", s.sendURL)
	}
}
