package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"time"

	"github.com/plop-chat/plop"
)

// fileTime is the time stamp that starts an outbox file name; names sort by time.
const fileTime = "20060102T150405.000000000Z"

// Outbox writes each mail as an RFC 5322 .eml file in a folder and logs it: the embedded
// default when no SMTP server is configured, so that a developer or a small self-hosted
// instance can read verification codes without a mail server. It is safe for concurrent use.
type Outbox struct {
	dir    string
	from   *mail.Address
	logger *slog.Logger
	now    func() time.Time
}

var _ plop.Mailer = (*Outbox)(nil)

// NewOutbox returns an Outbox writing to dir (created with mode 0700) with sender from. A nil
// logger means slog.Default().
func NewOutbox(dir, from string, logger *slog.Logger) (*Outbox, error) {
	addr, err := parseFrom(from)
	if err != nil {
		return nil, fmt.Errorf("new outbox: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("new outbox: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Outbox{dir: dir, from: addr, logger: logger, now: time.Now}, nil
}

// Dir returns the folder the mails are written to.
func (o *Outbox) Dir() string { return o.dir }

// Send writes m to a new file <UTC time>-<random>.eml, whole or not at all. A bad recipient
// address is an invalid_argument error.
func (o *Outbox) Send(ctx context.Context, m plop.Mail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := o.now()
	msg, err := newMessage(o.from, m, now)
	if err != nil {
		return err
	}
	name := now.UTC().Format(fileTime) + "-" + randomHex(4) + ".eml"
	f, err := os.CreateTemp(o.dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("write mail to outbox: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if _, err := msg.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write mail to outbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write mail to outbox: %w", err)
	}
	path := filepath.Join(o.dir, name)
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write mail to outbox: %w", err)
	}
	o.logger.InfoContext(ctx, "mail written to outbox", "to", m.To, "subject", m.Subject, "file", path)
	return nil
}
