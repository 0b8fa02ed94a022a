package plop

import (
	"context"
	"errors"
	"time"
)

// PushNotification is what a device shows for messages that arrived while its user was away.
type PushNotification struct {
	Title   string
	Body    string
	RoomID  string
	Count   int               // messages collapsed into this notification
	Tag     string            // collapse key: one notification per room
	Data    map[string]string // extra data for the app (room_id, seq, ...)
	TTL     time.Duration     // how long the push service keeps it for an offline device
	Urgency string            // "normal" or "high"
}

// Pusher delivers one notification to one device: through FCM, Web Push, or the log.
type Pusher interface {
	// Push returns an error wrapping ErrDeviceGone when the push service says the device is
	// no longer valid (the caller deletes it), and one wrapping ErrUnavailable when it may
	// succeed later.
	Push(ctx context.Context, d Device, n PushNotification) error
}

// ErrDeviceGone is wrapped by Pusher.Push for a device the push service no longer knows.
var ErrDeviceGone = errors.New("push: device is gone")
