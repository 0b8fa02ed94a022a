package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/plop-chat/plop"
)

// s3Server runs an S3-compatible server on loopback and returns its host:port.
func s3Server(tb testing.TB) string {
	tb.Helper()
	faker := gofakes3.New(s3mem.New())
	srv := httptest.NewServer(faker.Server())
	tb.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func s3URL(host, path, extra string) string {
	return "s3://plopkey:plop%2Fsecret@" + host + "/" + path + "?region=us-east-1&tls=false&path_style=true" + extra
}

// mustS3 returns a store on a fresh server's bucket "plop", created on the way.
func mustS3(tb testing.TB) *S3 {
	tb.Helper()
	s, err := NewS3(context.Background(), s3URL(s3Server(tb), "plop", "&create=1"))
	if err != nil {
		tb.Fatalf("NewS3: %v", err)
	}
	return s
}

func s3Put(tb testing.TB, s *S3, key string, data []byte, contentType string) {
	tb.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		tb.Fatalf("Put(%s): %v", key, err)
	}
}

func s3Read(tb testing.TB, s *S3, key string) []byte {
	tb.Helper()
	b, err := s.Open(context.Background(), key)
	if err != nil {
		tb.Fatalf("Open(%s): %v", key, err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	return data
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := plop.ErrorCode(err); got != code {
		tb.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func TestS3RoundTrip(t *testing.T) {
	s := mustS3(t)
	data := bytes.Repeat([]byte("plop!"), 100_000)
	before := time.Now().Add(-2 * time.Second)
	s3Put(t, s, "avatars/u1/2026.jpg", data, "image/jpeg")
	b, err := s.Open(context.Background(), "avatars/u1/2026.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size != int64(len(data)) || b.ContentType != "image/jpeg" || b.ModTime.Before(before) || b.ModTime.After(time.Now().Add(2*time.Second)) {
		t.Fatalf("blob = size %d, type %q, modtime %v", b.Size, b.ContentType, b.ModTime)
	}
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes (err %v), want the %d put", len(got), err, len(data))
	}

	// An empty content type falls back to the key's extension; an empty object is fine.
	s3Put(t, s, "files/r1/notes.txt", nil, "")
	b2, err := s.Open(context.Background(), "files/r1/notes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if b2.Size != 0 || !strings.HasPrefix(b2.ContentType, "text/plain") {
		t.Fatalf("empty blob = size %d, type %q", b2.Size, b2.ContentType)
	}
}

func TestS3SeekAndRange(t *testing.T) {
	s := mustS3(t)
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	s3Put(t, s, "files/r1/blob.bin", data, "application/octet-stream")
	b, err := s.Open(context.Background(), "files/r1/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, err := b.Seek(0, io.SeekEnd); err != nil || n != int64(len(data)) {
		t.Fatalf("Seek(0, end) = %d, %v; want %d", n, err, len(data))
	}
	if _, err := b.Seek(40_000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 100)
	if _, err := io.ReadFull(b, part); err != nil || !bytes.Equal(part, data[40_000:40_100]) {
		t.Fatalf("read after seek: %v, bytes match %v", err, bytes.Equal(part, data[40_000:40_100]))
	}
	if _, err := b.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(tail, data[len(data)-10:]) {
		t.Fatalf("tail = %v, %v", tail, err)
	}

	// What the attachment handler does with it: a range request answered by ServeContent.
	b2, err := s.Open(context.Background(), "files/r1/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Range", "bytes=1000-1999")
	rec := httptest.NewRecorder()
	http.ServeContent(rec, req, "blob.bin", b2.ModTime, b2)
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), data[1000:2000]) {
		t.Fatalf("range answer %d with %d bytes, want 206 with bytes 1000-1999", rec.Code, rec.Body.Len())
	}
	if got := rec.Header().Get("Content-Range"); got != "bytes 1000-1999/65536" {
		t.Fatalf("Content-Range %q", got)
	}
}

func TestS3Missing(t *testing.T) {
	s := mustS3(t)
	_, err := s.Open(context.Background(), "avatars/nobody.jpg")
	wantCode(t, err, plop.ENotFound)
	s3Put(t, s, "a", []byte("x"), "")
	_, err = s.Open(context.Background(), "a/b")
	wantCode(t, err, plop.ENotFound)
}

func TestS3BadKeys(t *testing.T) {
	s := mustS3(t)
	ctx := context.Background()
	for _, key := range []string{"", "/a", "a/", "a//b", "../a", "a/./b", "A.jpg", "a b", "a?b", strings.Repeat("a", MaxKeyLen+1)} {
		wantCode(t, s.Put(ctx, key, strings.NewReader("x"), 1, ""), plop.EInvalid)
		_, err := s.Open(ctx, key)
		wantCode(t, err, plop.EInvalid)
		wantCode(t, s.Delete(ctx, key), plop.EInvalid)
	}
	wantCode(t, s.Put(ctx, "ok", strings.NewReader(""), -1, ""), plop.EInvalid)
}

func TestS3Overwrite(t *testing.T) {
	s := mustS3(t)
	s3Put(t, s, "avatars/u1.png", []byte("first version, longer"), "image/png")
	s3Put(t, s, "avatars/u1.png", []byte("second"), "image/webp")
	b, err := s.Open(context.Background(), "avatars/u1.png")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, _ := io.ReadAll(b)
	if string(got) != "second" || b.Size != 6 || b.ContentType != "image/webp" {
		t.Fatalf("after overwrite: %q, size %d, type %q", got, b.Size, b.ContentType)
	}
}

func TestS3WrongSizeKeepsOldObject(t *testing.T) {
	s := mustS3(t)
	s3Put(t, s, "f.txt", []byte("old"), "")
	ctx := context.Background()
	err := s.Put(ctx, "f.txt", strings.NewReader("short"), 10, "")
	wantCode(t, err, plop.EInvalid)
	err = s.Put(ctx, "f.txt", strings.NewReader("much longer than that"), 4, "")
	wantCode(t, err, plop.EInvalid)
	wantCode(t, s.Put(ctx, "g.txt", strings.NewReader("x"), 0, ""), plop.EInvalid)
	if got := s3Read(t, s, "f.txt"); string(got) != "old" {
		t.Fatalf("after failed puts the object is %q, want the old one", got)
	}
	_, err = s.Open(ctx, "g.txt")
	wantCode(t, err, plop.ENotFound)
}

func TestS3Delete(t *testing.T) {
	s := mustS3(t)
	ctx := context.Background()
	s3Put(t, s, "files/a.txt", []byte("a"), "")
	s3Put(t, s, "files/b.txt", []byte("b"), "")
	if err := s.Delete(ctx, "files/a.txt"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Open(ctx, "files/a.txt")
	wantCode(t, err, plop.ENotFound)
	if got := s3Read(t, s, "files/b.txt"); string(got) != "b" {
		t.Fatalf("the other object is %q", got)
	}
	if err := s.Delete(ctx, "files/a.txt"); err != nil {
		t.Fatalf("deleting a missing object: %v", err)
	}
	if err := s.Delete(ctx, "files"); err != nil {
		t.Fatalf("deleting a key prefix that is no object: %v", err)
	}
}

func TestS3BucketAndPrefix(t *testing.T) {
	host := s3Server(t)
	ctx := context.Background()
	if _, err := NewS3(ctx, s3URL(host, "media", "")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("NewS3 on a missing bucket without create=1: %v", err)
	}
	withPrefix, err := NewS3(ctx, s3URL(host, "media/node-a", "&create=1"))
	if err != nil {
		t.Fatal(err)
	}
	s3Put(t, withPrefix, "avatars/u1.jpg", []byte("jpeg"), "image/jpeg")
	// The bucket now exists: a second store needs no create=1 and sees the prefixed key.
	whole, err := NewS3(ctx, s3URL(host, "media", ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := s3Read(t, whole, "node-a/avatars/u1.jpg"); string(got) != "jpeg" {
		t.Fatalf("prefixed object holds %q", got)
	}
	_, err = whole.Open(ctx, "avatars/u1.jpg")
	wantCode(t, err, plop.ENotFound)
}

func TestS3Unavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = NewS3(ctx, s3URL(dead, "plop", ""))
	if !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("NewS3 on a closed port: %v, want ErrUnavailable", err)
	}

	// A store whose server goes away answers unavailable, not not_found.
	faker := gofakes3.New(s3mem.New())
	srv := httptest.NewServer(faker.Server())
	s, err := NewS3(ctx, s3URL(strings.TrimPrefix(srv.URL, "http://"), "plop", "&create=1"))
	if err != nil {
		t.Fatal(err)
	}
	s3Put(t, s, "k", []byte("v"), "")
	srv.Close()
	_, err = s.Open(ctx, "k")
	if !errors.Is(err, plop.ErrUnavailable) || plop.ErrorCode(err) != plop.EUnavailable {
		t.Fatalf("Open with the server down: %v, want ErrUnavailable", err)
	}
	if err := s.Put(ctx, "k", strings.NewReader("v2"), 2, ""); !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("Put with the server down: %v, want ErrUnavailable", err)
	}
}

func TestParseS3URL(t *testing.T) {
	cfg, err := parseS3URL("s3://AK:S%40cret@s3.example.com/bucket/pre/fix?region=eu-west-1&path_style=false")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.host != "s3.example.com" || cfg.bucket != "bucket" || cfg.prefix != "pre/fix/" || cfg.region != "eu-west-1" || !cfg.tls || cfg.create {
		t.Fatalf("parsed %+v", cfg)
	}
	v, err := cfg.creds.GetWithContext(nil)
	if err != nil || v.AccessKeyID != "AK" || v.SecretAccessKey != "S@cret" {
		t.Fatalf("credentials %q/%q, %v", v.AccessKeyID, v.SecretAccessKey, err)
	}
	for _, bad := range []string{
		"http://h/b", "s3:///b", "s3://h", "s3://h/", "s3://h/b?tls=maybe",
		"s3://h/b?path_style=yes-please", "s3://h/b/Bad..Prefix", "s3://h/b?create=2",
	} {
		if _, err := parseS3URL(bad); err == nil {
			t.Errorf("parseS3URL(%q) accepted", bad)
		}
	}
	if _, err := parseS3URL("s3://AK:hunter2@h/%zz"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad URL's error shows the secret or passes: %v", err)
	}
}

// BenchmarkS3PutOpen measures a 64 KiB upload and its read back through an S3 server on
// loopback (the server keeps objects in memory).
func BenchmarkS3PutOpen(b *testing.B) {
	s := mustS3(b)
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s3Put(b, s, "bench/blob.bin", data, "")
		if got := s3Read(b, s, "bench/blob.bin"); len(got) != len(data) {
			b.Fatalf("read %d bytes", len(got))
		}
	}
}
