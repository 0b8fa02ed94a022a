package push

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

// fakeFCM checks what the real FCM and Google's token endpoint check: the grant's JWT
// (RS256 with the service account's key, kid, iss, scope, aud, iat, exp), the bearer token it
// issued, the project in the path and the shape of the message. Its answers to sends are
// scripted.
type fakeFCM struct {
	tb      testing.TB
	srv     *httptest.Server
	key     *rsa.PrivateKey // the service account's key, whose public half verifies grants
	keyID   string
	email   string
	project string

	mu     sync.Mutex
	issued map[string]bool
	grants int
	denied int  // sends refused for their bearer token
	deny   bool // refuse every bearer token
	sends  []fcmReceived
	answer func(n int) (status int, header http.Header, body string) // n counts sends from 1
}

// fcmReceived is one send FCM took in.
type fcmReceived struct {
	at      time.Time
	message wireMessage
}

// wireMessage is the v1 message as FCM parses it; unknown fields are refused.
type wireMessage struct {
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

// serviceAccountKey is the service account's RSA key, made once: 2048-bit keys are slow to
// generate.
var serviceAccountKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newFakeFCM(tb testing.TB) *fakeFCM {
	tb.Helper()
	key, err := serviceAccountKey()
	if err != nil {
		tb.Fatal(err)
	}
	f := &fakeFCM{tb: tb, key: key, keyID: "key-1", email: "plop-push@plop-test.iam.gserviceaccount.com",
		project: "plop-test", issued: map[string]bool{}}
	f.answer = func(int) (int, http.Header, string) { return 200, nil, `{"name":"projects/plop-test/messages/1"}` }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

// credentials writes the service-account key file of f and returns its path; key signs the
// grants (f.key unless another is given).
func (f *fakeFCM) credentials(key *rsa.PrivateKey) string {
	f.tb.Helper()
	if key == nil {
		key = f.key
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		f.tb.Fatal(err)
	}
	data, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     f.project,
		"private_key_id": f.keyID,
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   f.email,
		"client_id":      "1234567890",
		"token_uri":      f.srv.URL + "/token",
	})
	path := filepath.Join(f.tb.TempDir(), "service-account.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		f.tb.Fatal(err)
	}
	return path
}

func (f *fakeFCM) token(w http.ResponseWriter, r *http.Request) {
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
		if t.Header["kid"] != f.keyID {
			return nil, fmt.Errorf("kid %v", t.Header["kid"])
		}
		return &f.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(f.email), jwt.WithAudience(f.srv.URL+"/token"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err == nil && claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
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

func (f *fakeFCM) send(w http.ResponseWriter, r *http.Request) {
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
	if r.PathValue("project") != f.project {
		w.WriteHeader(403)
		fmt.Fprint(w, `{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED"}}`)
		return
	}
	var body struct {
		Message wireMessage `json:"message"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Message.Token == "" {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"code":400,"message":%q,"status":"INVALID_ARGUMENT"}}`, fmt.Sprint("bad message: ", err))
		return
	}
	f.mu.Lock()
	f.sends = append(f.sends, fcmReceived{at: time.Now(), message: body.Message})
	n := len(f.sends)
	f.mu.Unlock()
	status, header, answer := f.answer(n)
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	fmt.Fprint(w, answer)
}

// counts returns how many grants and sends f has seen.
func (f *fakeFCM) counts() (grants, sends int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants, len(f.sends)
}

// revoke makes every issued access token invalid, as when Google rotates them.
func (f *fakeFCM) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.issued)
}

// mustFCM loads an FCM sender for f with quick retries.
func mustFCM(tb testing.TB, f *fakeFCM) *FCM {
	tb.Helper()
	s, err := LoadFCM(f.credentials(nil), f.srv.URL, f.srv.Client(), quietLogger())
	if err != nil {
		tb.Fatal(err)
	}
	s.retry = retryPolicy{tries: 4, base: time.Millisecond, max: 5 * time.Second}
	s.tokens.retry = s.retry
	return s
}
