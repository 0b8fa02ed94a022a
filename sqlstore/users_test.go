package sqlstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
)

func TestUserStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()

		t.Run("create and load", func(t *testing.T) {
			u := plop.User{ID: newID("u"), Email: "Alice@Example.com", Name: "Alice", StatusMessage: "hi",
				PasswordHash: "$argon2id$x", Verified: true, CreatedAt: t0.Add(1234567 * 1000)}
			must(t, db.CreateUser(ctx, &u))
			want := u
			want.Email = "alice@example.com"
			got, err := db.UserByID(ctx, u.ID)
			must(t, err)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("UserByID (-want +got):\n%s", d)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Fatalf("CreatedAt not UTC: %v", got.CreatedAt.Location())
			}
			got, err = db.UserByEmail(ctx, "alice@example.com")
			must(t, err)
			if got.ID != u.ID {
				t.Fatalf("UserByEmail = %s, want %s", got.ID, u.ID)
			}
		})

		t.Run("duplicate e-mail is a conflict, case-insensitively", func(t *testing.T) {
			a := mustUser(t, db, "Dup")
			b := plop.User{ID: newID("u"), Email: toUpper(a.Email), Name: "Other", CreatedAt: t0}
			wantCode(t, db.CreateUser(ctx, &b), plop.EConflict)
		})

		t.Run("not found", func(t *testing.T) {
			_, err := db.UserByID(ctx, "nobody")
			wantCode(t, err, plop.ENotFound)
			_, err = db.UserByEmail(ctx, "nobody@example.com")
			wantCode(t, err, plop.ENotFound)
			_, err = db.UpdateUser(ctx, "nobody", plop.UserUpdate{Name: ptr("x")})
			wantCode(t, err, plop.ENotFound)
			_, err = db.UpdateUser(ctx, "nobody", plop.UserUpdate{})
			wantCode(t, err, plop.ENotFound)
		})

		t.Run("users by ids", func(t *testing.T) {
			a, b := mustUser(t, db, "Ida"), mustUser(t, db, "Ivo")
			got, err := db.UsersByIDs(ctx, []string{a.ID, "missing", b.ID})
			must(t, err)
			ids := []string{}
			for _, u := range got {
				ids = append(ids, u.ID)
			}
			slices.Sort(ids)
			want := []string{a.ID, b.ID}
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Fatalf("UsersByIDs = %v, want %v", ids, want)
			}
			got, err = db.UsersByIDs(ctx, nil)
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("UsersByIDs(nil) = %v", got)
			}
		})

		t.Run("update", func(t *testing.T) {
			u := mustUser(t, db, "Upd")
			got, err := db.UpdateUser(ctx, u.ID, plop.UserUpdate{Name: ptr("Zed"), StatusMessage: ptr("busy"),
				AvatarKey: ptr("avatars/a.jpg"), Verified: ptr(false), PasswordHash: ptr("new")})
			must(t, err)
			want := u
			want.Name, want.StatusMessage, want.AvatarKey, want.Verified, want.PasswordHash = "Zed", "busy", "avatars/a.jpg", false, "new"
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("UpdateUser (-want +got):\n%s", d)
			}
			again, err := db.UserByID(ctx, u.ID)
			must(t, err)
			if d := cmp.Diff(want, again); d != "" {
				t.Fatalf("after update (-want +got):\n%s", d)
			}
			// An empty update changes nothing and returns the user.
			same, err := db.UpdateUser(ctx, u.ID, plop.UserUpdate{})
			must(t, err)
			if d := cmp.Diff(want, same); d != "" {
				t.Fatalf("empty update (-want +got):\n%s", d)
			}
		})
	})
}

func TestSearchUsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		mk := func(name, email string, verified bool) plop.User {
			u := plop.User{ID: newID("u"), Email: email, Name: name, Verified: verified, CreatedAt: t0}
			must(t, db.CreateUser(ctx, &u))
			return u
		}
		mk("Bob", "bob@example.com", true)
		mk("bobby tables", "tables@example.com", true)
		mk("Bo_b", "under@example.com", true)
		mk("Bob Unverified", "unverified@example.com", false)
		mk("Alice", "alice-bob@example.com", true)
		mk("Émile", "emile@example.com", true)
		mk("100% Bob", "percent@example.com", true)

		names := func(us []plop.User) []string {
			out := []string{}
			for _, u := range us {
				out = append(out, u.Name)
			}
			return out
		}
		cases := []struct {
			q     string
			limit int
			want  []string
		}{
			{"bob", 10, []string{"Bob", "bobby tables"}}, // prefix, case-insensitive, verified only, by name
			{"BOB", 10, []string{"Bob", "bobby tables"}},
			{"bob", 1, []string{"Bob"}},
			{"bo_", 10, []string{"Bo_b"}},                        // "_" is no wildcard
			{"100%", 10, []string{"100% Bob"}},                   // "%" is no wildcard
			{"%", 10, []string{}},                                // nor alone
			{"tables@example.com", 10, []string{"bobby tables"}}, // exact e-mail
			{"TABLES@example.com", 10, []string{"bobby tables"}},
			{"tables@", 10, []string{}},                // e-mail is not prefix-matched
			{"unverified@example.com", 10, []string{}}, // unverified users are never found
			{"émi", 10, []string{"Émile"}},
			{"ob", 10, []string{}}, // names match by prefix only
			{"", 10, []string{}},
		}
		for _, c := range cases {
			got, err := db.SearchUsers(ctx, c.q, c.limit)
			must(t, err)
			if d := cmp.Diff(c.want, names(got)); d != "" {
				t.Errorf("SearchUsers(%q, %d) (-want +got):\n%s", c.q, c.limit, d)
			}
		}
	})
}

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a", "b"}, {"az", "a{"}, {"é", "ê"}, {"a\U0010FFFF", "b"}, {"a\ud7ff", "a\ue000"},
	} {
		if got := prefixEnd(c.in); got != c.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
