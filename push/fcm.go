package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/plop-chat/plop"
)

// DefaultFCMEndpoint is the FCM HTTP v1 API.
const DefaultFCMEndpoint = "https://fcm.googleapis.com"

// FCM sends notifications to Android and iOS apps through Firebase Cloud Messaging's HTTP v1
// API, authenticated as a Google service account.
type FCM struct {
	tokens  *tokenSource
	sendURL string
	hc      *http.Client
	logger  *slog.Logger
	retry   retryPolicy
	now     func() time.Time
}

var _ Sender = (*FCM)(nil)

// LoadFCM returns an FCM sender for the service account whose JSON key file is
// credentialsFile (as downloaded from the Firebase console: type, project_id,
// private_key_id, private_key, client_email, token_uri). It sends to the key's project
// through endpoint (DefaultFCMEndpoint when empty) with hc (a client with a 30-second
// timeout when nil), and logs to logger (slog.Default() when nil).
func LoadFCM(credentialsFile string, endpoint string, hc *http.Client, logger *slog.Logger) (*FCM, error) {
	data, err := os.ReadFile(credentialsFile)
	if err != nil {
		return nil, fmt.Errorf("fcm credentials: %w", err)
	}
	sa, key, err := parseServiceAccount(data)
	if err != nil {
		return nil, fmt.Errorf("fcm credentials %s: %w", credentialsFile, err)
	}
	if endpoint == "" {
		endpoint = DefaultFCMEndpoint
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("fcm endpoint %q is not an http(s) URL", endpoint)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &FCM{
		tokens:  newTokenSource(sa, key, hc),
		sendURL: strings.TrimRight(endpoint, "/") + "/v1/projects/" + url.PathEscape(sa.ProjectID) + "/messages:send",
		hc:      hc,
		logger:  logger,
		retry:   defaultRetry,
		now:     time.Now,
	}, nil
}

// Send delivers n to the FCM registration token of d. See Sender for what its errors mean:
// FCM's UNREGISTERED (404) and an INVALID_ARGUMENT about the token wrap ErrGone; throttling
// and server errors are retried (Retry-After honoured) and then wrap plop.ErrUnavailable; a
// refused access token is replaced once.
func (f *FCM) Send(ctx context.Context, d plop.Device, n Notification) error {
	if d.Token == "" {
		return fmt.Errorf("fcm send to device %s: %w: no registration token", d.ID, ErrGone)
	}
	body, err := json.Marshal(map[string]any{"message": fcmMessageOf(d.Token, n, f.now())})
	if err != nil {
		return fmt.Errorf("fcm send to device %s: %w", d.ID, err)
	}
	err = f.retry.do(ctx, func(ctx context.Context) attempt { return f.try(ctx, d, body) })
	if err != nil {
		return err
	}
	f.logger.DebugContext(ctx, "push sent", "platform", d.Platform, "device_id", d.ID, "room_id", n.RoomID)
	return nil
}

// try makes one delivery, replacing the access token once if FCM refuses it.
func (f *FCM) try(ctx context.Context, d plop.Device, body []byte) attempt {
	for refreshed := false; ; refreshed = true {
		tok, err := f.tokens.Token(ctx)
		if err != nil {
			return attempt{err: fmt.Errorf("fcm send to device %s: %w", d.ID, err)}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.sendURL, bytes.NewReader(body))
		if err != nil {
			return attempt{err: fmt.Errorf("fcm send: %w", err)}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := f.hc.Do(req)
		if err != nil {
			return networkAttempt(ctx, "fcm send to device "+d.ID, err)
		}
		answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		resp.Body.Close()
		if err != nil {
			return networkAttempt(ctx, "fcm send to device "+d.ID, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && !refreshed {
			f.tokens.Invalidate(tok)
			continue
		}
		return f.classify(d, resp, answer)
	}
}

// fcmError is the error body of the FCM v1 API.
type fcmError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

// code returns FCM's own error code (UNREGISTERED, QUOTA_EXCEEDED, ...), else the RPC status.
func (e *fcmError) code() string {
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			return d.ErrorCode
		}
	}
	return e.Error.Status
}

// aboutToken reports whether an INVALID_ARGUMENT error is about the registration token
// rather than about the message.
func (e *fcmError) aboutToken() bool {
	for _, d := range e.Error.Details {
		for _, v := range d.FieldViolations {
			if v.Field == "message.token" {
				return true
			}
		}
	}
	return strings.Contains(strings.ToLower(e.Error.Message), "registration token")
}

// classify turns FCM's answer into the outcome of a try.
func (f *FCM) classify(d plop.Device, resp *http.Response, answer []byte) attempt {
	if resp.StatusCode == http.StatusOK {
		return attempt{}
	}
	var fe fcmError
	isFCM := json.Unmarshal(answer, &fe) == nil && fe.Error.Status != ""
	code := fe.code()
	msg := fmt.Sprintf("fcm send to device %s: %s %s %s", d.ID, resp.Status, code, fe.Error.Message)
	switch {
	// A 404 counts only when FCM itself says so: a bare 404 (a wrong endpoint) must not
	// make the caller delete every device.
	case code == "UNREGISTERED" || resp.StatusCode == http.StatusNotFound && isFCM:
		return attempt{err: fmt.Errorf("%s: %w", msg, ErrGone)}
	case resp.StatusCode == http.StatusBadRequest && code == "INVALID_ARGUMENT" && fe.aboutToken():
		return attempt{err: fmt.Errorf("%s: %w", msg, ErrGone)}
	case transient(resp.StatusCode):
		return attempt{err: fmt.Errorf("%s: %w", msg, plop.ErrUnavailable), retry: true, after: retryAfter(resp.Header, f.now())}
	}
	return attempt{err: errors.New(msg)}
}

// fcmMessage is the v1 API's Message, the fields Plop uses.
type fcmMessage struct {
	Token        string            `json:"token"`
	Notification fcmNotification   `json:"notification"`
	Data         map[string]string `json:"data,omitempty"`
	Android      fcmAndroid        `json:"android"`
	APNS         fcmAPNS           `json:"apns"`
}

type fcmNotification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type fcmAndroid struct {
	Priority     string         `json:"priority"`
	TTL          string         `json:"ttl"`
	CollapseKey  string         `json:"collapse_key,omitempty"`
	Notification *fcmAndroidTag `json:"notification,omitempty"`
}

type fcmAndroidTag struct {
	Tag string `json:"tag"`
}

type fcmAPNS struct {
	Headers map[string]string `json:"headers"`
	Payload struct {
		APS apsPayload `json:"aps"`
	} `json:"payload"`
}

type apsPayload struct {
	Alert    fcmNotification `json:"alert"`
	Badge    int             `json:"badge,omitempty"`
	ThreadID string          `json:"thread-id,omitempty"`
}

// fcmMessageOf builds the message that carries n to token: the notification for both
// platforms, the data for the app, Android's priority, TTL and collapse key, and the same
// for APNs in its headers.
func fcmMessageOf(token string, n Notification, now time.Time) fcmMessage {
	life := ttl(n)
	m := fcmMessage{
		Token:        token,
		Notification: fcmNotification{Title: n.Title, Body: body(n)},
		Data:         data(n),
		Android: fcmAndroid{
			Priority:    UrgencyNormal,
			TTL:         strconv.FormatInt(int64(life/time.Second), 10) + "s",
			CollapseKey: n.Tag,
		},
		APNS: fcmAPNS{Headers: map[string]string{
			"apns-priority":   "5",
			"apns-expiration": strconv.FormatInt(now.Add(life).Unix(), 10),
		}},
	}
	if high(n) {
		m.Android.Priority = UrgencyHigh
		m.APNS.Headers["apns-priority"] = "10"
	}
	if n.Tag != "" {
		m.Android.Notification = &fcmAndroidTag{Tag: n.Tag}
		m.APNS.Headers["apns-collapse-id"] = n.Tag
	}
	m.APNS.Payload.APS = apsPayload{Alert: m.Notification, Badge: n.Count, ThreadID: n.RoomID}
	return m
}
