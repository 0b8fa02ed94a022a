package app

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/blob"
)

// testImage returns a w×h image with a gradient, encoded as JPEG or PNG.
func testImage(tb testing.TB, w, h int, format string) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// noisyPNG returns a w×h PNG of pseudo-random pixels, which does not compress.
func noisyPNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	state := uint32(1)
	for i := range img.Pix {
		state = state*1664525 + 1013904223
		img.Pix[i] = uint8(state >> 24)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// mediaApp is a testApp whose blobs and staged uploads live in directories the test can
// list.
type mediaApp struct {
	*testApp
	blobDir, spoolDir string
}

func newMediaApp(tb testing.TB, cfg Config) *mediaApp {
	tb.Helper()
	spool := tb.TempDir()
	cfg.SpoolDir = spool
	ta := newTestApp(tb, cfg)
	dir := filepath.Join(tb.TempDir(), "blobs")
	disk, err := blob.NewDisk(dir)
	if err != nil {
		tb.Fatal(err)
	}
	ta.blobs = disk
	return &mediaApp{testApp: ta, blobDir: dir, spoolDir: spool}
}

// files lists the files under dir.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// readBlob returns the bytes of an attachment (or its thumbnail) as me downloads them.
func (ma *mediaApp) readBlob(tb testing.TB, me, roomID, id string, thumb bool) (plop.Attachment, []byte) {
	tb.Helper()
	att, b, err := ma.OpenAttachment(context.Background(), me, roomID, id, thumb)
	if err != nil {
		tb.Fatalf("OpenAttachment: %v", err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		tb.Fatal(err)
	}
	return att, data
}

func TestUploadImage(t *testing.T) {
	ctx := context.Background()
	ma := newMediaApp(t, Config{})
	ann := ma.user(t, "Ann")
	bob := ma.friendOf(t, "Bob", ann)
	r := ma.direct(t, ann, bob)

	// A PNG without transparency, declared as something else: sniffed, shrunk, re-encoded.
	att, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{
		Name: `C:\Users\ann\holiday.png`, ContentType: "application/pdf", Body: bytes.NewReader(testImage(t, 3000, 1500, "png")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if att.Kind != plop.AttachmentImage || att.ContentType != "image/jpeg" || att.Name != "holiday.jpg" ||
		att.Width != 2048 || att.Height != 1024 || att.Size <= 0 {
		t.Fatalf("attachment = %+v", att)
	}
	wantURL := "/api/v1/rooms/" + r.ID + "/attachments/" + att.ID
	if att.URL != wantURL || att.ThumbnailURL != wantURL+"/thumbnail" {
		t.Fatalf("urls %q %q", att.URL, att.ThumbnailURL)
	}
	_, full := ma.readBlob(t, ann, r.ID, att.ID, false)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(full))
	if err != nil || format != "jpeg" || cfg.Width != 2048 || int64(len(full)) != att.Size {
		t.Fatalf("stored image: %s %dx%d, %d bytes, %v", format, cfg.Width, cfg.Height, len(full), err)
	}
	_, thumb := ma.readBlob(t, ann, r.ID, att.ID, true)
	cfg, _, err = image.DecodeConfig(bytes.NewReader(thumb))
	if err != nil || cfg.Width != 320 || cfg.Height != 160 {
		t.Fatalf("thumbnail %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	// Unsent, the upload is its uploader's only.
	_, _, err = ma.OpenAttachment(ctx, bob, r.ID, att.ID, false)
	wantCode(t, err, plop.ENotFound)
	if got := files(t, ma.spoolDir); len(got) != 0 {
		t.Errorf("staged files left: %v", got)
	}
}

func TestUploadFile(t *testing.T) {
	ctx := context.Background()
	ma := newMediaApp(t, Config{})
	ann := ma.user(t, "Ann")
	bob := ma.friendOf(t, "Bob", ann)
	r := ma.direct(t, ann, bob)

	page := []byte("<html><script>alert(document.cookie)</script></html>")
	att, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{
		Name: "../../etc/evil\x00\u202e.html", ContentType: "Text/HTML; Charset=UTF-8", Body: bytes.NewReader(page),
	})
	if err != nil {
		t.Fatal(err)
	}
	if att.Kind != plop.AttachmentFile || att.Name != "evil.html" || att.ContentType != "text/html; charset=UTF-8" ||
		att.Size != int64(len(page)) || att.Width != 0 || att.ThumbnailURL != "" {
		t.Fatalf("attachment = %+v", att)
	}
	_, got := ma.readBlob(t, ann, r.ID, att.ID, false)
	if !bytes.Equal(got, page) {
		t.Fatalf("stored %q", got)
	}
	_, _, err = ma.OpenAttachment(ctx, ann, r.ID, att.ID, true)
	wantCode(t, err, plop.ENotFound) // a file has no thumbnail

	// Bytes that claim to be a JPEG but do not decode are kept as a file.
	broken := append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{0}, 100)...)
	att, err = ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Name: "photo.jpg", ContentType: "image/jpeg", Body: bytes.NewReader(broken)})
	if err != nil {
		t.Fatal(err)
	}
	if att.Kind != plop.AttachmentFile || att.Name != "photo.jpg" || att.Size != int64(len(broken)) {
		t.Fatalf("broken image = %+v", att)
	}
	// An empty file is a file.
	att, err = ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Body: strings.NewReader("")})
	if err != nil || att.Name != "file" || att.ContentType != "application/octet-stream" || att.Size != 0 {
		t.Fatalf("empty file = %+v, %v", att, err)
	}
}

