package sqlstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
)

// mustAttachment stores an unattached file attachment uploaded by uploader to roomID.
func mustAttachment(tb testing.TB, db *DB, roomID, uploader, name string, at time.Time) plop.Attachment {
	tb.Helper()
	a := plop.Attachment{
		ID: newID("att"), RoomID: roomID, UploaderID: uploader, Kind: plop.AttachmentFile,
		Name: name, ContentType: "text/plain", Size: 42, BlobKey: "attachments/" + roomID + "/" + name,
		CreatedAt: at,
	}
	if err := db.CreateAttachment(context.Background(), &a); err != nil {
		tb.Fatalf("CreateAttachment: %v", err)
	}
	return a
}

// attachmentIDs returns the ids of list, in order.
func attachmentIDs(list []plop.Attachment) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.ID
	}
	return out
}

func TestAttachmentStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()

		t.Run("create, load and link in the given order", func(t *testing.T) {
			a, b := mustUser(t, db, "Aa"), mustUser(t, db, "Ab")
			r := mustRoom(t, db, t0, a, b)
			img := plop.Attachment{
				ID: newID("att"), RoomID: r.ID, UploaderID: a.ID, Kind: plop.AttachmentImage, Name: "café.jpg",
				ContentType: "image/jpeg", Size: 1234, Width: 640, Height: 480,
				BlobKey: "attachments/r/x.jpg", ThumbnailKey: "attachments/r/x-thumb.jpg", CreatedAt: t0,
			}
			must(t, db.CreateAttachment(ctx, &img))
			got, err := db.Attachment(ctx, r.ID, img.ID)
			must(t, err)
			if d := cmp.Diff(img, got); d != "" {
				t.Fatalf("Attachment (-want +got):\n%s", d)
			}
			// Another room does not have it.
			other := mustRoom(t, db, t0, a, b)
			_, err = db.Attachment(ctx, other.ID, img.ID)
			wantCode(t, err, plop.ENotFound)

			doc := mustAttachment(t, db, r.ID, a.ID, "notes.txt", t0.Add(time.Second))
			mustSend(t, db, r.ID, b.ID, "before", t0)
			in := plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "", ClientMsgID: "with-files",
				AttachmentIDs: []string{doc.ID, img.ID}, CreatedAt: t0.Add(time.Minute)}
			m, created, err := db.CreateMessage(ctx, &in)
			must(t, err)
			if !created || m.Seq != 2 {
				t.Fatalf("created=%v seq=%d", created, m.Seq)
			}
			want := []string{doc.ID, img.ID}
			if d := cmp.Diff(want, attachmentIDs(m.Attachments)); d != "" {
				t.Fatalf("stored message attachments (-want +got):\n%s", d)
			}
			if m.Attachments[1].Width != 640 || m.Attachments[1].ThumbnailKey == "" || m.Attachments[1].MessageSeq != 2 {
				t.Fatalf("image attachment = %+v", m.Attachments[1])
			}
			one, err := db.Message(ctx, r.ID, 2)
			must(t, err)
			if d := cmp.Diff(m, one); d != "" {
				t.Fatalf("Message (-stored +loaded):\n%s", d)
			}
			mustSend(t, db, r.ID, b.ID, "after", t0.Add(2*time.Minute))
			page, err := db.Messages(ctx, r.ID, 0, 0, 50)
			must(t, err)
			if len(page) != 3 || len(page[0].Attachments) != 0 || len(page[2].Attachments) != 0 {
				t.Fatalf("history = %+v", page)
			}
			if d := cmp.Diff(want, attachmentIDs(page[1].Attachments)); d != "" {
				t.Fatalf("history attachments (-want +got):\n%s", d)
			}
			// A retry of the same message answers the stored one, attachments and all.
			retry := in
			m2, created, err := db.CreateMessage(ctx, &retry)
			must(t, err)
			if created || m2.Seq != 2 || len(m2.Attachments) != 2 {
				t.Fatalf("retry = %+v created=%v", m2, created)
			}
		})

		t.Run("the last message of a room carries its attachments", func(t *testing.T) {
			a, b := mustUser(t, db, "La"), mustUser(t, db, "Lb")
			r := mustRoom(t, db, t0, a, b)
			doc := mustAttachment(t, db, r.ID, b.ID, "plan.pdf", t0)
			_, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: b.ID, AttachmentIDs: []string{doc.ID}, CreatedAt: t0})
			must(t, err)
			room, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if room.LastMessage == nil || len(room.LastMessage.Attachments) != 1 || room.LastMessage.Attachments[0].Name != "plan.pdf" {
				t.Fatalf("last message = %+v", room.LastMessage)
			}
			rooms, _, err := db.Rooms(ctx, a.ID, "", 50)
			must(t, err)
			for _, x := range rooms {
				if x.ID == r.ID && (x.LastMessage == nil || len(x.LastMessage.Attachments) != 1) {
					t.Fatalf("rooms list last message = %+v", x.LastMessage)
				}
			}
		})

		t.Run("a message takes only the sender's unsent uploads of its room", func(t *testing.T) {
			a, b := mustUser(t, db, "Ra"), mustUser(t, db, "Rb")
			r, other := mustRoom(t, db, t0, a, b), mustRoom(t, db, t0, a, b)
			mine := mustAttachment(t, db, r.ID, a.ID, "mine.txt", t0)
			theirs := mustAttachment(t, db, r.ID, b.ID, "theirs.txt", t0)
			elsewhere := mustAttachment(t, db, other.ID, a.ID, "elsewhere.txt", t0)
			_, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "1", AttachmentIDs: []string{mine.ID}, CreatedAt: t0})
			must(t, err)
			for name, ids := range map[string][]string{
				"already sent":      {mine.ID},
				"another uploader":  {theirs.ID},
				"another room":      {elsewhere.ID},
				"unknown":           {"att-missing"},
				"one bad among two": {theirs.ID, "att-missing"},
				"twice in one list": {theirs.ID, theirs.ID},
			} {
				sender := a.ID
				if name == "twice in one list" {
					sender = b.ID
				}
				_, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: sender, Body: name, AttachmentIDs: ids, CreatedAt: t0})
				if plop.ErrorCode(err) != plop.EInvalid {
					t.Errorf("%s: CreateMessage = %v, want invalid_argument", name, err)
				}
			}
			// Nothing of the refused messages was stored: no seq taken, the uploads still free.
			room, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if room.LastSeq != 1 {
				t.Fatalf("last seq %d after refused messages, want 1", room.LastSeq)
			}
			got, err := db.Attachment(ctx, r.ID, theirs.ID)
			must(t, err)
			if got.MessageSeq != 0 {
				t.Fatalf("a refused message linked %+v", got)
			}
			m, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: b.ID, Body: "ok", AttachmentIDs: []string{theirs.ID}, CreatedAt: t0})
			must(t, err)
			if m.Seq != 2 || len(m.Attachments) != 1 {
				t.Fatalf("message = %+v", m)
			}
		})

		t.Run("two messages racing for one upload: one wins", func(t *testing.T) {
			a, b := mustUser(t, db, "Wa"), mustUser(t, db, "Wb")
			r := mustRoom(t, db, t0, a, b)
			att := mustAttachment(t, db, r.ID, a.ID, "race.txt", t0)
			const n = 6
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, _, errs[i] = db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "race", AttachmentIDs: []string{att.ID}, CreatedAt: t0})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch plop.ErrorCode(err) {
				case "":
					won++
				case plop.EInvalid:
				default:
					t.Errorf("racing send: %v", err)
				}
			}
			if won != 1 {
				t.Fatalf("%d messages took the attachment, want 1", won)
			}
			room, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if room.LastSeq != 1 {
				t.Fatalf("last seq %d, want 1", room.LastSeq)
			}
		})

		t.Run("unsending removes the attachments", func(t *testing.T) {
			a, b := mustUser(t, db, "Ua"), mustUser(t, db, "Ub")
			r := mustRoom(t, db, t0, a, b)
			att := mustAttachment(t, db, r.ID, a.ID, "gone.txt", t0)
			m, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "oops", AttachmentIDs: []string{att.ID}, CreatedAt: t0})
			must(t, err)
			del, err := db.DeleteMessage(ctx, r.ID, m.Seq, t0.Add(time.Minute))
			must(t, err)
			if !del.Deleted || len(del.Attachments) != 0 {
				t.Fatalf("deleted message = %+v", del)
			}
			_, err = db.Attachment(ctx, r.ID, att.ID)
			wantCode(t, err, plop.ENotFound)
		})

		t.Run("old unattached uploads are listed and deleted", func(t *testing.T) {
			a, b := mustUser(t, db, "Ga"), mustUser(t, db, "Gb")
			r := mustRoom(t, db, t0, a, b)
			// Other subtests left uploads too: look far in the past so that only ours count.
			base := t0.Add(-1000 * time.Hour)
			old := mustAttachment(t, db, r.ID, a.ID, "old.txt", base)
			sent := mustAttachment(t, db, r.ID, a.ID, "sent.txt", base)
			fresh := mustAttachment(t, db, r.ID, a.ID, "fresh.txt", base.Add(2*time.Hour))
			_, _, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "x", AttachmentIDs: []string{sent.ID}, CreatedAt: t0})
			must(t, err)
			list, err := db.UnattachedAttachments(ctx, base.Add(time.Hour), 10)
			must(t, err)
			if d := cmp.Diff([]string{old.ID}, attachmentIDs(list)); d != "" {
				t.Fatalf("unattached (-want +got):\n%s", d)
			}
			if list[0].BlobKey != old.BlobKey {
				t.Fatalf("listed %+v", list[0])
			}
			ok, err := db.DeleteUnattached(ctx, old.ID)
			must(t, err)
			if !ok {
				t.Fatal("DeleteUnattached(old) = false")
			}
			ok, err = db.DeleteUnattached(ctx, sent.ID)
			must(t, err)
			if ok {
				t.Fatal("DeleteUnattached deleted an attachment a message carries")
			}
			ok, err = db.DeleteUnattached(ctx, old.ID)
			if err != nil || ok {
				t.Fatalf("DeleteUnattached twice = %v, %v", ok, err)
			}
			if _, err := db.Attachment(ctx, r.ID, sent.ID); err != nil {
				t.Fatalf("sent attachment: %v", err)
			}
			if _, err := db.Attachment(ctx, r.ID, fresh.ID); err != nil {
				t.Fatalf("fresh attachment: %v", err)
			}
		})
	})
}
