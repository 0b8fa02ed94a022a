package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

func TestDeviceStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a, b := mustUser(t, db, "Pa"), mustUser(t, db, "Pb")
		endpoint := "https://push.example.com/send/" + strings.Repeat("x", 600) // longer than most index key limits
		sub := json.RawMessage(`{"endpoint":"` + endpoint + `","keys":{"p256dh":"k1","auth":"a1"}}`)

		fcm, err := db.CreateDevice(ctx, &plop.Device{UserID: a.ID, Platform: plop.PlatformFCM, Token: "fcm-token", CreatedAt: t0})
		must(t, err)
		web, err := db.CreateDevice(ctx, &plop.Device{UserID: a.ID, Platform: plop.PlatformWebPush, Token: endpoint, Subscription: sub, CreatedAt: t0.Add(time.Second)})
		must(t, err)
		if fcm.ID == "" || web.ID == "" || fcm.ID == web.ID {
			t.Fatalf("ids %q %q", fcm.ID, web.ID)
		}

		// The same endpoint again, with rotated keys: the same device, new subscription.
		sub2 := json.RawMessage(`{"endpoint":"` + endpoint + `","keys":{"p256dh":"k2","auth":"a2"}}`)
		again, err := db.CreateDevice(ctx, &plop.Device{UserID: a.ID, Platform: plop.PlatformWebPush, Token: endpoint, Subscription: sub2, CreatedAt: t0.Add(time.Hour)})
		must(t, err)
		if again.ID != web.ID || string(again.Subscription) != string(sub2) || !again.CreatedAt.Equal(web.CreatedAt) {
			t.Fatalf("re-registration = %+v, want device %s with the new keys", again, web.ID)
		}
		// The same token for another user is that user's own device.
		other, err := db.CreateDevice(ctx, &plop.Device{UserID: b.ID, Platform: plop.PlatformFCM, Token: "fcm-token", CreatedAt: t0})
		must(t, err)
		if other.ID == fcm.ID {
			t.Fatal("device shared across users")
		}

		ds, err := db.Devices(ctx, a.ID)
		must(t, err)
		if len(ds) != 2 || ds[0].ID != fcm.ID || ds[1].ID != web.ID {
			t.Fatalf("Devices = %+v", ds)
		}
		if ds[1].Token != endpoint || string(ds[1].Subscription) != string(sub2) || ds[0].Subscription != nil || ds[0].Platform != plop.PlatformFCM {
			t.Fatalf("stored devices = %+v", ds)
		}

		wantCode(t, db.DeleteDevice(ctx, b.ID, fcm.ID), plop.ENotFound) // not b's
		must(t, db.DeleteDevice(ctx, a.ID, fcm.ID))
		wantCode(t, db.DeleteDevice(ctx, a.ID, fcm.ID), plop.ENotFound)
		ds, err = db.Devices(ctx, a.ID)
		must(t, err)
		if len(ds) != 1 || ds[0].ID != web.ID {
			t.Fatalf("after delete = %+v", ds)
		}
		none, err := db.Devices(ctx, "nobody")
		must(t, err)
		if none == nil || len(none) != 0 {
			t.Fatalf("Devices(nobody) = %#v", none)
		}
	})
}