func TestUploadRefusalsLeaveNothing(t *testing.T) {
	ctx := context.Background()
	ma := newMediaApp(t, Config{AttachmentImageMaxBytes: 64 << 10, AttachmentFileMaxBytes: 100 << 10})
	ann := ma.user(t, "Ann")
	bob := ma.friendOf(t, "Bob", ann)
	cat := ma.user(t, "Cat")
	r := ma.direct(t, ann, bob)

	big := noisyPNG(t, 300, 300) // well over 64 KiB
	if len(big) <= 64<<10 {
		t.Fatalf("test image of %d bytes is not over the limit", len(big))
	}
	_, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Name: "big.png", Body: bytes.NewReader(big)})
	wantCode(t, err, plop.ETooLarge)
	_, err = ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Name: "big.bin", Body: bytes.NewReader(make([]byte, 100<<10+1))})
	wantCode(t, err, plop.ETooLarge)
	_, err = ma.UploadAttachment(ctx, cat, r.ID, AttachmentUpload{Name: "x.txt", Body: strings.NewReader("hi")})
	wantCode(t, err, plop.ENotFound)

	if got := files(t, ma.blobDir); len(got) != 0 {
		t.Errorf("refused uploads left blobs %v", got)
	}
	if got := files(t, ma.spoolDir); len(got) != 0 {
		t.Errorf("refused uploads left staged files %v", got)
	}
	if left, err := ma.store.UnattachedAttachments(ctx, ma.clock.Now().Add(time.Hour), 10); err != nil || len(left) != 0 {
		t.Errorf("refused uploads left rows %+v, %v", left, err)
	}
	// At the limit exactly, a file is fine.
	if _, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Body: bytes.NewReader(make([]byte, 100<<10))}); err != nil {
		t.Errorf("a file at the limit: %v", err)
	}
}

