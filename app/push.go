package app

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plop-chat/plop"
)

// Push notifications reach the members of a room who have no live connection anywhere in the
// cluster. Sending a message only queues a job in the message's transaction (the store's
// CreateMessage); a PushWorker on every node works the queue off (push_worker.go): who to
// notify is decided here, collapsing and delivery there.

// PushJobs is the queue of messages whose notifications are still to be worked out.
type PushJobs interface {
	// ClaimPushJobs leases up to limit jobs available at now to claim until now+lease.
	ClaimPushJobs(ctx context.Context, claim string, now time.Time, lease time.Duration, limit int) ([]plop.PushJob, error)
	// PushMessage returns the message with its sender, room and the other members. Returns
	// not_found when the message is gone.
	PushMessage(ctx context.Context, roomID string, seq int64) (plop.PushMessage, error)
	// FoldPushJobs deletes the claimed jobs of folds and adds their messages to the pending
	// notifications of their recipients, in one transaction. Returns conflict, having
	// changed nothing, when claim no longer holds one of the jobs.
	FoldPushJobs(ctx context.Context, claim string, folds []plop.PushFold, now time.Time, delay, cooldown time.Duration) error
	// RetryPushJob gives a claimed job back, available again at `at`, one attempt more.
	RetryPushJob(ctx context.Context, claim string, id int64, at time.Time) error
}

// PushDeliveries are the pending notifications, one per user and room.
type PushDeliveries interface {
	// ClaimPushes leases up to limit notifications due at now to claim until now+lease.
	ClaimPushes(ctx context.Context, claim string, now time.Time, lease time.Duration, limit int) ([]plop.PendingPush, error)
	// FinishPush records p as dealt with (sent, at now, or not needed); when messages were
	// folded in meanwhile it is due again at next.
	FinishPush(ctx context.Context, claim string, p plop.PendingPush, sent bool, now, next time.Time) error
	// RetryPush gives p back, due again at `at`, one attempt more.
	RetryPush(ctx context.Context, claim string, p plop.PendingPush, at time.Time) error
	// PushBacklog counts the queued jobs and the notifications waiting to be sent.
	PushBacklog(ctx context.Context) (jobs, waiting int, err error)
}

// pushRoster is what an outbox may offer besides (the SQL store does): the ids of a room's
// members and one message, both far cheaper for a big room than PushMessage, which reads
// every member's read pointer, mute flag and blocks. With it, a message to a room whose
// members are all online is folded without reading them (see foldJobs).
type pushRoster interface {
	// MemberIDs returns the ids of the room's members.
	MemberIDs(ctx context.Context, roomID string) ([]string, error)
	// Message returns one message, unsent ones included. Returns not_found.
	Message(ctx context.Context, roomID string, seq int64) (plop.Message, error)
}

// PushOutbox is the durable push outbox; the SQL store implements it.
type PushOutbox interface {
	PushJobs
	PushDeliveries
}

// WebPushKey returns the VAPID public key that browsers pass to pushManager.subscribe as
// applicationServerKey. Returns not_found when this server has no Web Push.
func (a *App) WebPushKey(ctx context.Context, me string) (string, error) {
	if a.cfg.WebPushKey == "" {
		return "", plop.Errorf(plop.ENotFound, "web push is not configured on this server")
	}
	return a.cfg.WebPushKey, nil
}

// pushCandidates returns the members of pm's room who may be notified of it: not the
// sender, not those who muted the room, not those who block the sender or whom the sender
// blocks, not those who read the room past the message already. Who is online is left to
// the caller. An unsent message notifies nobody.
func pushCandidates(pm plop.PushMessage) []string {
	if pm.Deleted {
		return nil
	}
	var out []string
	for _, m := range pm.Members {
		if m.UserID == pm.SenderID || m.Muted || m.Blocked || m.LastReadSeq >= pm.Seq {
			continue
		}
		out = append(out, m.UserID)
	}
	return out
}

// pushTitle names the sender, and the group in a group: "Ana" or "Ana in Hiking".
func pushTitle(pm plop.PushMessage) string {
	sender := strings.TrimSpace(pm.SenderName)
	if sender == "" {
		sender = "Someone"
	}
	if pm.RoomType != plop.RoomGroup {
		return clip(sender, 256)
	}
	group := strings.TrimSpace(pm.RoomName)
	if group == "" {
		return clip(sender+" in a group", 512)
	}
	return clip(sender+" in "+group, 512)
}

// pushPreview is the body a notification shows: the message's text, cut to plop.MaxPushBody
// bytes.
func pushPreview(pm plop.PushMessage) string {
	if strings.TrimSpace(pm.Body) == "" {
		return "New message"
	}
	return clip(pm.Body, plop.MaxPushBody)
}

// clip cuts s to at most max bytes at a character boundary, ending it with an ellipsis.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// pushNotification is what the devices of p's user are sent: one notification per room (the
// tag), replaced by the next one, with the count of unread messages folded into it.
func pushNotification(p plop.PendingPush) plop.PushNotification {
	return plop.PushNotification{
		Title:  p.Title,
		Body:   p.Body,
		RoomID: p.RoomID,
		Count:  p.Count,
		Tag:    "room:" + p.RoomID,
		Data: map[string]string{
			"room_id": p.RoomID,
			"seq":     strconv.FormatInt(p.LastSeq, 10),
			"count":   strconv.Itoa(p.Count),
		},
		Urgency: "high", // a message from a person: show it now
	}
}
