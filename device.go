package plop

import (
	"context"
	"encoding/json"
	"time"
)

// Device platforms.
const (
	PlatformFCM     = "fcm"
	PlatformWebPush = "webpush"
)

// Device is a push target of a user: an FCM registration token or a Web Push subscription.
type Device struct {
	ID           string          `json:"id"`
	UserID       string          `json:"-"`
	Platform     string          `json:"platform"`
	Token        string          `json:"-"`
	Subscription json.RawMessage `json:"-"`
	CreatedAt    time.Time       `json:"created_at"`
}

// DeviceStore persists push targets.
type DeviceStore interface {
	// CreateDevice stores d; registering the same token or endpoint again for the same user
	// returns the existing device.
	CreateDevice(ctx context.Context, d *Device) (Device, error)
	// Devices lists the devices of userID, oldest first.
	Devices(ctx context.Context, userID string) ([]Device, error)
	// DeleteDevice returns not_found when the user has no such device.
	DeleteDevice(ctx context.Context, userID, id string) error
}
