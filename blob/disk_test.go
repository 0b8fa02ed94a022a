package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

func mustDisk(tb testing.TB) *Disk {
	tb.Helper()
	d, err := NewDisk(filepath.Join(tb.TempDir(), "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func mustPut(tb testing.TB, d *Disk, key string, data []byte) {
	tb.Helper()
	if err := d.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), ""); err != nil {
		tb.Fatalf("Put(%s): %v", key, err)
	}
}

func readAll(tb testing.TB, d *Disk, key string) []byte {
	tb.Helper()
	b, err := d.Open(context.Background(), key)
	if err != nil {
		tb.Fatalf("Open(%s): %v", key, err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// files lists every file under dir, temporary ones included.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	return out
}

func TestDiskRoundTrip(t *testing.T) {
	d := mustDisk(t)
	fi, _ := os.Stat(d.dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("blob dir mode %v, want 0700", fi.Mode().Perm())
	}
	data := bytes.Repeat([]byte("plop!"), 100_000)
	before := time.Now().Add(-time.Second)
	mustPut(t, d, "avatars/u1/2026.jpg", data)
	b, err := d.Open(context.Background(), "avatars/u1/2026.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size != int64(len(data)) || b.ContentType != "image/jpeg" || b.ModTime.Before(before) {
		t.Fatalf("blob = size %d, type %q, modtime %v", b.Size, b.ContentType, b.ModTime)
	}
	if _, ok := b.ReadSeekCloser.(*os.File); !ok {
		t.Errorf("blob is backed by %T, want *os.File (for sendfile)", b.ReadSeekCloser)
	}
	got, _ := io.ReadAll(b)
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes differing from the %d written", len(got), len(data))
	}
	// Seek, as a range request does.
	if _, err := b.Seek(12, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 8)
	if _, err := io.ReadFull(b, part); err != nil || string(part) != "op!plop!" {
		t.Fatalf("read at offset 12 = %q, %v", part, err)
	}
	if end, err := b.Seek(-3, io.SeekEnd); err != nil || end != b.Size-3 {
		t.Fatalf("seek from end = %d, %v", end, err)
	}
}

func TestDiskContentTypes(t *testing.T) {
	d := mustDisk(t)
	for key, want := range map[string]string{
		"a.png":  "image/png",
		"a.webp": "image/webp",
		"a.gif":  "image/gif",
		"a.bin":  "application/octet-stream",
		"noext":  "application/octet-stream",
		"a.pdf":  "application/pdf",
	} {
		mustPut(t, d, key, []byte("x"))
		b, err := d.Open(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		if b.ContentType != want {
			t.Errorf("%s: content type %q, want %q", key, b.ContentType, want)
		}
	}
}

func TestDiskMissing(t *testing.T) {
	d := mustDisk(t)
	mustPut(t, d, "rooms/r1/a.png", []byte("x"))
	for _, key := range []string{"nothing.png", "rooms/r1/b.png", "rooms/r1", "rooms/r1/a.png/child"} {
		_, err := d.Open(context.Background(), key)
		if plop.ErrorCode(err) != plop.ENotFound {
			t.Errorf("Open(%s) = %v, want not_found", key, err)
		}
	}
}

func TestDiskBadKeys(t *testing.T) {
	d := mustDisk(t)
	secret := filepath.Join(filepath.Dir(d.dir), "secret")
	os.WriteFile(secret, []byte("do not read"), 0o600)
	for _, key := range []string{
		"", "/abs.png", "../secret", "a/../../secret", "a/./b", ".", "..", "a//b", "a/", "trailing/",
		"Upper.png", "sp ace", "a\\b", "a\x00b", "ünïcode", "a/.put~123", "%2e%2e/secret",
		strings.Repeat("a", MaxKeyLen+1),
	} {
		ctx := context.Background()
		if err := d.Put(ctx, key, strings.NewReader("x"), 1, ""); plop.ErrorCode(err) != plop.EInvalid {
			t.Errorf("Put(%q) = %v, want invalid_argument", key, err)
		}
		if _, err := d.Open(ctx, key); plop.ErrorCode(err) != plop.EInvalid {
			t.Errorf("Open(%q) = %v, want invalid_argument", key, err)
		}
		if err := d.Delete(ctx, key); plop.ErrorCode(err) != plop.EInvalid {
			t.Errorf("Delete(%q) = %v, want invalid_argument", key, err)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "do not read" {
		t.Fatal("a bad key reached a file outside the store")
	}
	if f := files(t, d.dir); len(f) != 0 {
		t.Fatalf("bad keys left files %v", f)
	}
	// Keys the services use are fine.
	for _, key := range []string{"avatars/0190b6f4-7c1e-7000-8000-000000000001/1732563420.jpg", "a", "a.b_c-d/e"} {
		if err := CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q) = %v", key, err)
		}
	}
}

func TestDiskOverwrite(t *testing.T) {
	d := mustDisk(t)
	mustPut(t, d, "k.txt", []byte("first version, longer"))
	mustPut(t, d, "k.txt", []byte("second"))
	if got := readAll(t, d, "k.txt"); string(got) != "second" {
		t.Fatalf("after overwrite read %q", got)
	}
}

func TestDiskWrongSizeLeavesNothing(t *testing.T) {
	d := mustDisk(t)
	ctx := context.Background()
	mustPut(t, d, "old.png", []byte("the old one"))
	for name, tc := range map[string]struct {
		key  string
		data string
		size int64
	}{
		"short, new key":      {"new.png", "12345", 10},
		"long, new key":       {"new.png", "1234567890abc", 10},
		"short, existing key": {"old.png", "12345", 10},
		"long, existing key":  {"old.png", "1234567890abc", 10},
		"negative size":       {"new.png", "", -1},
	} {
		err := d.Put(ctx, tc.key, strings.NewReader(tc.data), tc.size, "")
		if plop.ErrorCode(err) != plop.EInvalid {
			t.Errorf("%s: Put = %v, want invalid_argument", name, err)
		}
	}
	if _, err := d.Open(ctx, "new.png"); plop.ErrorCode(err) != plop.ENotFound {
		t.Errorf("a failed Put created the object: %v", err)
	}
	if got := readAll(t, d, "old.png"); string(got) != "the old one" {
		t.Errorf("a failed Put changed the old object to %q", got)
	}
	if f := files(t, d.dir); len(f) != 1 {
		t.Errorf("files after failed Puts: %v, want only old.png", f)
	}
}

// failingReader yields some bytes then an error, like a client that disconnects mid-upload.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestDiskBrokenUploadLeavesNothing(t *testing.T) {
	d := mustDisk(t)
	if err := d.Put(context.Background(), "a/b.jpg", &failingReader{n: 1000}, 5000, ""); err == nil {
		t.Fatal("Put from a broken reader succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Put(ctx, "a/c.jpg", strings.NewReader("x"), 1, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v", err)
	}
	if f := files(t, d.dir); len(f) != 0 {
		t.Fatalf("broken uploads left %v", f)
	}
}

func TestDiskDelete(t *testing.T) {
	d := mustDisk(t)
	ctx := context.Background()
	mustPut(t, d, "x/y.png", []byte("x"))
	if err := d.Delete(ctx, "x/y.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "x/y.png"); plop.ErrorCode(err) != plop.ENotFound {
		t.Fatalf("Open after Delete = %v, want not_found", err)
	}
	for _, key := range []string{"x/y.png", "never.png", "x", "x/y.png/z"} {
		if err := d.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%s) of a missing object = %v, want nil", key, err)
		}
	}
}

