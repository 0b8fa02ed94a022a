package client

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/plop-chat/plop"
)

// UploadAttachment uploads a file or image to a room, streaming r as the multipart field
// "file" named name. Send the returned attachment's id in NewMessage.AttachmentIDs.
func (c *Client) UploadAttachment(ctx context.Context, roomID, name, contentType string, r io.Reader) (plop.Attachment, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	// The writer goroutine ends when the whole body is written or when pr is closed,
	// whichever comes first; UploadAttachment waits for it, so r is not read after it
	// returns.
	done := make(chan struct{})
	go func() {
		defer close(done)
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(part, r)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	var out struct {
		Attachment plop.Attachment `json:"attachment"`
	}
	err := c.do(ctx, call{method: http.MethodPost, path: "/rooms/" + seg(roomID) + "/attachments",
		body: pr, contentType: mw.FormDataContentType(), out: &out})
	pr.Close()
	<-done
	return out.Attachment, err
}

// Download fetches the bytes behind a URL the server handed out (an attachment's url or
// thumbnail_url, a user's avatar_url), absolute or relative to BaseURL, sending the access
// token. The caller closes the body.
func (c *Client) Download(ctx context.Context, rawURL string) (body io.ReadCloser, contentType string, err error) {
	target, err := c.resolve(rawURL)
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, "", decodeError(resp)
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

// resolve makes rawURL absolute against BaseURL.
func (c *Client) resolve(rawURL string) (string, error) {
	ref, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse url %q: %w", rawURL, err)
	}
	if ref.IsAbs() {
		return rawURL, nil
	}
	base, err := url.Parse(strings.TrimRight(c.BaseURL, "/") + "/")
	if err != nil {
		return "", fmt.Errorf("parse base url %q: %w", c.BaseURL, err)
	}
	return base.ResolveReference(ref).String(), nil
}
