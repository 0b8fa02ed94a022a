package push

import (
	"context"
	"log/slog"

	"github.com/plop-chat/plop"
)

// LogSender logs each notification instead of delivering it: the embedded default when no
// push service is configured. It logs the device's platform and id, the title and the count,
// never the device's token or subscription (they are credentials to reach the device) nor the
// body (a message's text).
type LogSender struct {
	logger *slog.Logger
}

var _ Sender = (*LogSender)(nil)

// NewLogSender returns a LogSender writing to logger (slog.Default() when nil).
func NewLogSender(logger *slog.Logger) *LogSender {
	if logger == nil {
		logger = slog.Default()
	}
	return &LogSender{logger: logger}
}

// Send logs n for d at info level; it never fails.
func (l *LogSender) Send(ctx context.Context, d plop.Device, n Notification) error {
	l.logger.LogAttrs(ctx, slog.LevelInfo, "push notification (not delivered: no push service configured)",
		slog.String("platform", d.Platform),
		slog.String("device_id", d.ID),
		slog.String("user_id", d.UserID),
		slog.String("room_id", n.RoomID),
		slog.String("title", n.Title),
		slog.Int("count", n.Count),
	)
	return nil
}
