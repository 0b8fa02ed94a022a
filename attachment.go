package plop

import (
	"context"
	"time"
)

// Attachment kinds.
const (
	AttachmentImage = "image" // re-encoded, with a thumbnail and dimensions
	AttachmentFile  = "file"  // kept as uploaded, served as a download
)

// MaxAttachmentName bounds the file name of an attachment, in bytes of UTF-8.
const MaxAttachmentName = 255

// AttachmentStore persists uploaded images and files. An attachment is uploaded to a room
// first, unattached; MessageStore.CreateMessage links it to a message (Message.AttachmentIDs)
// in the message's transaction, and DeleteMessage removes it with the message's content.
// Attachments no message took are swept after a while.
type AttachmentStore interface {
	// CreateAttachment stores a, unattached (a.MessageSeq is ignored).
	CreateAttachment(ctx context.Context, a *Attachment) error
	// Attachment returns attachment id of roomID. Returns not_found.
	Attachment(ctx context.Context, roomID, id string) (Attachment, error)
	// UnattachedAttachments returns up to limit attachments that no message took and that
	// were uploaded before `before`, oldest first.
	UnattachedAttachments(ctx context.Context, before time.Time, limit int) ([]Attachment, error)
	// DeleteUnattached deletes attachment id unless a message took it in the meantime, and
	// reports whether it deleted it. A missing attachment is not an error.
	DeleteUnattached(ctx context.Context, id string) (bool, error)
}
