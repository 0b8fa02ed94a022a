// Package pushtest gives tests a Firebase Cloud Messaging on loopback: the HTTP v1 send API
// and Google's OAuth token endpoint, checking what the real ones check, so that a test can
// point push.LoadFCM (or PLOP_FCM_CREDENTIALS and PLOP_FCM_ENDPOINT) at it and count what a
// device would have received.
package pushtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identity of the service account that FCM's credentials files name.
const (
	Project     = "plop-test"
	ClientEmail = "plop-push@plop-test.iam.gserviceaccount.com"
	KeyID       = "key-1"
	// Scope is the OAuth scope a grant for FCM must ask for.
	Scope = "https://www.googleapis.com/auth/firebase.messaging"
)

// FCM checks what the real FCM and Google's token endpoint check: the grant's JWT (RS256
// with the service account's key, kid, iss, scope, aud, iat, and a lifetime of at most an
// hour), the bearer token it issued on every send, the project in the path and the shape of
// the message (unknown fields are refused). Sends are accepted unless an answer is scripted
// (SetAnswer) or the token was unregistered (Unregister).
type FCM struct {
	// URL is the base URL of both APIs: the FCM endpoint, with the token endpoint at
	// URL/token.
	URL string

	tb  testing.TB
	srv *httptest.Server
	key *rsa.PrivateKey // the service account's key, whose public half verifies grants

	mu           sync.Mutex
	issued       map[string]bool
	grants       int
	denied       int  // sends refused for their bearer token
	deny         bool // refuse every bearer token
	sends        []Send
	unregistered map[string]bool
	answer       func(n int, m Message) (status int, header http.Header, body string)
}

// Send is one message FCM accepted for delivery, or answered as scripted.
type Send struct {
	At      time.Time
	Message Message
}

// Message is the v1 message as FCM parses it.
type Message struct {
	Token        string            `json:"token"`
	Notification map[string]string `json:"notification"`
	Data         map[string]string `json:"data"`
	Android      struct {
		Priority     string            `json:"priority"`
		TTL          string            `json:"ttl"`
		CollapseKey  string            `json:"collapse_key"`
		Notification map[string]string `json:"notification"`
	} `json:"android"`
	APNS struct {
		Headers map[string]string `json:"headers"`
		Payload struct {
			APS struct {
				Alert    map[string]string `json:"alert"`
				Badge    int               `json:"badge"`
				ThreadID string            `json:"thread-id"`
			} `json:"aps"`
		} `json:"payload"`
	} `json:"apns"`
}

// serviceAccountKey is the service account's RSA key, made once per test binary: 2048-bit
// keys are slow to generate.
var serviceAccountKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// NewFCM starts a fake FCM that stops when tb ends.
func NewFCM(tb testing.TB) *FCM {
	tb.Helper()
	key, err := serviceAccountKey()
	if err != nil {
		tb.Fatal(err)
	}
	f := &FCM{tb: tb, key: key, issued: map[string]bool{}, unregistered: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	tb.Cleanup(f.srv.Close)
	return f
}

// Client returns an HTTP client for the fake.
func (f *FCM) Client() *http.Client { return f.srv.Client() }

// CredentialsFile writes the service account's JSON key file, as the Firebase console hands
// it out with token_uri pointing at the fake, and returns its path.
func (f *FCM) CredentialsFile(tb testing.TB) string {
	tb.Helper()
	return f.CredentialsFileWithKey(tb, f.key)
}

// CredentialsFileWithKey is CredentialsFile with another private key: one the fake does not
// know, whose grants it refuses.
func (f *FCM) CredentialsFileWithKey(tb testing.TB, key *rsa.PrivateKey) string {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	data, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     Project,
		"private_key_id": KeyID,
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   ClientEmail,
		"client_id":      "1234567890",
		"token_uri":      f.URL + "/token",
	})
	path := filepath.Join(tb.TempDir(), "service-account.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// SetAnswer scripts the answers to sends: answer gets the number of the send (from 1) and
// the message. Nil restores the default (accept, unless the token was unregistered).
func (f *FCM) SetAnswer(answer func(n int, m Message) (status int, header http.Header, body string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = answer
}

// Unregister makes FCM answer sends to token with 404 UNREGISTERED, as it does for an app
// that was uninstalled.
func (f *FCM) Unregister(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unregistered[token] = true
}

// Deny refuses every bearer token from now on, even freshly granted ones.
func (f *FCM) Deny() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny = true
}

// Revoke makes every access token issued so far invalid, as when Google rotates them.
func (f *FCM) Revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.issued)
}

// Sends returns the sends FCM took in (refused bearer tokens and bad messages excepted).
func (f *FCM) Sends() []Send {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Send(nil), f.sends...)
}

// SendsTo returns the sends to one registration token.
func (f *FCM) SendsTo(token string) []Send {
	var out []Send
	for _, s := range f.Sends() {
		if s.Message.Token == token {
			out = append(out, s)
		}
	}
	return out
}

// Grants returns how many access tokens the token endpoint issued.
func (f *FCM) Grants() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants
}

// Denied returns how many sends were refused for their bearer token.
func (f *FCM) Denied() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.denied
}

func (f *FCM) token(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, `{"error":"invalid_request"}`, 400)
		return
	}
	if r.PostFormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		http.Error(w, `{"error":"unsupported_grant_type"}`, 400)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostFormValue("assertion"), claims, func(t *jwt.Token) (any, error) {
		if t.Header["kid"] != KeyID {
			return nil, fmt.Errorf("kid %v", t.Header["kid"])
		}
		return &f.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(ClientEmail), jwt.WithAudience(f.URL+"/token"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err == nil && claims["scope"] != Scope {
		err = fmt.Errorf("scope %v", claims["scope"])
	}
	if err == nil {
		iat, _ := claims.GetIssuedAt()
		exp, _ := claims.GetExpirationTime()
		if iat == nil || exp.Sub(iat.Time) > time.Hour {
			err = fmt.Errorf("lifetime over an hour")
		}
	}
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, err.Error())
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := "ya29." + base64.RawURLEncoding.EncodeToString(b)
	f.mu.Lock()
	f.issued[tok] = true
	f.grants++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"token_type":"Bearer"}`, tok)
}

func (f *FCM) send(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	ok := f.issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] && !f.deny
	if !ok {
		f.denied++
	}
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		return
	}
	if r.PathValue("project") != Project {
		w.WriteHeader(403)
		fmt.Fprint(w, `{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED"}}`)
		return
	}
	var body struct {
		Message Message `json:"message"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Message.Token == "" {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"code":400,"message":%q,"status":"INVALID_ARGUMENT"}}`, fmt.Sprint("bad message: ", err))
		return
	}
	f.mu.Lock()
	f.sends = append(f.sends, Send{At: time.Now(), Message: body.Message})
	n, answer, gone := len(f.sends), f.answer, f.unregistered[body.Message.Token]
	f.mu.Unlock()
	status, header, out := 200, http.Header(nil), fmt.Sprintf(`{"name":"projects/%s/messages/%d"}`, Project, n)
	switch {
	case answer != nil:
		status, header, out = answer(n, body.Message)
	case gone:
		status, out = 404, `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	fmt.Fprint(w, out)
}
