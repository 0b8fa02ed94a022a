package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/plop-chat/plop"
)

// multipartSlack is what a multipart body may carry beyond its file: boundaries, part
// headers and small fields.
const multipartSlack = 64 << 10

// errUploadTooLarge is returned by capReader past its limit.
var errUploadTooLarge = errors.New("upload too large")

// capReader reads at most limit bytes of an upload and remembers whether the upload was
// larger, or whether the request body limit underneath was hit; either way the answer is
// payload_too_large, whatever the service made of the cut-off data.
type capReader struct {
	r     io.Reader
	left  int64
	limit int64
	over  bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a file of exactly limit bytes from a larger one.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			c.over = true
			return 0, errUploadTooLarge
		}
		c.note(err)
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.note(err)
	return n, err
}

func (c *capReader) note(err error) {
	if err != nil && tooLarge(err) {
		c.over = true
	}
}

func (c *capReader) tooLarge() error {
	return plop.Errorf(plop.ETooLarge, "the upload is larger than %d bytes", c.limit)
}

// uploadBody returns the uploaded file of a request: the multipart field "file", or else the
// raw body. The returned reader is capped at limit.
func uploadBody(r *http.Request, limit int64) (*capReader, error) {
	if r.ContentLength > limit+multipartSlack {
		return nil, plop.Errorf(plop.ETooLarge, "the upload is larger than %d bytes", limit)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			return nil, plop.Errorf(plop.EInvalid, "the request body must be the image, or a multipart form with the field \"file\"")
		}
		return &capReader{r: r.Body, left: limit, limit: limit}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, plop.Errorf(plop.EInvalid, "malformed multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, plop.Errorf(plop.EInvalid, "the multipart form has no field \"file\"")
		}
		if err != nil {
			if tooLarge(err) {
				return nil, plop.Errorf(plop.ETooLarge, "the upload is larger than %d bytes", limit)
			}
			return nil, plop.Errorf(plop.EInvalid, "malformed multipart body: %v", err)
		}
		if part.FormName() == "file" {
			return &capReader{r: part, left: limit, limit: limit}, nil
		}
	}
}

// PUT /api/v1/me/avatar (the image, or multipart "file") → {user}
func (api *API) setAvatar(w http.ResponseWriter, r *http.Request) error {
	body, err := uploadBody(r, api.opt.MaxUploadBytes)
	if err != nil {
		return err
	}
	u, err := api.app.SetAvatar(r.Context(), me(r), body)
	if body.over {
		return body.tooLarge()
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userBody{u})
	return nil
}
