package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/plop-chat/plop"
)

// Disk stores blobs as files under a directory, one file per key (a key's slashes are
// directories). It is the embedded default; a cluster of several nodes needs storage they all
// reach (S3, or one shared mount). It is safe for concurrent use: a reader sees a whole old
// or a whole new object, never a partial one.
type Disk struct {
	dir string
}

var _ plop.BlobStore = (*Disk)(nil)

// tmpPrefix starts the names of files being written; '~' cannot occur in a key, so a
// temporary file never collides with or shows up as an object.
const tmpPrefix = ".put~"

// NewDisk returns a Disk storing under dir, which it creates with mode 0700.
func NewDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	return &Disk{dir: dir}, nil
}

func (d *Disk) path(key string) string {
	return filepath.Join(d.dir, filepath.FromSlash(key))
}

// Put stores exactly size bytes from r under key, replacing any object. The object appears
// whole or not at all: input shorter or longer than size is an invalid_argument error and
// leaves the old object (if any) in place. The content type is not stored: Open derives it
// from the key's extension.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if size < 0 {
		return plop.Errorf(plop.EInvalid, "negative blob size %d", size)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dst := d.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(dst), tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	tmp := f.Name()
	if err := d.write(ctx, f, key, r, size); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return nil
}

// write copies exactly size bytes of r to f and flushes them to disk.
func (d *Disk) write(ctx context.Context, f *os.File, key string, r io.Reader, size int64) error {
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	if n < size {
		return plop.Errorf(plop.EInvalid, "blob %s: input ended after %d of %d bytes", key, n, size)
	}
	var one [1]byte
	if m, _ := io.ReadFull(r, one[:]); m > 0 {
		return plop.Errorf(plop.EInvalid, "blob %s: input longer than %d bytes", key, size)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return nil
}

// Open returns the object under key, backed by its open file, with its size, modification time
// and the content type of its extension. Returns not_found. The caller closes the Blob.
func (d *Disk) Open(ctx context.Context, key string) (plop.Blob, error) {
	if err := CheckKey(key); err != nil {
		return plop.Blob{}, err
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isNotDir(err) {
		return plop.Blob{}, plop.Errorf(plop.ENotFound, "blob %s not found", key)
	}
	if err != nil {
		return plop.Blob{}, fmt.Errorf("open blob %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return plop.Blob{}, fmt.Errorf("open blob %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return plop.Blob{}, plop.Errorf(plop.ENotFound, "blob %s not found", key)
	}
	return plop.Blob{ReadSeekCloser: f, Size: fi.Size(), ContentType: ContentTypeOf(key), ModTime: fi.ModTime()}, nil
}

// Delete removes the object under key; deleting a missing object is not an error.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	p := d.path(key)
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return nil // a "directory" of keys is not an object
	}
	err := os.Remove(p)
	if err == nil || errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return nil
	}
	return fmt.Errorf("delete blob %s: %w", key, err)
}

// ctxReader stops reading once ctx is done, so that a cancelled upload stops being written.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// isNotDir reports whether err says a path component is a file (key "a/b" when "a" is an
// object): for the store, the object simply does not exist.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
