package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/sqlstore/sqlstoretest"
)

// The database goes away under a live store: every call either succeeds or fails fast as
// unavailable, and the store recovers by itself when the database is back.

func TestMySQLUnreachable(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = Open(context.Background(), "mysql://root:secret@"+addr+"/plop", quietLogger())
	if !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("Open on a closed port = %v, want an error wrapping ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error shows the password: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Open took %v to fail", took)
	}
}

func TestMySQLKilledConnections(t *testing.T) {
	u, raw := mysqlServer(t, "")
	db := mustOpenURL(t, u)
	ctx := context.Background()
	a, b := mustUser(t, db, "Killed"), mustUser(t, db, "Other")
	r := mustRoom(t, db, t0, a, b)
	mustSend(t, db, r.ID, a.ID, "before", t0)
	if n := db.Stats().OpenConnections; n == 0 {
		t.Fatal("no pooled connections to kill")
	}

	name := strings.TrimPrefix(mustParseURL(t, u).Path, "/")
	for round := range 3 {
		// Kill every connection of the store from another connection, as an operator or a
		// server restart would.
		rows, err := raw.QueryContext(ctx, `SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()`, name)
		must(t, err)
		var ids []int64
		for rows.Next() {
			var id int64
			must(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		must(t, rows.Err())
		rows.Close()
		if len(ids) == 0 {
			t.Fatalf("round %d: no connections of the store found", round)
		}
		for _, id := range ids {
			if _, err := raw.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil && !strings.Contains(err.Error(), "Unknown thread") {
				t.Fatalf("KILL %d: %v", id, err)
			}
		}
		// Each call either succeeds on a fresh connection or says unavailable; soon
		// everything succeeds again.
		deadline := time.Now().Add(10 * time.Second)
		for ok := 0; ok < 5; {
			_, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "after",
				ClientMsgID: fmt.Sprintf("k-%d-%d", round, ok), CreatedAt: t0})
			if err == nil {
				_, err = db.Room(ctx, r.ID, b.ID)
			}
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, plop.ErrUnavailable):
				t.Fatalf("round %d: call after KILL = %v, want success or unavailable", round, err)
			case time.Now().After(deadline):
				t.Fatalf("round %d: still unavailable 10s after the kill: %v", round, err)
			}
		}
	}
	room, err := db.Room(ctx, r.ID, b.ID)
	must(t, err)
	if room.LastSeq != 16 {
		t.Fatalf("last seq %d, want 16", room.LastSeq)
	}
}

func TestMySQLOutageAndRecovery(t *testing.T) {
	u := sqlstoretest.MySQLURL(t)
	pu := mustParseURL(t, u)
	proxy := startProxy(t, pu.Host)
	pu.Host = proxy.addr
	pu.RawQuery = "readTimeout=1s&writeTimeout=1s&timeout=1s"
	db := mustOpenURL(t, pu.String())
	ctx := context.Background()
	a, b := mustUser(t, db, "Outage"), mustUser(t, db, "Peer")
	r := mustRoom(t, db, t0, a, b)
	mustSend(t, db, r.ID, a.ID, "before", t0)

	// calls runs a read and a write and returns the first error.
	n := 0
	calls := func() error {
		n++
		if _, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "x",
			ClientMsgID: fmt.Sprint("o-", n), CreatedAt: t0}); err != nil {
			return err
		}
		_, err := db.Friends(ctx, a.ID)
		return err
	}
	wantUnavailable := func(what string) {
		t.Helper()
		for i := range 2 {
			start := time.Now()
			err := calls()
			if !errors.Is(err, plop.ErrUnavailable) || plop.ErrorCode(err) != plop.EUnavailable {
				t.Fatalf("%s, call %d = %v, want unavailable", what, i, err)
			}
			if took := time.Since(start); took > 4*time.Second {
				t.Fatalf("%s, call %d took %v to fail", what, i, took)
			}
			if err := db.Ping(ctx); !errors.Is(err, plop.ErrUnavailable) {
				t.Fatalf("%s: Ping = %v, want unavailable", what, err)
			}
		}
	}
	wantRecovery := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := calls()
			if err == nil {
				return
			}
			if !errors.Is(err, plop.ErrUnavailable) {
				t.Fatalf("%s: %v, want success or unavailable", what, err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still failing 10s after the database came back: %v", what, err)
			}
		}
	}

	proxy.cut() // the server goes down: connections reset, new ones refused
	wantUnavailable("database down")
	proxy.resume()
	wantRecovery("after the restart")

	proxy.hang() // the server's host vanishes: nothing answers, nothing is refused
	wantUnavailable("database silent")
	proxy.resume()
	wantRecovery("after the network came back")

	// Whatever failed left no trace: the acknowledged sends are exactly the stored ones.
	room, err := db.Room(ctx, r.ID, b.ID)
	must(t, err)
	page, err := db.Messages(ctx, r.ID, 0, 0, plop.MaxPageSize)
	must(t, err)
	if int64(len(page)) != room.LastSeq || page[len(page)-1].Seq != room.LastSeq {
		t.Fatalf("%d messages stored, last seq %d", len(page), room.LastSeq)
	}
}

func mustParseURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	must(tb, err)
	return u
}
