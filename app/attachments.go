package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/media"
)

// Photos and files in conversations. An upload is checked, stored in the blob store and
// recorded unattached; a message then names it in attachment_ids (see SendMessage) and the
// store links the two in the message's transaction. Images are re-encoded (no metadata, at
// most media.PhotoLimits.MaxDim pixels a side) and get a thumbnail; any other file is kept
// byte for byte with its sanitized name and declared type, and served as a download.

// AttachmentUpload is one uploaded file as the transport received it.
type AttachmentUpload struct {
	Name        string    // the client's file name; "" when it sent none
	ContentType string    // the media type the client declared; "" when none
	Body        io.Reader // the bytes; the transport bounds what it reads
}

// sniffLen is how much of an upload http.DetectContentType looks at.
const sniffLen = 512

// MaxAttachmentBytes is the largest upload of any kind, for transports that bound the
// request body before the kind is known.
func (a *App) MaxAttachmentBytes() int64 {
	return max(a.cfg.AttachmentImageMaxBytes, a.cfg.AttachmentFileMaxBytes)
}

// UploadAttachment stores a file that the caller may then send in a message to roomID. What
// the bytes are is sniffed, not taken from the declared type: a JPEG, PNG, GIF or WebP image
// is re-encoded to at most 2048 pixels a side with a 320-pixel thumbnail, and kept with its
// width and height; anything else (a damaged image included) is kept as a file with its
// sanitized name and declared type. Returns not_found (no such room for the caller),
// forbidden (a direct room with a block), invalid_argument or payload_too_large (an image over
// AttachmentImageMaxBytes or with too many pixels, another file over
// AttachmentFileMaxBytes). A refused upload leaves nothing behind.
func (a *App) UploadAttachment(ctx context.Context, me, roomID string, up AttachmentUpload) (plop.Attachment, error) {
	members, err := a.membersIfIn(ctx, me, roomID)
	if err != nil {
		return plop.Attachment{}, err
	}
	if err := a.checkWritable(ctx, roomID, members); err != nil {
		return plop.Attachment{}, err
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(up.Body, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return plop.Attachment{}, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	att := plop.Attachment{
		ID:         uuid.Must(uuid.NewV7()).String(),
		RoomID:     roomID,
		UploaderID: me,
		CreatedAt:  a.clock(),
	}
	body := io.MultiReader(bytes.NewReader(head), up.Body)
	if isPhoto(http.DetectContentType(head)) {
		data, err := readAtMost(body, a.cfg.AttachmentImageMaxBytes, "an image")
		if err != nil {
			return plop.Attachment{}, err
		}
		img, thumb, err := a.normalizePhoto(ctx, data)
		switch plop.ErrorCode(err) {
		case "":
			stored, err := a.storePhoto(ctx, att, up.Name, img, thumb)
			if err != nil {
				return plop.Attachment{}, err
			}
			return a.presentAttachment(stored), nil
		case plop.EInvalid:
			// Not decodable after all: keep it as the file it is.
			body = bytes.NewReader(data)
		default:
			return plop.Attachment{}, err
		}
	}
	att, err = a.storeFile(ctx, att, up, body)
	if err != nil {
		return plop.Attachment{}, err
	}
	return a.presentAttachment(att), nil
}

// isPhoto reports whether a sniffed content type is an image kind media.Normalize reads.
func isPhoto(sniffed string) bool {
	switch sniffed {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return true
	}
	return false
}

// readAtMost reads all of r into memory, or fails with payload_too_large past limit bytes.
func readAtMost(r io.Reader, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, plop.Errorf(plop.ETooLarge, "%s may have at most %d bytes", what, limit)
	}
	return data, nil
}

// normalizePhoto re-encodes an uploaded image and makes its thumbnail, waiting for one of
// the slots that bound how many images are decoded at once. It returns invalid_argument when
// data does not decode as an image.
func (a *App) normalizePhoto(ctx context.Context, data []byte) (img, thumb media.Image, err error) {
	select {
	case a.photos <- struct{}{}:
		defer func() { <-a.photos }()
	case <-ctx.Done():
		return media.Image{}, media.Image{}, ctx.Err()
	}
	limits := media.PhotoLimits
	limits.MaxBytes = int64(len(data))
	img, err = media.Normalize(bytes.NewReader(data), limits)
	if err != nil {
		return media.Image{}, media.Image{}, err
	}
	limits = media.ThumbnailLimits
	limits.MaxBytes = int64(len(img.Data))
	thumb, err = media.Normalize(bytes.NewReader(img.Data), limits)
	if err != nil {
		return media.Image{}, media.Image{}, fmt.Errorf("thumbnail of a normalized image: %w", err)
	}
	return img, thumb, nil
}

// storePhoto stores a normalized image and its thumbnail and records the attachment.
func (a *App) storePhoto(ctx context.Context, att plop.Attachment, name string, img, thumb media.Image) (plop.Attachment, error) {
	ext := ".jpg"
	if img.ContentType == "image/png" {
		ext = ".png"
	}
	att.Kind = plop.AttachmentImage
	att.Name = imageName(name, ext)
	att.ContentType = img.ContentType
	att.Size = int64(len(img.Data))
	att.Width, att.Height = img.Width, img.Height
	att.BlobKey = attachmentKey(att) + ext
	att.ThumbnailKey = attachmentKey(att) + ".thumb" + ext
	if err := a.blobs.Put(ctx, att.BlobKey, bytes.NewReader(img.Data), att.Size, img.ContentType); err != nil {
		return plop.Attachment{}, fmt.Errorf("store image: %w", err)
	}
	if err := a.blobs.Put(ctx, att.ThumbnailKey, bytes.NewReader(thumb.Data), int64(len(thumb.Data)), thumb.ContentType); err != nil {
		a.deleteAttachmentBlobs(ctx, att)
		return plop.Attachment{}, fmt.Errorf("store thumbnail: %w", err)
	}
	return att, a.recordAttachment(ctx, &att)
}

// storeFile stages a file on local disk to learn its size within the limit, stores it as a
// blob and records the attachment.
func (a *App) storeFile(ctx context.Context, att plop.Attachment, up AttachmentUpload, body io.Reader) (plop.Attachment, error) {
	f, err := os.CreateTemp(a.cfg.SpoolDir, "upload-*")
	if err != nil {
		return plop.Attachment{}, fmt.Errorf("stage upload: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	limit := a.cfg.AttachmentFileMaxBytes
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	if err != nil {
		return plop.Attachment{}, fmt.Errorf("stage upload: %w", err)
	}
	if n > limit {
		return plop.Attachment{}, plop.Errorf(plop.ETooLarge, "a file may have at most %d bytes", limit)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return plop.Attachment{}, fmt.Errorf("stage upload: %w", err)
	}
	att.Kind = plop.AttachmentFile
	att.Name = fileName(up.Name)
	att.ContentType = declaredType(up.ContentType)
	att.Size = n
	att.BlobKey = attachmentKey(att)
	if err := a.blobs.Put(ctx, att.BlobKey, f, n, att.ContentType); err != nil {
		return plop.Attachment{}, fmt.Errorf("store file: %w", err)
	}
	return att, a.recordAttachment(ctx, &att)
}

// recordAttachment stores the row of an attachment whose blobs are stored, and deletes the
// blobs again when that fails.
func (a *App) recordAttachment(ctx context.Context, att *plop.Attachment) error {
	if err := a.store.CreateAttachment(ctx, att); err != nil {
		a.deleteAttachmentBlobs(ctx, *att)
		return err
	}
	return nil
}

// attachmentKey is the blob key of an attachment without extension:
// attachments/<room>/<attachment id>.
func attachmentKey(att plop.Attachment) string {
	return "attachments/" + strings.ToLower(att.RoomID) + "/" + strings.ToLower(att.ID)
}

// deleteAttachmentBlobs deletes the blobs of att. It runs after the rows are gone (or were
// never written), also when the request was cancelled; a failure leaves an orphaned blob and
// is logged.
func (a *App) deleteAttachmentBlobs(ctx context.Context, att plop.Attachment) {
	ctx = context.WithoutCancel(ctx)
	for _, key := range []string{att.BlobKey, att.ThumbnailKey} {
		if key == "" {
			continue
		}
		if err := a.blobs.Delete(ctx, key); err != nil {
			a.log.WarnContext(ctx, "delete attachment blob", "key", key, "err", err)
		}
	}
}

// OpenAttachment opens attachment id of roomID (its thumbnail when thumbnail is set) for the
// caller to download. Only members of the room may, and an upload that no message carries
// yet only its uploader. Returns not_found; the caller closes the blob.
func (a *App) OpenAttachment(ctx context.Context, me, roomID, id string, thumbnail bool) (plop.Attachment, plop.Blob, error) {
	noSuch := plop.Errorf(plop.ENotFound, "no such attachment")
	if err := a.AuthorizeRoom(ctx, me, roomID); err != nil {
		return plop.Attachment{}, plop.Blob{}, err
	}
	if checkID("attachment id", id) != nil {
		return plop.Attachment{}, plop.Blob{}, noSuch
	}
	att, err := a.store.Attachment(ctx, roomID, id)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return plop.Attachment{}, plop.Blob{}, noSuch
		}
		return plop.Attachment{}, plop.Blob{}, err
	}
	if att.MessageSeq == 0 && att.UploaderID != me {
		return plop.Attachment{}, plop.Blob{}, noSuch
	}
	key := att.BlobKey
	if thumbnail {
		key = att.ThumbnailKey
	}
	if key == "" {
		return plop.Attachment{}, plop.Blob{}, noSuch
	}
	b, err := a.blobs.Open(ctx, key)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			a.log.WarnContext(ctx, "attachment blob missing", "attachment_id", att.ID, "key", key)
			return plop.Attachment{}, plop.Blob{}, noSuch
		}
		return plop.Attachment{}, plop.Blob{}, err
	}
	return a.presentAttachment(att), b, nil
}

