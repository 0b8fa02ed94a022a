package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/internal/servertest"
)

// seedFriends creates a verified user with n friends directly through the services and
// returns the user's access token.
func seedFriends(tb testing.TB, srv *servertest.Server, n int) string {
	tb.Helper()
	ctx := context.Background()
	a := srv.Node.App()
	newUser := func(i int) (app.Tokens, string) {
		email := fmt.Sprintf("seed%d@example.com", i)
		addr := fmt.Sprintf("198.51.100.%d", i%250) // spread the per-address rate limits
		u, err := a.Signup(ctx, app.SignupInput{Email: email, Password: password, Name: fmt.Sprintf("Friend %03d", i)}, addr)
		if err != nil {
			tb.Fatalf("signup %d: %v", i, err)
		}
		tok, err := a.Verify(ctx, email, srv.Code(tb, email), addr)
		if err != nil {
			tb.Fatalf("verify %d: %v", i, err)
		}
		return tok, u.ID
	}
	me, meID := newUser(0)
	for i := 1; i <= n; i++ {
		_, id := newUser(i)
		req, err := a.SendFriendRequest(ctx, id, app.FriendRequestInput{UserID: meID})
		if err != nil {
			tb.Fatalf("friend request %d: %v", i, err)
		}
		if _, err := a.AcceptFriendRequest(ctx, meID, req.ID); err != nil {
			tb.Fatalf("accept %d: %v", i, err)
		}
	}
	return me.AccessToken
}

// discardWriter is a ResponseWriter that keeps only the status, so that the benchmark
// measures the handler and not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header  { return w.h }
func (w *discardWriter) WriteHeader(code int) { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

// BenchmarkFriends measures GET /api/v1/friends with 50 friends through the whole handler
// (middleware, token check, services, SQLite store), without the network.
func BenchmarkFriends(b *testing.B) {
	srv := servertest.Start(b)
	token := seedFriends(b, srv, 50)
	h := srv.Node.Handler()

	req := httptest.NewRequest("GET", "/api/v1/friends", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Friends []json.RawMessage `json:"friends"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || len(out.Friends) != 50 {
		b.Fatalf("GET /api/v1/friends: %d, %d friends: %.200s", rec.Code, len(out.Friends), rec.Body)
	}

	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(rec.Body.Len()), "resp-bytes")
}
