// Package push delivers notifications to the devices of users who have no live connection:
// through Firebase Cloud Messaging (FCM, the HTTP v1 API) to Android and iOS apps, through Web
// Push (RFC 8030 with RFC 8291 encryption and RFC 8292 VAPID) to browsers, and to the log when
// neither is configured (the embedded default). Mux picks the sender by device platform.
//
// The senders are safe for concurrent use. They make one delivery per call, retrying briefly
// on throttling and server errors; queueing, batching and the choice of whom to notify belong
// to the caller.
package push

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/plop-chat/plop"
)

// Notification is what a device shows: the domain's PushNotification. A zero TTL is
// DefaultTTL; an empty Urgency is UrgencyNormal.
type Notification = plop.PushNotification

// Urgencies of a Notification.
const (
	UrgencyNormal = "normal"
	UrgencyHigh   = "high"
)

// DefaultTTL is how long a push service keeps a notification whose TTL is zero.
const DefaultTTL = 24 * time.Hour

// MaxBodyBytes bounds the body a device is sent: longer bodies are cut at a character
// boundary and end with an ellipsis. A notification is a preview; the app fetches the rest.
const MaxBodyBytes = plop.MaxPushBody

// ErrGone is wrapped by Send when the push service says the device token/subscription is no
// longer valid (FCM UNREGISTERED / 404, Web Push 404/410): the caller deletes the device. It
// is the domain's plop.ErrDeviceGone.
var ErrGone = plop.ErrDeviceGone

// Sender delivers one notification to one device.
//
// Send returns nil once the push service accepted the notification; an error wrapping ErrGone
// when the device no longer exists (delete it); an error wrapping plop.ErrUnavailable when the
// push service could not be reached or kept failing (try again later); any other error for a
// notification or configuration the service refuses (retrying will not help).
type Sender interface {
	Send(ctx context.Context, d plop.Device, n Notification) error
}

// Mux sends by platform: FCM devices to the FCM sender, webpush devices to the WebPush
// sender, falling back to the log sender when a platform is not configured. It is the
// plop.Pusher that the services use.
type Mux struct {
	fcm, webpush, fallback Sender
}

var (
	_ Sender      = (*Mux)(nil)
	_ plop.Pusher = (*Mux)(nil)
)

// NewMux returns a Mux. A nil fcm or webpush sender sends that platform to fallback; a nil
// fallback is a LogSender on slog.Default().
func NewMux(fcm, webpush, fallback Sender) *Mux {
	if fallback == nil {
		fallback = NewLogSender(nil)
	}
	if fcm == nil {
		fcm = fallback
	}
	if webpush == nil {
		webpush = fallback
	}
	return &Mux{fcm: fcm, webpush: webpush, fallback: fallback}
}

// Send delivers n to d through the sender of d's platform. An unknown platform is an error.
func (m *Mux) Send(ctx context.Context, d plop.Device, n Notification) error {
	switch d.Platform {
	case plop.PlatformFCM:
		return m.fcm.Send(ctx, d, n)
	case plop.PlatformWebPush:
		return m.webpush.Send(ctx, d, n)
	}
	return fmt.Errorf("push to device %s: unknown platform %q", d.ID, d.Platform)
}

// Push is Send, for plop.Pusher.
func (m *Mux) Push(ctx context.Context, d plop.Device, n plop.PushNotification) error {
	return m.Send(ctx, d, n)
}

// ttl returns n's TTL in whole seconds, DefaultTTL when unset.
func ttl(n Notification) time.Duration {
	if n.TTL <= 0 {
		return DefaultTTL
	}
	return n.TTL.Truncate(time.Second)
}

// high reports whether n asks for immediate delivery.
func high(n Notification) bool { return n.Urgency == UrgencyHigh }

// data returns n.Data with room_id (and count, when set) filled in unless already present.
func data(n Notification) map[string]string {
	out := make(map[string]string, len(n.Data)+2)
	for k, v := range n.Data {
		out[k] = v
	}
	if _, ok := out["room_id"]; !ok && n.RoomID != "" {
		out["room_id"] = n.RoomID
	}
	if _, ok := out["count"]; !ok && n.Count > 0 {
		out["count"] = fmt.Sprint(n.Count)
	}
	return out
}

// body returns n.Body cut to MaxBodyBytes.
func body(n Notification) string { return truncate(n.Body, MaxBodyBytes) }

// truncate cuts s to at most max bytes at a character boundary, ending it with an ellipsis.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	if max < len(ellipsis) {
		return ""
	}
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
