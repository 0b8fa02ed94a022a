package push

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plop-chat/plop"
)

// WebPush sends notifications to browsers through the push service of each subscription
// (RFC 8030), encrypting them for the subscription (RFC 8291) and identifying this server
// with its VAPID key (RFC 8292).
//
// The payload a service worker receives is the JSON of WebPayload.
type WebPush struct {
	vapid   *VAPID
	subject string
	hc      *http.Client
	logger  *slog.Logger
	retry   retryPolicy
	now     func() time.Time
}

var _ Sender = (*WebPush)(nil)

// WebPayload is the JSON that a browser's service worker gets in its push event.
type WebPayload struct {
	Title  string            `json:"title"`
	Body   string            `json:"body"`
	RoomID string            `json:"room_id,omitempty"`
	Count  int               `json:"count,omitempty"`
	Tag    string            `json:"tag,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// NewWebPush returns a WebPush sender signing with v. subject is the contact a push service
// may use about this server: a mailto: or https: URL. hc nil is a client that dials only
// public addresses (subscriptions name their endpoint, and a user must not make the server
// call into its own network); a deployment behind an outbound proxy passes its own client.
func NewWebPush(v *VAPID, subject string, hc *http.Client, logger *slog.Logger) *WebPush {
	if hc == nil {
		hc = publicClient()
	}
	if logger == nil {
		logger = slog.Default()
	}
	if !strings.HasPrefix(subject, "mailto:") && !strings.HasPrefix(subject, "https:") {
		logger.Warn("web push: the VAPID subject should be a mailto: or https: URL; some push services refuse others", "subject", subject)
	}
	return &WebPush{vapid: v, subject: subject, hc: hc, logger: logger, retry: defaultRetry, now: time.Now}
}

// subscription is the browser's PushSubscription JSON.
type subscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// parseSubscription returns the endpoint, its origin and the decoded keys of raw.
func parseSubscription(raw []byte) (endpoint, origin string, p256dh, auth []byte, err error) {
	var s subscription
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", "", nil, nil, fmt.Errorf("subscription JSON: %w", err)
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", "", nil, nil, errors.New("subscription endpoint is not an https URL")
	}
	p256dh, err = decodeB64(s.Keys.P256dh)
	if err == nil && len(p256dh) == keyLen {
		_, err = ecdh.P256().NewPublicKey(p256dh)
	}
	if err != nil || len(p256dh) != keyLen {
		return "", "", nil, nil, errors.New("subscription key p256dh is not an uncompressed P-256 point")
	}
	if auth, err = decodeB64(s.Keys.Auth); err != nil || len(auth) != authLen {
		return "", "", nil, nil, errors.New("subscription auth secret is not 16 bytes")
	}
	return s.Endpoint, u.Scheme + "://" + u.Host, p256dh, auth, nil
}

// decodeB64 decodes base64url with or without padding (and standard base64, which some
// browsers once produced).
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// Send encrypts n for the subscription of d and posts it to the subscription's push service.
// See Sender for what its errors mean: 404 and 410 wrap ErrGone, and so does a subscription
// that cannot be used (malformed JSON, keys or endpoint); 429 and 5xx are retried (Retry-After
// honoured) and then wrap plop.ErrUnavailable; 413 and the other refusals are plain errors.
func (w *WebPush) Send(ctx context.Context, d plop.Device, n Notification) error {
	endpoint, origin, p256dh, auth, err := parseSubscription(d.Subscription)
	if err != nil {
		return fmt.Errorf("web push to device %s: %w: %w", d.ID, ErrGone, err)
	}
	payload, err := webPayload(n)
	if err != nil {
		return fmt.Errorf("web push to device %s: %w", d.ID, err)
	}
	body, err := encrypt(payload, p256dh, auth)
	if err != nil {
		return fmt.Errorf("web push to device %s: %w", d.ID, err)
	}
	err = w.retry.do(ctx, func(ctx context.Context) attempt {
		return w.try(ctx, d, n, endpoint, origin, body)
	})
	if err != nil {
		return err
	}
	w.logger.DebugContext(ctx, "push sent", "platform", d.Platform, "device_id", d.ID, "room_id", n.RoomID)
	return nil
}

// try posts the encrypted message once.
func (w *WebPush) try(ctx context.Context, d plop.Device, n Notification, endpoint, origin string, body []byte) attempt {
	authz, err := w.vapid.authorization(origin, w.subject, w.now())
	if err != nil {
		return attempt{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return attempt{err: fmt.Errorf("web push to device %s: %w", d.ID, err)}
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.FormatInt(int64(ttl(n)/time.Second), 10))
	req.Header.Set("Urgency", UrgencyNormal)
	if high(n) {
		req.Header.Set("Urgency", UrgencyHigh)
	}
	if n.Tag != "" {
		req.Header.Set("Topic", topic(n.Tag))
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return networkAttempt(ctx, "web push to device "+d.ID, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	msg := fmt.Sprintf("web push to device %s: %s %s", d.ID, resp.Status, strings.TrimSpace(string(answer)))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return attempt{}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return attempt{err: fmt.Errorf("%s: %w", msg, ErrGone)}
	case transient(resp.StatusCode):
		return attempt{err: fmt.Errorf("%s: %w", msg, plop.ErrUnavailable), retry: true, after: retryAfter(resp.Header, w.now())}
	}
	return attempt{err: errors.New(msg)}
}

// webPayload returns the JSON of n, its body shortened as needed to fit one push message.
func webPayload(n Notification) ([]byte, error) {
	p := WebPayload{Title: n.Title, Body: body(n), RoomID: n.RoomID, Count: n.Count, Tag: n.Tag, Data: data(n)}
	for {
		out, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		if len(out) <= maxPlaintext {
			return out, nil
		}
		if p.Body == "" {
			return nil, errTooLarge
		}
		p.Body = truncate(p.Body, len(p.Body)-(len(out)-maxPlaintext)-len("…"))
	}
}

// topic returns a Topic header for tag: tag itself when it is already made of base64url
// characters and at most 32 long, else 32 characters of base64url of its SHA-256 (the same
// tag always gets the same topic, so collapsing still works).
func topic(tag string) string {
	if len(tag) <= 32 && strings.Trim(tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
		return tag
	}
	sum := sha256.Sum256([]byte(tag))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:32]
}
