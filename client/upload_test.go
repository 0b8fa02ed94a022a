package client_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

func TestListsFollowCursors(t *testing.T) {
	_, c := newFake(t,
		canned{method: "GET", path: "/api/v1/rooms", query: "", answer: `{"rooms":[{"id":"r-1"},{"id":"r-2"}],"next_cursor":"p2"}`},
		canned{method: "GET", path: "/api/v1/rooms", query: "cursor=p2", answer: `{"rooms":[{"id":"r-3"}],"next_cursor":""}`},
		canned{method: "GET", path: "/api/v1/friends/requests", query: "direction=incoming", answer: `{"requests":[{"id":"f-1"}],"next_cursor":"q2"}`},
		canned{method: "GET", path: "/api/v1/friends/requests", query: "cursor=q2&direction=incoming", answer: `{"requests":[{"id":"f-2"}]}`},
	)
	c = c.WithToken("t")
	rooms, err := c.Rooms(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 3 || rooms[0].ID != "r-1" || rooms[2].ID != "r-3" {
		t.Fatalf("rooms = %+v, want r-1, r-2, r-3", rooms)
	}
	reqs, err := c.FriendRequests(t.Context(), plop.Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 || reqs[0].ID != "f-1" || reqs[1].ID != "f-2" {
		t.Fatalf("requests = %+v, want f-1, f-2", reqs)
	}
}

func TestListStopsAtTheFirstFailingPage(t *testing.T) {
	_, c := newFake(t,
		canned{method: "GET", path: "/api/v1/rooms", answer: `{"rooms":[{"id":"r-1"}],"next_cursor":"p2"}`},
		canned{method: "GET", path: "/api/v1/rooms", query: "cursor=p2", status: 503, answer: `{"error":{"code":"unavailable","message":"try again"}}`},
	)
	rooms, err := c.WithToken("t").Rooms(t.Context())
	if plop.ErrorCode(err) != plop.EUnavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if len(rooms) != 1 {
		t.Fatalf("rooms read before the failure: %d, want 1", len(rooms))
	}
}

func TestSendMessageFillsClientMsgID(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in client.NewMessage
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("decode: %v", err)
		}
		got = append(got, in.ClientMsgID)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"message": map[string]any{"seq": len(got), "client_msg_id": in.ClientMsgID}})
	}))
	defer srv.Close()
	c := client.New(srv.URL).WithToken("t")
	m1, err := c.SendMessage(t.Context(), "r-1", client.NewMessage{Body: "one"})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := c.SendMessage(t.Context(), "r-1", client.NewMessage{Body: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(got[0]); err != nil || got[0] == got[1] {
		t.Fatalf("generated client_msg_ids %q: want two distinct UUIDs", got)
	}
	if m1.ClientMsgID != got[0] || m2.Seq != 2 {
		t.Fatalf("answers %+v %+v do not match the requests", m1, m2)
	}
}

func TestSetAvatarSendsTheImageAsIs(t *testing.T) {
	img := []byte("\x89PNG\r\n\x1a\nnot really")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "PUT" || r.URL.Path != "/api/v1/me/avatar" || r.Header.Get("Content-Type") != "image/png" || !bytes.Equal(body, img) {
			t.Errorf("got %s %s %q with %d bytes", r.Method, r.URL.Path, r.Header.Get("Content-Type"), len(body))
		}
		io.WriteString(w, `{"user":{"id":"u-ana","avatar_url":"/api/v1/avatars/u-ana.png"}}`)
	}))
	defer srv.Close()
	u, err := client.New(srv.URL).WithToken("t").SetAvatar(t.Context(), "image/png", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if u.AvatarURL != "/api/v1/avatars/u-ana.png" {
		t.Fatalf("avatar_url = %q", u.AvatarURL)
	}
}

func TestUploadAttachmentAndDownload(t *testing.T) {
	content := strings.Repeat("plop ", 50000) // larger than any pipe buffer
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/rooms/r-1/attachments", func(w http.ResponseWriter, r *http.Request) {
		f, h, err := r.FormFile("file")
		if err != nil {
			t.Errorf("form file: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(f)
		if h.Filename != "notes \"v2\".txt" || h.Header.Get("Content-Type") != "text/plain" || string(data) != content {
			t.Errorf("uploaded %q %q with %d bytes", h.Filename, h.Header.Get("Content-Type"), len(data))
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"attachment":{"id":"a-1","kind":"file","name":"notes.txt","content_type":"text/plain","size":250000,"url":"/api/v1/rooms/r-1/attachments/a-1"}}`)
	})
	mux.HandleFunc("GET /api/v1/rooms/r-1/attachments/a-1", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" {
			http.Error(w, `{"error":{"code":"unauthenticated","message":"sign in"}}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, content)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := client.New(srv.URL).WithToken("t")

	a, err := c.UploadAttachment(t.Context(), "r-1", "notes \"v2\".txt", "text/plain", strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "a-1" || a.Size != 250000 {
		t.Fatalf("attachment = %+v", a)
	}
	body, ctype, err := c.Download(t.Context(), a.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(body)
	body.Close()
	if ctype != "text/plain" || string(data) != content {
		t.Fatalf("downloaded %q with %d bytes", ctype, len(data))
	}
	_, _, err = client.New(srv.URL).Download(t.Context(), srv.URL+a.URL)
	if plop.ErrorCode(err) != plop.EUnauthenticated {
		t.Fatalf("download without a token: err = %v, want unauthenticated", err)
	}
}

func TestUploadAttachmentRejectedEarly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, `{"error":{"code":"payload_too_large","message":"at most 10 MiB"}}`)
	}))
	defer srv.Close()
	big := bytes.NewReader(make([]byte, 20<<20))
	_, err := client.New(srv.URL).WithToken("t").UploadAttachment(t.Context(), "r-1", "big.bin", "application/octet-stream", big)
	if plop.ErrorCode(err) != plop.ETooLarge {
		t.Fatalf("err = %v, want payload_too_large", err)
	}
}
