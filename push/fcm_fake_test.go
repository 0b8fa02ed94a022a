package push

import (
	"testing"
	"time"

	"github.com/plop-chat/plop/push/pushtest"
)

// mustFCM loads an FCM sender for the fake f with quick retries.
func mustFCM(tb testing.TB, f *pushtest.FCM) *FCM {
	tb.Helper()
	s, err := LoadFCM(f.CredentialsFile(tb), f.URL, f.Client(), quietLogger())
	if err != nil {
		tb.Fatal(err)
	}
	s.retry = retryPolicy{tries: 4, base: time.Millisecond, max: 5 * time.Second}
	s.tokens.retry = s.retry
	return s
}

// fcmCounts returns how many grants and sends f has seen.
func fcmCounts(f *pushtest.FCM) (grants, sends int) { return f.Grants(), len(f.Sends()) }