// attachmentsOf returns the attachments of message seq of roomID, for deleting their blobs
// once the message is unsent. A failure to load them is logged: the blobs stay orphaned.
func (a *App) attachmentsOf(ctx context.Context, roomID string, seq int64) []plop.Attachment {
	m, err := a.store.Message(ctx, roomID, seq)
	if err != nil {
		a.log.WarnContext(ctx, "load attachments of a message", "room_id", roomID, "seq", seq, "err", err)
		return nil
	}
	return m.Attachments
}

// presentAttachments fills the download URLs of a message's attachments and makes the list
// encode as [] rather than null.
func (a *App) presentAttachments(list []plop.Attachment) []plop.Attachment {
	if list == nil {
		return []plop.Attachment{}
	}
	out := make([]plop.Attachment, len(list))
	for i, att := range list {
		out[i] = a.presentAttachment(att)
	}
	return out
}

// presentAttachment fills the download URLs of att: PublicURL (or nothing: relative to the
// server) + /api/v1/rooms/{room}/attachments/{id}, and .../thumbnail for an image.
func (a *App) presentAttachment(att plop.Attachment) plop.Attachment {
	if att.ID == "" {
		return att
	}
	att.URL = a.cfg.PublicURL + "/api/v1/rooms/" + url.PathEscape(att.RoomID) + "/attachments/" + url.PathEscape(att.ID)
	att.ThumbnailURL = ""
	if att.ThumbnailKey != "" {
		att.ThumbnailURL = att.URL + "/thumbnail"
	}
	return att
}

// checkAttachmentIDs enforces the shape of a message's attachment_ids: at most
// plop.MaxAttachmentsSent ids, none empty or repeated. Whether each names an upload the
// message may take is checked by the store, in the message's transaction.
func checkAttachmentIDs(ids []string) error {
	if len(ids) > plop.MaxAttachmentsSent {
		return plop.Errorf(plop.EInvalid, "a message may carry at most %d attachments", plop.MaxAttachmentsSent)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if checkID("attachment id", id) != nil {
			return plop.Errorf(plop.EInvalid, "attachment_ids holds an invalid id")
		}
		if seen[id] {
			return plop.Errorf(plop.EInvalid, "attachment_ids names %s twice", id)
		}
		seen[id] = true
	}
	return nil
}

// checkMessageBody applies checkBody, but lets a message with attachments have a body that is
// empty or only white space (still at most plop.MaxMessageBody bytes).
func checkMessageBody(body string, attachments int) error {
	if attachments > 0 && strings.TrimSpace(body) == "" {
		if len(body) > plop.MaxMessageBody {
			return plop.Errorf(plop.EInvalid, "message body is longer than %d bytes", plop.MaxMessageBody)
		}
		return nil
	}
	return checkBody(body)
}
