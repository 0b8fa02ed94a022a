package push

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plop-chat/plop"
)

const testSubject = "mailto:ops@plop.example"

// fakePushService is a browser's push service on loopback (TLS, as RFC 8030 requires) that
// checks the VAPID JWT (ES256, aud = its own origin, exp within a day, sub) and the headers,
// and decrypts each message with the subscription's private key, as the browser would.
type fakePushService struct {
	tb   testing.TB
	srv  *httptest.Server
	ua   *ecdh.PrivateKey
	auth []byte

	mu       sync.Mutex
	received []pushReceived
	answer   func(n int) (status int, header http.Header) // n counts accepted requests from 1
}

type pushReceived struct {
	payload WebPayload
	header  http.Header
	size    int    // bytes of the encrypted body
	key     string // the k= of the Authorization header
}

var topicRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

func newFakePushService(tb testing.TB) *fakePushService {
	tb.Helper()
	ua, auth := browserKeys(tb)
	p := &fakePushService{tb: tb, ua: ua, auth: auth}
	p.answer = func(int) (int, http.Header) { return http.StatusCreated, nil }
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	tb.Cleanup(p.srv.Close)
	return p
}

// device returns a webpush device subscribed to p.
func (p *fakePushService) device() plop.Device {
	sub, _ := json.Marshal(map[string]any{
		"endpoint": p.srv.URL + "/wpush/v2/sub-123",
		"keys": map[string]string{
			"p256dh": base64.RawURLEncoding.EncodeToString(p.ua.PublicKey().Bytes()),
			"auth":   base64.RawURLEncoding.EncodeToString(p.auth),
		},
	})
	return plop.Device{ID: "web-1", UserID: "u-1", Platform: plop.PlatformWebPush, Token: p.srv.URL + "/wpush/v2/sub-123", Subscription: sub}
}

