package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/plop-chat/plop"
)

// TestValuesAtTheirLimits stores the largest values the services let through and reads them
// back unchanged: column sizes must hold them on every database (MySQL refuses, rather than
// truncates, what does not fit).
func TestValuesAtTheirLimits(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		emoji := "\U0001F600" // 4 bytes of UTF-8
		long := func(unit string, bytes int) string { return strings.Repeat(unit, bytes/len(unit)) }

		email := long("e", 254-len("@example.com")) + "@example.com"
		name := long(emoji, 64*4) // 64 characters, the longest name
		u := plop.User{ID: newID("u"), Email: email, Name: name, StatusMessage: long("é", 140*2),
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$" + long("s", 22) + "$" + long("h", 43), Verified: true, CreatedAt: t0}
		must(t, db.CreateUser(ctx, &u))
		got, err := db.UserByEmail(ctx, email)
		must(t, err)
		if got.Name != name || got.StatusMessage != u.StatusMessage || got.PasswordHash != u.PasswordHash {
			t.Fatalf("user at the limits came back changed: %+v", got)
		}
		found, err := db.SearchUsers(ctx, strings.Repeat(emoji, 10), 5)
		must(t, err)
		if len(found) != 1 || found[0].ID != u.ID {
			t.Fatalf("search by a prefix of 4-byte characters = %+v", found)
		}

		r := mustRoom(t, db, t0, u)
		body := long(emoji, plop.MaxMessageBody)
		clientID := long("c", plop.MaxClientMsgID)
		m, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: u.ID, Body: body, ClientMsgID: clientID, CreatedAt: t0})
		must(t, err)
		if !created || m.Body != body {
			t.Fatalf("longest message: created=%v, %d bytes back", created, len(m.Body))
		}
		reaction := long(emoji, plop.MaxReactionEmoji)
		_, err = db.SetReaction(ctx, r.ID, m.Seq, u.ID, reaction, true, t0)
		must(t, err)
		stored, err := db.Message(ctx, r.ID, m.Seq)
		must(t, err)
		if stored.Body != body || stored.ClientMsgID != clientID || len(stored.Reactions) != 1 || stored.Reactions[0].Emoji != reaction {
			t.Fatalf("longest message reloaded: %d bytes, client id %q, reactions %+v", len(stored.Body), stored.ClientMsgID, stored.Reactions)
		}

		token := "https://push.example.com/" + long("t", 4096-len("https://push.example.com/"))
		sub := json.RawMessage(`{"endpoint":"` + long("x", 4000) + `"}`)
		d, err := db.CreateDevice(ctx, &plop.Device{UserID: u.ID, Platform: plop.PlatformWebPush, Token: token, Subscription: sub, CreatedAt: t0})
		must(t, err)
		ds, err := db.Devices(ctx, u.ID)
		must(t, err)
		if len(ds) != 1 || ds[0].ID != d.ID || ds[0].Token != token || string(ds[0].Subscription) != string(sub) {
			t.Fatalf("longest device came back changed")
		}
	})
}

// TestKeysCompareExactly checks that keys differing only in case or trailing spaces are
// different keys, as they are in Go (MySQL's text collations, even utf8mb4_bin, would fold
// case or ignore trailing spaces; the key columns are binary).
func TestKeysCompareExactly(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a := mustUser(t, db, "Exact")
		r := mustRoom(t, db, t0, a)
		for _, id := range []string{"k", "k ", "K"} {
			_, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: id, ClientMsgID: id, CreatedAt: t0})
			must(t, err)
			if !created {
				t.Fatalf("client id %q taken for an earlier one", id)
			}
		}
		_, err := db.UserByID(ctx, a.ID+" ")
		wantCode(t, err, plop.ENotFound)
		_, err = db.UserByID(ctx, strings.ToUpper(a.ID))
		wantCode(t, err, plop.ENotFound)
		// Search still ignores case: through name_lower, not through a collation.
		for _, n := range []string{"zed", "Zed"} {
			u := plop.User{ID: newID("u"), Email: n + "." + newID("e") + "@example.com", Name: n, Verified: true, CreatedAt: t0}
			must(t, db.CreateUser(ctx, &u))
		}
		found, err := db.SearchUsers(ctx, "zed", 5)
		must(t, err)
		if len(found) != 2 {
			t.Fatalf("search found %d users named zed/Zed, want 2", len(found))
		}
	})
}
