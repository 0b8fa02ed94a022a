package plop

import (
	"context"
	"io"
	"time"
)

// Blob is an open stored object.
type Blob struct {
	io.ReadSeekCloser
	Size        int64
	ContentType string
	ModTime     time.Time
}

// BlobStore keeps images and files by key. Keys are slash-separated paths of [a-z0-9._-]
// segments chosen by the services.
type BlobStore interface {
	// Put stores size bytes from r under key with its content type, replacing any object.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the object for reading with seeking (for range requests). Returns not_found.
	Open(ctx context.Context, key string) (Blob, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// Mail is one outgoing e-mail.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends e-mail: to the outbox folder by default, over SMTP when configured.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}