func TestSendAndUnsendAttachments(t *testing.T) {
	ctx := context.Background()
	ma := newMediaApp(t, Config{})
	ann := ma.user(t, "Ann")
	bob := ma.friendOf(t, "Bob", ann)
	r := ma.direct(t, ann, bob)
	photo, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Name: "a.jpg", Body: bytes.NewReader(testImage(t, 100, 50, "jpeg"))})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Name: "b.txt", ContentType: "text/plain", Body: strings.NewReader("notes")})
	if err != nil {
		t.Fatal(err)
	}
	ma.events.reset()

	for name, in := range map[string]MessageInput{
		"too many":  {AttachmentIDs: strings.Split(strings.Repeat("x,", plop.MaxAttachmentsSent+1), ",")[:plop.MaxAttachmentsSent+1]},
		"repeated":  {AttachmentIDs: []string{doc.ID, doc.ID}},
		"empty id":  {AttachmentIDs: []string{""}},
		"no body":   {},
		"not yours": {AttachmentIDs: []string{doc.ID}},
	} {
		sender := ann
		if name == "not yours" {
			sender = bob
		}
		_, _, err := ma.SendMessage(ctx, sender, r.ID, in)
		if plop.ErrorCode(err) != plop.EInvalid {
			t.Errorf("%s: SendMessage = %v, want invalid_argument", name, err)
		}
	}
	ma.events.none(t, plop.EventMessageCreated)

	// Attachments and no body: fine.
	m, created, err := ma.SendMessage(ctx, ann, r.ID, MessageInput{AttachmentIDs: []string{doc.ID, photo.ID}})
	if err != nil || !created {
		t.Fatalf("send with attachments: %v", err)
	}
	if len(m.Attachments) != 2 || m.Attachments[0].ID != doc.ID || m.Attachments[1].ID != photo.ID ||
		m.Attachments[1].URL != photo.URL || m.Attachments[1].ThumbnailURL != photo.ThumbnailURL || m.Attachments[1].Width != 100 {
		t.Fatalf("sent attachments = %+v", m.Attachments)
	}
	ev := decodeBody[messageBody](t, ma.events.next(t, plop.EventMessageCreated))
	if len(ev.Message.Attachments) != 2 || ev.Message.Attachments[1].ThumbnailURL == "" || ev.Message.Attachments[0].Name != "b.txt" {
		t.Fatalf("message.created attachments = %+v", ev.Message.Attachments)
	}
	// Now that it is sent, the other member may download it.
	if _, got := ma.readBlob(t, bob, r.ID, doc.ID, false); string(got) != "notes" {
		t.Fatalf("bob read %q", got)
	}
	hist, err := ma.Messages(ctx, bob, r.ID, 0, 0, 0)
	if err != nil || len(hist) != 1 || len(hist[0].Attachments) != 2 || hist[0].Attachments[0].URL != doc.URL {
		t.Fatalf("history %+v, %v", hist, err)
	}
	// A second message cannot take them again.
	_, _, err = ma.SendMessage(ctx, ann, r.ID, MessageInput{Body: "again", AttachmentIDs: []string{photo.ID}})
	wantCode(t, err, plop.EInvalid)

	if n := len(files(t, ma.blobDir)); n != 3 {
		t.Fatalf("%d blobs before unsending, want 3 (image, thumbnail, file)", n)
	}
	del, err := ma.DeleteMessage(ctx, ann, r.ID, m.Seq)
	if err != nil || len(del.Attachments) != 0 {
		t.Fatalf("unsend = %+v, %v", del, err)
	}
	if got := files(t, ma.blobDir); len(got) != 0 {
		t.Fatalf("blobs left after unsending: %v", got)
	}
	_, _, err = ma.OpenAttachment(ctx, ann, r.ID, doc.ID, false)
	wantCode(t, err, plop.ENotFound)
}

func TestSweepAttachments(t *testing.T) {
	ctx := context.Background()
	ma := newMediaApp(t, Config{AttachmentUnsentTTL: 24 * time.Hour})
	ann := ma.user(t, "Ann")
	bob := ma.friendOf(t, "Bob", ann)
	r := ma.direct(t, ann, bob)
	upload := func(name string) plop.Attachment {
		att, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Name: name, Body: strings.NewReader(name)})
		if err != nil {
			t.Fatal(err)
		}
		return att
	}
	forgotten, sent := upload("forgotten.txt"), upload("sent.txt")
	if _, _, err := ma.SendMessage(ctx, ann, r.ID, MessageInput{AttachmentIDs: []string{sent.ID}}); err != nil {
		t.Fatal(err)
	}
	ma.clock.Advance(23 * time.Hour)
	recent := upload("recent.txt")
	if n, err := ma.SweepAttachments(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before a day = %d, %v", n, err)
	}
	ma.clock.Advance(2 * time.Hour)
	if n, err := ma.SweepAttachments(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after a day = %d, %v; want 1", n, err)
	}
	_, _, err := ma.OpenAttachment(ctx, ann, r.ID, forgotten.ID, false)
	wantCode(t, err, plop.ENotFound)
	for _, att := range []plop.Attachment{sent, recent} {
		if _, _, err := ma.OpenAttachment(ctx, ann, r.ID, att.ID, false); err != nil {
			t.Errorf("%s after the sweep: %v", att.Name, err)
		}
	}
	if n := len(files(t, ma.blobDir)); n != 2 {
		t.Errorf("%d blobs after the sweep, want 2", n)
	}
}