// TestDiskConcurrentPuts: readers never see a mix of two writes.
func TestDiskConcurrentPuts(t *testing.T) {
	d := mustDisk(t)
	const writers, size = 8, 64 << 10
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('a' + i)}, size)
			for range 5 {
				if err := d.Put(context.Background(), "same.bin", bytes.NewReader(data), size, ""); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			b, err := d.Open(context.Background(), "same.bin")
			if plop.ErrorCode(err) == plop.ENotFound {
				continue
			}
			if err != nil {
				t.Error(err)
				return
			}
			got, _ := io.ReadAll(b)
			b.Close()
			if len(got) != size || bytes.Count(got, got[:1]) != size {
				t.Errorf("read a torn object: %d bytes", len(got))
			}
		}
	})
	wg.Wait()
	got := readAll(t, d, "same.bin")
	if len(got) != size || bytes.Count(got, got[:1]) != size {
		t.Fatal("final object is torn")
	}
	if f := files(t, d.dir); len(f) != 1 {
		t.Fatalf("files after concurrent Puts: %v", f)
	}
}

func BenchmarkDiskPut(b *testing.B) {
	d := mustDisk(b)
	data := bytes.Repeat([]byte("x"), 200<<10)
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		i++
		if err := d.Put(context.Background(), fmt.Sprintf("bench/%d.jpg", i%100), bytes.NewReader(data), int64(len(data)), ""); err != nil {
			b.Fatal(err)
		}
	}
}
