package contract

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// TestCodeStore checks the behaviour every plop.CodeStore must have: a saved code reads back
// intact, wrong tries are counted (atomically), a new code replaces the old one and its
// count, and a deleted or never saved code is not_found. E-mail addresses are fresh per run
// and in lower case, as the services hand them over.
func TestCodeStore(t *testing.T, newStore func(t *testing.T) plop.CodeStore) {
	ctx := context.Background()
	base := plop.UTC(time.Now())
	newEmail := func() string { return strings.ToLower(newID("code")) + "@example.com" }
	load := func(t *testing.T, st plop.CodeStore, email string) plop.VerificationCode {
		t.Helper()
		c, err := st.Code(ctx, email)
		if err != nil {
			t.Fatalf("load code of %s: %v", email, err)
		}
		return c
	}
	save := func(t *testing.T, st plop.CodeStore, c plop.VerificationCode) {
		t.Helper()
		if err := st.SaveCode(ctx, c); err != nil {
			t.Fatalf("save code of %s: %v", c.Email, err)
		}
	}
	wantCode := func(t *testing.T, what string, got, want plop.VerificationCode) {
		t.Helper()
		if got.Email != want.Email || got.CodeHash != want.CodeHash || !got.ExpiresAt.Equal(want.ExpiresAt) ||
			got.Attempts != want.Attempts || !got.SentAt.Equal(want.SentAt) {
			t.Fatalf("%s = %+v, want %+v", what, got, want)
		}
	}
	attempt := func(t *testing.T, st plop.CodeStore, email string) int {
		t.Helper()
		n, err := st.AddCodeAttempt(ctx, email)
		if err != nil {
			t.Fatalf("count an attempt on %s: %v", email, err)
		}
		return n
	}

	t.Run("SaveAttemptsReplaceDelete", func(t *testing.T) {
		st := newStore(t)
		c := plop.VerificationCode{Email: newEmail(), CodeHash: "hash-1", ExpiresAt: base.Add(10 * time.Minute), SentAt: base}
		save(t, st, c)
		wantCode(t, "the saved code", load(t, st, c.Email), c)

		for want := 1; want <= 3; want++ {
			if n := attempt(t, st, c.Email); n != want {
				t.Fatalf("attempts = %d, want %d", n, want)
			}
		}
		c.Attempts = 3
		wantCode(t, "the code after 3 wrong tries", load(t, st, c.Email), c)

		// A new code replaces the old one and forgets its attempts.
		c2 := plop.VerificationCode{Email: c.Email, CodeHash: "hash-2", ExpiresAt: base.Add(20 * time.Minute), SentAt: base.Add(time.Minute)}
		save(t, st, c2)
		wantCode(t, "the replacing code", load(t, st, c.Email), c2)
		if n := attempt(t, st, c.Email); n != 1 {
			t.Fatalf("first attempt on the replacing code = %d, want 1", n)
		}

		if err := st.DeleteCode(ctx, c.Email); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := st.Code(ctx, c.Email); plop.ErrorCode(err) != plop.ENotFound {
			t.Fatalf("loading a deleted code: err = %v, want not_found", err)
		}
		if _, err := st.AddCodeAttempt(ctx, c.Email); plop.ErrorCode(err) != plop.ENotFound {
			t.Fatalf("counting an attempt on a deleted code: err = %v, want not_found", err)
		}
		if _, err := st.Code(ctx, c.Email); plop.ErrorCode(err) != plop.ENotFound {
			t.Fatalf("counting an attempt on a deleted code brought it back: err = %v", err)
		}
		if err := st.DeleteCode(ctx, c.Email); err != nil {
			t.Fatalf("deleting a missing code: %v", err)
		}
	})

	t.Run("SavedAttemptsCount", func(t *testing.T) {
		st := newStore(t)
		c := plop.VerificationCode{Email: newEmail(), CodeHash: "h", ExpiresAt: base.Add(time.Minute), Attempts: 2, SentAt: base}
		save(t, st, c)
		if n := attempt(t, st, c.Email); n != 3 {
			t.Fatalf("attempt after saving 2 = %d, want 3", n)
		}
	})

	t.Run("NeverSaved", func(t *testing.T) {
		st := newStore(t)
		email := newEmail()
		if _, err := st.Code(ctx, email); plop.ErrorCode(err) != plop.ENotFound {
			t.Fatalf("loading a code never saved: err = %v, want not_found", err)
		}
		if _, err := st.AddCodeAttempt(ctx, email); plop.ErrorCode(err) != plop.ENotFound {
			t.Fatalf("counting an attempt on a code never saved: err = %v, want not_found", err)
		}
	})

	t.Run("AddressesAreIndependent", func(t *testing.T) {
		st := newStore(t)
		a := plop.VerificationCode{Email: newEmail(), CodeHash: "a", ExpiresAt: base.Add(time.Minute), SentAt: base}
		b := plop.VerificationCode{Email: newEmail(), CodeHash: "b", ExpiresAt: base.Add(2 * time.Minute), SentAt: base}
		save(t, st, a)
		save(t, st, b)
		attempt(t, st, a.Email)
		if err := st.DeleteCode(ctx, a.Email); err != nil {
			t.Fatalf("delete: %v", err)
		}
		wantCode(t, "the other address's code", load(t, st, b.Email), b)
	})

	t.Run("ConcurrentAttempts", func(t *testing.T) {
		st := newStore(t)
		c := plop.VerificationCode{Email: newEmail(), CodeHash: "h", ExpiresAt: base.Add(time.Minute), SentAt: base}
		save(t, st, c)
		const n = 20
		got := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k, err := st.AddCodeAttempt(ctx, c.Email)
				if err != nil {
					t.Errorf("attempt: %v", err)
				}
				got[i] = k
			})
		}
		wg.Wait()
		slices.Sort(got)
		for i, k := range got {
			if k != i+1 {
				t.Fatalf("%d concurrent attempts answered %v, want each of 1..%d once", n, got, n)
			}
		}
	})
}
