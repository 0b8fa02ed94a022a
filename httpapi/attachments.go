package httpapi

import (
	"io"
	"mime"
	"net/http"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// attachmentBody is the {"attachment": ...} answer.
type attachmentBody struct {
	Attachment plop.Attachment `json:"attachment"`
}

// POST /api/v1/rooms/{id}/attachments (multipart "file", or the raw body with its
// Content-Type and ?name=) → 201 {attachment}
func (api *API) uploadAttachment(w http.ResponseWriter, r *http.Request) error {
	body, up, err := attachmentUpload(r, api.app.MaxAttachmentBytes())
	if err != nil {
		return err
	}
	up.Body = body
	att, err := api.app.UploadAttachment(r.Context(), me(r), r.PathValue("id"), up)
	if body.over {
		return body.tooLarge()
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, attachmentBody{att})
	return nil
}

// attachmentUpload returns the uploaded file of a request with what the client said of it:
// the multipart field "file" with its file name and Content-Type, or else the raw body with
// the request's Content-Type and the name in ?name=. The returned reader is capped at limit.
func attachmentUpload(r *http.Request, limit int64) (*capReader, app.AttachmentUpload, error) {
	var up app.AttachmentUpload
	if r.ContentLength > limit+multipartSlack {
		return nil, up, plop.Errorf(plop.ETooLarge, "the upload is larger than %d bytes", limit)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			return nil, up, plop.Errorf(plop.EInvalid, "the request body must be the file, or a multipart form with the field \"file\"")
		}
		up.Name = r.URL.Query().Get("name")
		up.ContentType = r.Header.Get("Content-Type")
		return &capReader{r: r.Body, left: limit, limit: limit}, up, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, up, plop.Errorf(plop.EInvalid, "malformed multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, up, plop.Errorf(plop.EInvalid, "the multipart form has no field \"file\"")
		}
		if err != nil {
			if tooLarge(err) {
				return nil, up, plop.Errorf(plop.ETooLarge, "the upload is larger than %d bytes", limit)
			}
			return nil, up, plop.Errorf(plop.EInvalid, "malformed multipart body: %v", err)
		}
		if part.FormName() == "file" {
			up.Name = part.FileName()
			up.ContentType = part.Header.Get("Content-Type")
			return &capReader{r: part, left: limit, limit: limit}, up, nil
		}
	}
}

// GET /api/v1/rooms/{id}/attachments/{aid} → the image or file
func (api *API) attachment(w http.ResponseWriter, r *http.Request) error {
	return api.serveAttachment(w, r, false)
}

// GET /api/v1/rooms/{id}/attachments/{aid}/thumbnail → the thumbnail of an image
func (api *API) attachmentThumbnail(w http.ResponseWriter, r *http.Request) error {
	return api.serveAttachment(w, r, true)
}

// serveAttachment answers the bytes of an attachment to a member of its room, with range
// and conditional requests. Attachments never change, so the answer may be cached, by the
// member's own client only. A file is served as a download that the browser neither renders
// nor sniffs, so that an uploaded HTML page or script cannot run in the server's origin; an
// image (re-encoded by the server) is shown inline, and sandboxed all the same.
func (api *API) serveAttachment(w http.ResponseWriter, r *http.Request, thumbnail bool) error {
	att, b, err := api.app.OpenAttachment(r.Context(), me(r), r.PathValue("id"), r.PathValue("aid"), thumbnail)
	if err != nil {
		return err
	}
	defer b.Close()
	contentType, etag, name := att.ContentType, att.ID, att.Name
	disposition := "attachment"
	if att.Kind == plop.AttachmentImage {
		disposition = "inline"
	}
	if thumbnail {
		contentType, etag = b.ContentType, att.ID+"-thumbnail"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	if cd := mime.FormatMediaType(disposition, map[string]string{"filename": name}); cd != "" {
		h.Set("Content-Disposition", cd)
	} else {
		h.Set("Content-Disposition", disposition)
	}
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("ETag", `"`+etag+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", att.CreatedAt, b)
	return nil
}
