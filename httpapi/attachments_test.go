package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/internal/servertest"
	"github.com/plop-chat/plop/server"
	"github.com/plop-chat/plop/sqlstore"
)

// jpegImage returns a w×h JPEG of a gradient.
func jpegImage(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return encodeJPEG(tb, img)
}

// noisyJPEG returns a w×h JPEG of pseudo-random pixels, which compresses badly.
func noisyJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	state := uint32(7)
	for i := range img.Pix {
		state = state*1664525 + 1013904223
		img.Pix[i] = uint8(state >> 24)
	}
	return encodeJPEG(tb, img)
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// multipartFile returns a multipart body whose field "file" holds data named name with
// contentType, and the body's Content-Type.
func multipartFile(tb testing.TB, name, contentType string, data []byte) ([]byte, string) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	part, err := mw.CreatePart(h)
	if err != nil {
		tb.Fatal(err)
	}
	part.Write(data)
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// attachmentJSON is an attachment as a client reads it.
type attachmentJSON struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	ContentType  string `json:"content_type"`
	Size         int64  `json:"size"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	URL          string `json:"url"`
	ThumbnailURL string `json:"thumbnail_url"`
}

// upload posts a multipart upload of data to roomID as the holder of token.
func upload(tb testing.TB, srv *servertest.Server, token, roomID, name, contentType string, data []byte) answer {
	tb.Helper()
	body, ct := multipartFile(tb, name, contentType, data)
	return send(tb, srv, "POST", "/api/v1/rooms/"+roomID+"/attachments", body, withToken(token), withHeader("Content-Type", ct))
}

// mustUpload uploads and decodes the 201 answer.
func mustUpload(tb testing.TB, srv *servertest.Server, token, roomID, name, contentType string, data []byte) attachmentJSON {
	tb.Helper()
	var out struct {
		Attachment attachmentJSON `json:"attachment"`
	}
	upload(tb, srv, token, roomID, name, contentType, data).must(tb, http.StatusCreated, &out)
	return out.Attachment
}

// roomOf creates a group of creator and members (creator's friends) over REST.
func roomOf(tb testing.TB, srv *servertest.Server, creator servertest.Account, members ...servertest.Account) string {
	tb.Helper()
	ids := make([]string, len(members))
	for i, m := range members {
		srv.MakeFriends(tb, creator, m)
		ids[i] = m.ID
	}
	var room struct{ Room struct{ ID string } }
	send(tb, srv, "POST", "/api/v1/rooms", map[string]any{"type": "group", "name": "files", "member_ids": ids},
		withToken(creator.AccessToken)).must(tb, http.StatusCreated, &room)
	return room.Room.ID
}

// filesUnder lists the files under dir; none when dir does not exist.
func filesUnder(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		if !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestAttachmentImage(t *testing.T) {
	srv := servertest.Start(t)
	ana, bo := srv.SignupVerified(t, "Ana"), srv.SignupVerified(t, "Bo")
	room := roomOf(t, srv, ana, bo)

	a := upload(t, srv, ana.AccessToken, room, "IMG_0001.jpeg", "application/octet-stream", jpegImage(t, 2500, 1000))
	var out struct {
		Attachment map[string]any `json:"attachment"`
	}
	a.must(t, http.StatusCreated, &out)
	if got := keys(out.Attachment); got != "content_type,created_at,height,id,kind,name,size,thumbnail_url,url,width" {
		t.Fatalf("attachment keys %s", got)
	}
	var typed struct{ Attachment attachmentJSON }
	a.must(t, http.StatusCreated, &typed)
	att := typed.Attachment
	base := "/api/v1/rooms/" + room + "/attachments/" + att.ID
	if att.Kind != "image" || att.Name != "IMG_0001.jpg" || att.ContentType != "image/jpeg" || att.Width != 2048 || att.Height != 819 ||
		att.URL != base || att.ThumbnailURL != base+"/thumbnail" {
		t.Fatalf("attachment %+v", att)
	}
	full := send(t, srv, "GET", att.URL, nil, withToken(ana.AccessToken)).must(t, http.StatusOK, nil)
	if full.header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(full.header.Get("Content-Disposition"), "inline") ||
		full.header.Get("Cache-Control") != "private, max-age=86400" || full.header.Get("ETag") != `"`+att.ID+`"` ||
		full.header.Get("X-Content-Type-Options") != "nosniff" || int64(len(full.body)) != att.Size {
		t.Fatalf("image answer: %v, %d bytes", full.header, len(full.body))
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(full.body)); err != nil || cfg.Width != 2048 {
		t.Fatalf("served image %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	thumb := send(t, srv, "GET", att.ThumbnailURL, nil, withToken(ana.AccessToken)).must(t, http.StatusOK, nil)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(thumb.body)); err != nil || cfg.Width != 320 || cfg.Height < 127 || cfg.Height > 128 {
		t.Fatalf("thumbnail %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	// Conditional request: the client's cached copy is still good.
	send(t, srv, "GET", att.URL, nil, withToken(ana.AccessToken), withHeader("If-None-Match", `"`+att.ID+`"`)).must(t, http.StatusNotModified, nil)
}

func TestAttachmentFileIsServedAsADownload(t *testing.T) {
	srv := servertest.Start(t)
	ana, bo := srv.SignupVerified(t, "Ana"), srv.SignupVerified(t, "Bo")
	room := roomOf(t, srv, ana, bo)

	page := []byte("<!doctype html><script>fetch('/api/v1/me')</script>")
	var out struct{ Attachment attachmentJSON }
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/attachments?name=..%2F..%2Fnot%C3%A9s.html", page,
		withToken(ana.AccessToken), withHeader("Content-Type", "text/html; charset=utf-8")).must(t, http.StatusCreated, &out)
	att := out.Attachment
	if att.Kind != "file" || att.Name != "notés.html" || att.ContentType != "text/html; charset=utf-8" ||
		att.Size != int64(len(page)) || att.ThumbnailURL != "" || att.Width != 0 {
		t.Fatalf("attachment %+v", att)
	}
	a := send(t, srv, "GET", att.URL, nil, withToken(ana.AccessToken)).must(t, http.StatusOK, nil)
	if !bytes.Equal(a.body, page) {
		t.Fatalf("served %q", a.body)
	}
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Disposition":     "attachment; filename*=utf-8''not%C3%A9s.html",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
		"Cache-Control":           "private, max-age=86400",
	} {
		if got := a.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	send(t, srv, "GET", att.URL+"/thumbnail", nil, withToken(ana.AccessToken)).wantError(t, http.StatusNotFound, plop.ENotFound)
	// Multipart keeps the part's file name and type.
	doc := mustUpload(t, srv, ana.AccessToken, room, "report.pdf", "application/pdf", []byte("%PDF-1.4 not really"))
	if doc.Kind != "file" || doc.Name != "report.pdf" || doc.ContentType != "application/pdf" {
		t.Fatalf("pdf %+v", doc)
	}
}

// messageJSON is a message as a client reads it.
type messageJSON struct {
	Seq         int64            `json:"seq"`
	Body        string           `json:"body"`
	Attachments []attachmentJSON `json:"attachments"`
}

func TestMessagesCarryAttachments(t *testing.T) {
	srv := servertest.Start(t)
	ana, bo := srv.SignupVerified(t, "Ana"), srv.SignupVerified(t, "Bo")
	room := roomOf(t, srv, ana, bo)
	other := roomOf(t, srv, ana, srv.SignupVerified(t, "Cy"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Bo listens to the room.
	boConn, err := client.DialSTOMP(ctx, srv.WSURL, bo.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	defer boConn.Close()
	sub, err := boConn.Subscribe(ctx, client.RoomTopic(room))
	if err != nil {
		t.Fatal(err)
	}
	nextCreated := func() messageJSON {
		t.Helper()
		for {
			select {
			case e, ok := <-sub.C:
				if !ok {
					t.Fatal("subscription ended")
				}
				if e.Type != plop.EventMessageCreated {
					continue
				}
				var ev struct{ Message messageJSON }
				if err := e.Decode(&ev); err != nil {
					t.Fatal(err)
				}
				return ev.Message
			case <-ctx.Done():
				t.Fatal("no message.created event")
			}
		}
	}

	// Over REST: a photo and a file, no body.
	photo := mustUpload(t, srv, ana.AccessToken, room, "cat.jpg", "image/jpeg", jpegImage(t, 64, 48))
	doc := mustUpload(t, srv, ana.AccessToken, room, "todo.txt", "text/plain", []byte("milk"))
	var sent struct{ Message messageJSON }
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/messages",
		map[string]any{"client_msg_id": "m1", "attachment_ids": []string{photo.ID, doc.ID}}, withToken(ana.AccessToken)).
		must(t, http.StatusCreated, &sent)
	if len(sent.Message.Attachments) != 2 || sent.Message.Attachments[0] != photo || sent.Message.Attachments[1] != doc || sent.Message.Body != "" {
		t.Fatalf("sent %+v", sent.Message)
	}
	if ev := nextCreated(); len(ev.Attachments) != 2 || ev.Attachments[0] != photo || ev.Attachments[1] != doc {
		t.Fatalf("message.created %+v", ev)
	}

	// Over STOMP.
	anaConn, err := client.DialSTOMP(ctx, srv.WSURL, ana.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	defer anaConn.Close()
	clip := mustUpload(t, srv, ana.AccessToken, room, "clip.bin", "", []byte{1, 2, 3})
	rc, err := anaConn.SendMessage(ctx, room, app.MessageInput{Body: "the clip", ClientMsgID: "m2", AttachmentIDs: []string{clip.ID}})
	if err != nil || rc.Seq != 2 {
		t.Fatalf("STOMP send: %+v, %v", rc, err)
	}
	if ev := nextCreated(); ev.Seq != 2 || len(ev.Attachments) != 1 || ev.Attachments[0] != clip {
		t.Fatalf("message.created %+v", ev)
	}
	// Reusing an attachment is refused, over STOMP and REST.
	_, err = anaConn.SendMessage(ctx, room, app.MessageInput{Body: "again", ClientMsgID: "m3", AttachmentIDs: []string{clip.ID}})
	if plop.ErrorCode(err) != plop.EInvalid {
		t.Fatalf("STOMP reuse: %v, want invalid_argument", err)
	}
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/messages",
		map[string]any{"body": "again", "attachment_ids": []string{photo.ID}}, withToken(ana.AccessToken)).
		wantError(t, http.StatusBadRequest, plop.EInvalid)
	// An attachment of another room is refused too, in either room.
	elsewhere := mustUpload(t, srv, ana.AccessToken, other, "x.txt", "text/plain", []byte("x"))
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/messages",
		map[string]any{"body": "wrong room", "attachment_ids": []string{elsewhere.ID}}, withToken(ana.AccessToken)).
		wantError(t, http.StatusBadRequest, plop.EInvalid)
	// Bo cannot send Ana's upload.
	mine := mustUpload(t, srv, ana.AccessToken, room, "mine.txt", "text/plain", []byte("mine"))
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/messages",
		map[string]any{"body": "taken", "attachment_ids": []string{mine.ID}}, withToken(bo.AccessToken)).
		wantError(t, http.StatusBadRequest, plop.EInvalid)

	// History and the rooms list carry the metadata.
	var hist struct{ Messages []messageJSON }
	send(t, srv, "GET", "/api/v1/rooms/"+room+"/messages", nil, withToken(bo.AccessToken)).must(t, http.StatusOK, &hist)
	if len(hist.Messages) != 2 || len(hist.Messages[0].Attachments) != 2 || hist.Messages[0].Attachments[0] != photo ||
		len(hist.Messages[1].Attachments) != 1 || hist.Messages[1].Attachments[0] != clip {
		t.Fatalf("history %+v", hist.Messages)
	}
	var rooms struct {
		Rooms []struct {
			ID          string       `json:"id"`
			LastMessage *messageJSON `json:"last_message"`
		} `json:"rooms"`
	}
	send(t, srv, "GET", "/api/v1/rooms", nil, withToken(bo.AccessToken)).must(t, http.StatusOK, &rooms)
	if len(rooms.Rooms) != 1 || rooms.Rooms[0].LastMessage == nil || len(rooms.Rooms[0].LastMessage.Attachments) != 1 ||
		rooms.Rooms[0].LastMessage.Attachments[0] != clip {
		t.Fatalf("rooms %+v", rooms.Rooms)
	}

	// Unsending removes the attachments: the bytes are gone.
	send(t, srv, "DELETE", "/api/v1/rooms/"+room+"/messages/1", nil, withToken(ana.AccessToken)).must(t, http.StatusOK, nil)
	send(t, srv, "GET", photo.URL, nil, withToken(bo.AccessToken)).wantError(t, http.StatusNotFound, plop.ENotFound)
	send(t, srv, "GET", doc.URL, nil, withToken(ana.AccessToken)).wantError(t, http.StatusNotFound, plop.ENotFound)
}

func TestAttachmentAccess(t *testing.T) {
	srv := servertest.Start(t)
	ana, bo, cy := srv.SignupVerified(t, "Ana"), srv.SignupVerified(t, "Bo"), srv.SignupVerified(t, "Cy")
	room := roomOf(t, srv, ana, bo)

	// A stranger can neither upload nor download.
	upload(t, srv, cy.AccessToken, room, "x.txt", "text/plain", []byte("x")).wantError(t, http.StatusNotFound, plop.ENotFound)
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	att := mustUpload(t, srv, ana.AccessToken, room, "data.bin", "application/octet-stream", data)
	// Until a message carries it, only Ana sees it.
	send(t, srv, "GET", att.URL, nil, withToken(bo.AccessToken)).wantError(t, http.StatusNotFound, plop.ENotFound)
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/messages", map[string]any{"body": "data", "attachment_ids": []string{att.ID}},
		withToken(ana.AccessToken)).must(t, http.StatusCreated, nil)
	send(t, srv, "GET", att.URL, nil, withToken(cy.AccessToken)).wantError(t, http.StatusNotFound, plop.ENotFound)
	send(t, srv, "GET", att.URL, nil).wantError(t, http.StatusUnauthorized, plop.EUnauthenticated)
	send(t, srv, "GET", "/api/v1/rooms/"+room+"/attachments/nothing", nil, withToken(bo.AccessToken)).wantError(t, http.StatusNotFound, plop.ENotFound)
	// Another member can, with a range request.
	all := send(t, srv, "GET", att.URL, nil, withToken(bo.AccessToken)).must(t, http.StatusOK, nil)
	if !bytes.Equal(all.body, data) || all.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("full download: %d bytes, Accept-Ranges %q", len(all.body), all.header.Get("Accept-Ranges"))
	}
	part := send(t, srv, "GET", att.URL, nil, withToken(bo.AccessToken), withHeader("Range", "bytes=1000-1999")).must(t, http.StatusPartialContent, nil)
	if !bytes.Equal(part.body, data[1000:2000]) || part.header.Get("Content-Range") != "bytes 1000-1999/100000" {
		t.Fatalf("range: %d bytes, Content-Range %q", len(part.body), part.header.Get("Content-Range"))
	}
	// Once Bo leaves the room, the file is gone for him.
	send(t, srv, "DELETE", "/api/v1/rooms/"+room+"/members/"+bo.ID, nil, withToken(bo.AccessToken)).must(t, http.StatusNoContent, nil)
	send(t, srv, "GET", att.URL, nil, withToken(bo.AccessToken)).wantError(t, http.StatusNotFound, plop.ENotFound)
}

// withSmallAttachments lowers the attachment limits of a node.
func withSmallAttachments(image, file int64) servertest.Option {
	return func(c *server.Config) {
		c.App.AttachmentImageMaxBytes = image
		c.App.AttachmentFileMaxBytes = file
	}
}

func TestOversizedUploadLeavesNothing(t *testing.T) {
	srv := servertest.Start(t, withSmallAttachments(40<<10, 256<<10))
	ana, bo := srv.SignupVerified(t, "Ana"), srv.SignupVerified(t, "Bo")
	room := roomOf(t, srv, ana, bo)
	tok := withToken(ana.AccessToken)

	big := make([]byte, 256<<10+1)
	// A raw body whose Content-Length says it all, and one sent without a length.
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/attachments?name=big.bin", big, tok,
		withHeader("Content-Type", "application/octet-stream")).wantError(t, http.StatusRequestEntityTooLarge, plop.ETooLarge)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/rooms/"+room+"/attachments", io.MultiReader(bytes.NewReader(big)))
	req.Header.Set("Authorization", "Bearer "+ana.AccessToken)
	req.ContentLength = -1
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked upload: status %d", resp.StatusCode)
	}
	// Multipart, just over the file limit; an image over the image limit.
	upload(t, srv, ana.AccessToken, room, "big.bin", "", big).wantError(t, http.StatusRequestEntityTooLarge, plop.ETooLarge)
	photo := noisyJPEG(t, 300, 300)
	if len(photo) <= 40<<10 {
		t.Fatalf("test photo of %d bytes is under the limit", len(photo))
	}
	upload(t, srv, ana.AccessToken, room, "big.jpg", "image/jpeg", photo).wantError(t, http.StatusRequestEntityTooLarge, plop.ETooLarge)

	if got := filesUnder(t, filepath.Join(srv.DataDir, "blobs")); len(got) != 0 {
		t.Errorf("oversized uploads left blobs %v", got)
	}
	if got := filesUnder(t, filepath.Join(srv.DataDir, "spool")); len(got) != 0 {
		t.Errorf("oversized uploads left staged files %v", got)
	}
	db, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(srv.DataDir, "plop.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.UnattachedAttachments(context.Background(), time.Now().Add(time.Hour), 10)
	if err != nil || len(rows) != 0 {
		t.Errorf("oversized uploads left rows %+v, %v", rows, err)
	}
	// At the limit, a file is taken.
	mustUpload(t, srv, ana.AccessToken, room, "fits.bin", "", big[:256<<10])
}

// s3Node starts a node whose blobs live in a bucket of an S3-compatible server on loopback,
// and returns the node and the server's backend.
func s3Node(tb testing.TB) (*servertest.Server, *s3mem.Backend) {
	tb.Helper()
	backend := s3mem.New()
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	tb.Cleanup(s3.Close)
	host := strings.TrimPrefix(s3.URL, "http://")
	srv := servertest.Start(tb, func(c *server.Config) {
		c.S3URL = "s3://plopkey:plop%2Fsecret@" + host + "/plop-media?region=us-east-1&tls=false&path_style=true&create=1"
	})
	return srv, backend
}

// objects lists the keys in the bucket.
func objects(tb testing.TB, backend *s3mem.Backend) []string {
	tb.Helper()
	list, err := backend.ListBucket("plop-media", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, c := range list.Contents {
		out = append(out, c.Key)
	}
	return out
}

func TestAttachmentsInS3(t *testing.T) {
	srv, backend := s3Node(t)
	ana, bo := srv.SignupVerified(t, "Ana"), srv.SignupVerified(t, "Bo")
	room := roomOf(t, srv, ana, bo)

	photo := mustUpload(t, srv, ana.AccessToken, room, "sea.jpg", "image/jpeg", jpegImage(t, 500, 400))
	data := bytes.Repeat([]byte("0123456789"), 10_000)
	doc := mustUpload(t, srv, ana.AccessToken, room, "digits.txt", "text/plain", data)
	if n := len(objects(t, backend)); n != 3 {
		t.Fatalf("%d objects in the bucket, want 3 (image, thumbnail, file): %v", n, objects(t, backend))
	}
	send(t, srv, "POST", "/api/v1/rooms/"+room+"/messages", map[string]any{"attachment_ids": []string{photo.ID, doc.ID}},
		withToken(ana.AccessToken)).must(t, http.StatusCreated, nil)

	got := send(t, srv, "GET", doc.URL, nil, withToken(bo.AccessToken)).must(t, http.StatusOK, nil)
	if !bytes.Equal(got.body, data) || got.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("file from S3: %d bytes, %q", len(got.body), got.header.Get("Content-Type"))
	}
	part := send(t, srv, "GET", doc.URL, nil, withToken(bo.AccessToken), withHeader("Range", "bytes=99990-")).must(t, http.StatusPartialContent, nil)
	if string(part.body) != "0123456789" {
		t.Fatalf("range from S3: %q", part.body)
	}
	img := send(t, srv, "GET", photo.ThumbnailURL, nil, withToken(bo.AccessToken)).must(t, http.StatusOK, nil)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(img.body)); err != nil || cfg.Width != 320 || cfg.Height != 256 {
		t.Fatalf("thumbnail from S3 %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	// Profile images go to the bucket too.
	var me struct {
		User struct {
			AvatarURL string `json:"avatar_url"`
		}
	}
	send(t, srv, "PUT", "/api/v1/me/avatar", jpegImage(t, 100, 100), withToken(bo.AccessToken), withHeader("Content-Type", "image/jpeg")).
		must(t, http.StatusOK, &me)
	send(t, srv, "GET", me.User.AvatarURL, nil).must(t, http.StatusOK, nil)
	if got := filesUnder(t, filepath.Join(srv.DataDir, "blobs")); len(got) != 0 {
		t.Errorf("blobs on the local disk with S3 configured: %v", got)
	}
	// Unsending deletes the objects.
	send(t, srv, "DELETE", "/api/v1/rooms/"+room+"/messages/1", nil, withToken(ana.AccessToken)).must(t, http.StatusOK, nil)
	if got := objects(t, backend); len(got) != 1 || !strings.HasPrefix(got[0], "avatars/") {
		t.Fatalf("objects after unsending: %v, want only the avatar", got)
	}
}