func (p *fakePushService) serve(w http.ResponseWriter, r *http.Request) {
	key, err := p.check(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > 4096 {
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	plain, err := decryptPush(p.ua, p.auth, body)
	if err != nil {
		http.Error(w, "cannot decrypt: "+err.Error(), http.StatusBadRequest)
		return
	}
	var payload WebPayload
	if err := json.Unmarshal(plain, &payload); err != nil {
		http.Error(w, "payload is not JSON", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.received = append(p.received, pushReceived{payload: payload, header: r.Header.Clone(), size: len(body), key: key})
	n := len(p.received)
	p.mu.Unlock()
	status, header := p.answer(n)
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
}

// check verifies the request's method, headers and VAPID authorization; it returns the
// VAPID public key.
func (p *fakePushService) check(r *http.Request) (string, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/wpush/v2/sub-123" {
		return "", fmt.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" {
		return "", errors.New("Content-Encoding")
	}
	if ttl, err := strconv.Atoi(r.Header.Get("TTL")); err != nil || ttl < 0 {
		return "", errors.New("TTL")
	}
	if u := r.Header.Get("Urgency"); u != "" && u != "very-low" && u != "low" && u != "normal" && u != "high" {
		return "", errors.New("Urgency")
	}
	if t := r.Header.Get("Topic"); t != "" && !topicRE.MatchString(t) {
		return "", fmt.Errorf("Topic %q", t)
	}
	m := regexp.MustCompile(`^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$`).FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", errors.New("Authorization is not vapid t=..., k=...")
	}
	raw, err := base64.RawURLEncoding.DecodeString(m[2])
	if err != nil {
		return "", err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return "", fmt.Errorf("k: %w", err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(m[1], claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(p.srv.URL), jwt.WithExpirationRequired())
	if err != nil {
		return "", fmt.Errorf("vapid jwt: %w", err)
	}
	if exp, _ := claims.GetExpirationTime(); exp.After(time.Now().Add(24 * time.Hour)) {
		return "", errors.New("vapid jwt expires more than 24 hours ahead")
	}
	if claims["sub"] != testSubject {
		return "", fmt.Errorf("vapid sub %v", claims["sub"])
	}
	return m[2], nil
}

func (p *fakePushService) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.received)
}

// mustWebPush returns a WebPush sender with a new VAPID key, trusting p's certificate and
// retrying quickly.
func mustWebPush(tb testing.TB, p *fakePushService) (*WebPush, *VAPID) {
	tb.Helper()
	v, err := LoadOrCreateVAPID(filepath.Join(tb.TempDir(), "vapid.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	w := NewWebPush(v, testSubject, p.srv.Client(), quietLogger())
	w.retry = retryPolicy{tries: 4, base: time.Millisecond, max: 5 * time.Second}
	return w, v
}

func TestWebPushDelivers(t *testing.T) {
	p := newFakePushService(t)
	w, v := mustWebPush(t, p)
	if err := w.Send(context.Background(), p.device(), testNotification()); err != nil {
		t.Fatal(err)
	}
	if p.count() != 1 {
		t.Fatalf("%d pushes received", p.count())
	}
	got := p.received[0]
	want := WebPayload{Title: "Ana", Body: "are we still on for tonight?", RoomID: "room-1", Count: 3, Tag: "room:room-1",
		Data: map[string]string{"room_id": "room-1", "seq": "42", "count": "3"}}
	if fmt.Sprint(got.payload) != fmt.Sprint(want) {
		t.Errorf("payload %+v, want %+v", got.payload, want)
	}
	if got.key != v.PublicKey() {
		t.Errorf("k=%s, want the VAPID public key %s", got.key, v.PublicKey())
	}
	h := got.header
	if h.Get("TTL") != "3600" || h.Get("Urgency") != "high" || h.Get("Topic") != topic("room:room-1") {
		t.Errorf("headers TTL %q Urgency %q Topic %q", h.Get("TTL"), h.Get("Urgency"), h.Get("Topic"))
	}

	// Defaults, and a body too long for one message is cut to fit.
	n := Notification{Title: "Ben", Body: strings.Repeat("ok ", 2000), Data: map[string]string{"big": strings.Repeat("d", 3000)}}
	if err := w.Send(context.Background(), p.device(), n); err != nil {
		t.Fatal(err)
	}
	got = p.received[1]
	if got.header.Get("TTL") != "86400" || got.header.Get("Urgency") != "normal" || got.header.Get("Topic") != "" {
		t.Errorf("default headers %v", got.header)
	}
	if got.size > 4096 || !strings.HasSuffix(got.payload.Body, "…") || !strings.HasPrefix(got.payload.Body, "ok ok") {
		t.Errorf("long body sent in %d bytes as %.20q…", got.size, got.payload.Body)
	}
	n.Data["big"] = strings.Repeat("d", 4000)
	if err := w.Send(context.Background(), p.device(), n); err == nil || errors.Is(err, ErrGone) {
		t.Errorf("data too large for a push: %v", err)
	}
}

func TestWebPushStatuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []int
		tries   int
		gone    bool
		unavail bool
		ok      bool
	}{
		{"accepted", []int{201}, 1, false, false, true},
		{"accepted later", []int{202}, 1, false, false, true},
		{"not found", []int{404}, 1, true, false, false},
		{"gone", []int{410}, 1, true, false, false},
		{"too large", []int{413}, 1, false, false, false},
		{"bad vapid", []int{403}, 1, false, false, false},
		{"throttled then accepted", []int{429, 201}, 2, false, false, true},
		{"server errors", []int{500, 502, 503, 500}, 4, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newFakePushService(t)
			p.answer = func(n int) (int, http.Header) { return tc.answers[min(n, len(tc.answers))-1], nil }
			w, _ := mustWebPush(t, p)
			err := w.Send(context.Background(), p.device(), testNotification())
			if (err == nil) != tc.ok || errors.Is(err, ErrGone) != tc.gone || errors.Is(err, plop.ErrUnavailable) != tc.unavail {
				t.Fatalf("error %v: want ok %v, gone %v, unavailable %v", err, tc.ok, tc.gone, tc.unavail)
			}
			if p.count() != tc.tries {
				t.Fatalf("%d requests, want %d", p.count(), tc.tries)
			}
		})
	}
}

func TestWebPushUnusableSubscriptions(t *testing.T) {
	p := newFakePushService(t)
	w, _ := mustWebPush(t, p)
	good := p.device()
	for name, sub := range map[string]string{
		"empty":        ``,
		"not json":     `{`,
		"http":         strings.Replace(string(good.Subscription), "https://", "http://", 1),
		"short key":    `{"endpoint":"https://push.example/x","keys":{"p256dh":"BAAA","auth":"` + base64.RawURLEncoding.EncodeToString(p.auth) + `"}}`,
		"short auth":   strings.Replace(string(good.Subscription), base64.RawURLEncoding.EncodeToString(p.auth), "AAAA", 1),
		"no endpoint":  `{"keys":{}}`,
		"not on curve": strings.Replace(string(good.Subscription), base64.RawURLEncoding.EncodeToString(p.ua.PublicKey().Bytes()), "B"+strings.Repeat("A", 86), 1),
	} {
		d := good
		d.Subscription = json.RawMessage(sub)
		if err := w.Send(context.Background(), d, testNotification()); !errors.Is(err, ErrGone) {
			t.Errorf("%s: %v, want ErrGone", name, err)
		}
	}
	if p.count() != 0 {
		t.Fatalf("%d requests for unusable subscriptions", p.count())
	}

	// Padded and standard base64 keys, as some browsers once sent, still work.
	var s subscription
	json.Unmarshal(good.Subscription, &s)
	s.Keys.P256dh = base64.StdEncoding.EncodeToString(p.ua.PublicKey().Bytes())
	s.Keys.Auth = base64.URLEncoding.EncodeToString(p.auth)
	good.Subscription, _ = json.Marshal(s)
	if err := w.Send(context.Background(), good, testNotification()); err != nil {
		t.Fatalf("padded keys: %v", err)
	}
}

func TestWebPushDefaultClientRefusesPrivateAddresses(t *testing.T) {
	p := newFakePushService(t)
	v, err := LoadOrCreateVAPID(filepath.Join(t.TempDir(), "vapid.pem"))
	if err != nil {
		t.Fatal(err)
	}
	w := NewWebPush(v, testSubject, nil, quietLogger())
	w.retry = retryPolicy{tries: 1}
	err = w.Send(context.Background(), p.device(), testNotification())
	if err == nil || !strings.Contains(err.Error(), "not public") {
		t.Fatalf("push to a loopback endpoint with the default client: %v", err)
	}
	if p.count() != 0 {
		t.Fatal("the loopback push service was reached")
	}
	for addr, public := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "192.168.1.1": false, "172.16.0.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fd00::1": false, "::ffff:10.0.0.1": false,
		"64:ff9b::a00:1": false, "224.0.0.1": false, "8.8.8.8": true, "142.250.74.10": true, "2607:f8b0:4004:c07::5f": true,
	} {
		if got := isPublic(netip.MustParseAddr(addr)); got != public {
			t.Errorf("isPublic(%s) = %v", addr, got)
		}
	}
}