func TestRunAttachmentSweeperStops(t *testing.T) {
	ma := newMediaApp(t, Config{AttachmentSweepInterval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ma.RunAttachmentSweeper(ctx)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunAttachmentSweeper did not return after its context ended")
	}
}

func TestAttachmentNames(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":                         "report.pdf",
		"  spaced name.txt  ":                "spaced name.txt",
		"a/b/c.txt":                          "c.txt",
		`C:\temp\x.doc`:                      "x.doc",
		"..":                                 "file",
		"":                                   "file",
		"bad\x00\x1b[31mname\n.txt":          "bad[31mname.txt",
		"rtl\u202egnp.exe":                   "rtlgnp.exe",
		"inv\xffalid.txt":                    "invalid.txt",
		strings.Repeat("é", 200) + ".tar.gz": strings.Repeat("é", (plop.MaxAttachmentName-3)/2) + ".gz",
	} {
		got := fileName(in)
		if got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
		if len(got) > plop.MaxAttachmentName {
			t.Errorf("fileName(%q) has %d bytes", in, len(got))
		}
	}
	for in, want := range map[string]string{
		"cat.png":  "cat.jpg",
		"cat":      "cat.jpg",
		"":         "image.jpg",
		"/x/.jpeg": "image.jpg",
	} {
		if got := imageName(in, ".jpg"); got != want {
			t.Errorf("imageName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"":                             "application/octet-stream",
		"nonsense":                     "application/octet-stream",
		"text/plain":                   "text/plain",
		"APPLICATION/PDF":              "application/pdf",
		"text/plain; charset=utf-8":    "text/plain; charset=utf-8",
		"multipart/form-data; b=x":     "application/octet-stream",
		"text/html; x=\"a\r\nSet: y\"": "application/octet-stream",
	} {
		if got := declaredType(in); got != want {
			t.Errorf("declaredType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAttachmentURLsFollowPublicURL(t *testing.T) {
	ctx := context.Background()
	ma := newMediaApp(t, Config{PublicURL: "https://chat.example.com"})
	ann := ma.user(t, "Ann")
	bob := ma.friendOf(t, "Bob", ann)
	r := ma.direct(t, ann, bob)
	att, err := ma.UploadAttachment(ctx, ann, r.ID, AttachmentUpload{Name: "a.jpg", Body: bytes.NewReader(testImage(t, 10, 10, "jpeg"))})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://chat.example.com/api/v1/rooms/" + r.ID + "/attachments/" + att.ID
	if att.URL != want || att.ThumbnailURL != want+"/thumbnail" {
		t.Fatalf("urls %q %q, want %q", att.URL, att.ThumbnailURL, want)
	}
	m, _, err := ma.SendMessage(ctx, ann, r.ID, MessageInput{AttachmentIDs: []string{att.ID}})
	if err != nil || len(m.Attachments) != 1 || m.Attachments[0].URL != want {
		t.Fatalf("sent %+v, %v", m.Attachments, err)
	}
	rooms, _, err := ma.Rooms(ctx, bob, Page{})
	if err != nil || len(rooms) != 1 || rooms[0].LastMessage == nil || rooms[0].LastMessage.Attachments[0].ThumbnailURL != want+"/thumbnail" {
		t.Fatalf("rooms %+v, %v", rooms, err)
	}
}
