package app

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
)

// webPushSubscription is the PushSubscription JSON a browser hands out.
type webPushSubscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// RegisterDevice adds a push target for the caller. Returns invalid_argument.
func (a *App) RegisterDevice(ctx context.Context, me string, in DeviceInput) (plop.Device, error) {
	d := plop.Device{
		ID:        uuid.Must(uuid.NewV7()).String(),
		UserID:    me,
		Platform:  in.Platform,
		CreatedAt: a.clock(),
	}
	switch in.Platform {
	case plop.PlatformFCM:
		if in.Token == "" || len(in.Token) > 4096 {
			return plop.Device{}, plop.Errorf(plop.EInvalid, "token is required (an FCM registration token)")
		}
		d.Token = in.Token
	case plop.PlatformWebPush:
		var sub webPushSubscription
		if len(in.Subscription) == 0 || len(in.Subscription) > 4096 || json.Unmarshal(in.Subscription, &sub) != nil {
			return plop.Device{}, plop.Errorf(plop.EInvalid, "subscription is required (a Web Push subscription)")
		}
		u, err := url.Parse(sub.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" || sub.Keys.P256dh == "" || sub.Keys.Auth == "" {
			return plop.Device{}, plop.Errorf(plop.EInvalid, "subscription needs an https endpoint and keys p256dh and auth")
		}
		d.Token = sub.Endpoint
		d.Subscription = in.Subscription
	default:
		return plop.Device{}, plop.Errorf(plop.EInvalid, "platform must be fcm or webpush")
	}
	return a.store.CreateDevice(ctx, &d)
}

// Devices lists the caller's push targets.
func (a *App) Devices(ctx context.Context, me string) ([]plop.Device, error) {
	return a.store.Devices(ctx, me)
}

// DeleteDevice removes one of the caller's push targets. Returns not_found.
func (a *App) DeleteDevice(ctx context.Context, me, id string) error {
	if checkID("device id", id) != nil {
		return plop.Errorf(plop.ENotFound, "no such device")
	}
	return a.store.DeleteDevice(ctx, me, id)
}