func TestTopic(t *testing.T) {
	if topic("room-1") != "room-1" {
		t.Errorf("a short base64url tag is changed to %q", topic("room-1"))
	}
	long := topic("room:0190c6b2-8f1e-7d3a-9b4c-5e6f7a8b9c0d")
	if !topicRE.MatchString(long) || len(long) != 32 || long != topic("room:0190c6b2-8f1e-7d3a-9b4c-5e6f7a8b9c0d") {
		t.Errorf("topic of a long tag %q", long)
	}
	if long == topic("room:0190c6b2-8f1e-7d3a-9b4c-5e6f7a8b9c0e") {
		t.Error("two rooms share a topic")
	}
}

func TestLoadOrCreateVAPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "vapid.pem")
	v1, err := LoadOrCreateVAPID(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode().Perm())
	}
	raw, err := base64.RawURLEncoding.DecodeString(v1.PublicKey())
	if err != nil || len(raw) != 65 || raw[0] != 4 {
		t.Fatalf("public key %q is not a base64url uncompressed point", v1.PublicKey())
	}
	v2, err := LoadOrCreateVAPID(path)
	if err != nil || v2.PublicKey() != v1.PublicKey() {
		t.Fatalf("reloaded key %v differs: %v", v2, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key directory holds %d files, want only the key", len(entries))
	}

	// A SEC 1 key ("EC PRIVATE KEY", as openssl writes) is read too; junk and other curves
	// are not.
	dir := t.TempDir()
	writeKey := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(k256)
	if v, err := LoadOrCreateVAPID(writeKey("sec1.pem", "EC PRIVATE KEY", sec1)); err != nil {
		t.Errorf("SEC 1 key: %v", err)
	} else if pub, _ := k256.PublicKey.ECDH(); v.PublicKey() != base64.RawURLEncoding.EncodeToString(pub.Bytes()) {
		t.Error("SEC 1 key read as another key")
	}
	k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKCS8PrivateKey(k384)
	if _, err := LoadOrCreateVAPID(writeKey("p384.pem", "PRIVATE KEY", der384)); err == nil {
		t.Error("a P-384 key accepted")
	}
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateVAPID(junk); err == nil {
		t.Error("junk accepted as a key")
	}
}
