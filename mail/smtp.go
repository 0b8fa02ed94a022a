package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/plop-chat/plop"
)

// DefaultSMTPTimeout bounds connecting to and talking with the SMTP server.
const DefaultSMTPTimeout = 10 * time.Second

// SMTP sends mail through an SMTP server, one connection per mail. It is safe for concurrent
// use.
type SMTP struct {
	host    string
	opts    []gomail.Option
	from    *mail.Address
	logger  *slog.Logger
	now     func() time.Time
	display string // the URL without its password, for logs and errors
}

var _ plop.Mailer = (*SMTP)(nil)

// NewSMTP returns an SMTP mailer for the server named by rawURL:
//
//	smtp://user:pass@host:587            STARTTLS when the server offers it (the default)
//	smtp://host:587?tls=starttls         STARTTLS required
//	smtp://host:25?tls=none              no TLS (a local relay, a test server)
//	smtps://user:pass@host:465           implicit TLS
//
// The port defaults to 587 (25 with tls=none, 465 for smtps). Query parameters: from=<address>
// (overrides the from argument), timeout=<duration> (default 10s), insecure_skip_verify=1
// (accept any certificate: tests only). A user name in the URL turns on SMTP AUTH with the
// strongest mechanism the server offers (PLAIN and LOGIN only over TLS). An invalid URL is an
// error. A nil logger means slog.Default().
func NewSMTP(rawURL, from string, logger *slog.Logger) (*SMTP, error) {
	s, err := parseSMTPURL(rawURL, from)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	s.logger = logger
	s.now = time.Now
	// Fail now on options the library refuses, not on the first mail.
	if _, err := gomail.NewClient(s.host, s.opts...); err != nil {
		return nil, fmt.Errorf("smtp url %s: %w", s.display, err)
	}
	return s, nil
}

func parseSMTPURL(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("cannot parse the URL") // the parse error would print the password
	}
	s := &SMTP{host: u.Hostname(), display: u.Redacted()}
	if s.host == "" {
		return nil, fmt.Errorf("%s: no host", s.display)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("%s: unexpected path %q", s.display, u.Path)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "tls", "from", "timeout", "insecure_skip_verify":
		default:
			return nil, fmt.Errorf("%s: unknown parameter %q", s.display, k)
		}
	}

	tlsConf := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	switch v := q.Get("insecure_skip_verify"); v {
	case "", "0", "false":
	case "1", "true":
		tlsConf.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("%s: insecure_skip_verify=%q, want 1 or 0", s.display, v)
	}
	timeout := DefaultSMTPTimeout
	if v := q.Get("timeout"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			return nil, fmt.Errorf("%s: timeout=%q is not a positive duration", s.display, v)
		}
	}
	s.opts = []gomail.Option{gomail.WithTimeout(timeout), gomail.WithTLSConfig(tlsConf)}

	port := 587
	switch mode := q.Get("tls"); {
	case u.Scheme == "smtps" && (mode == "" || mode == "implicit"):
		port = 465
		s.opts = append(s.opts, gomail.WithSSL())
	case u.Scheme == "smtp" && (mode == "" || mode == "opportunistic"):
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case u.Scheme == "smtp" && mode == "starttls":
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case u.Scheme == "smtp" && mode == "none":
		port = 25
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case u.Scheme == "smtp" || u.Scheme == "smtps":
		return nil, fmt.Errorf("%s: tls=%q, want starttls, none or opportunistic", s.display, mode)
	default:
		return nil, fmt.Errorf("%s: scheme %q, want smtp or smtps", s.display, u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("%s: bad port %q", s.display, p)
		}
	}
	s.opts = append(s.opts, gomail.WithPort(port))

	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		s.opts = append(s.opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}

	if f := q.Get("from"); f != "" {
		from = f
	}
	if s.from, err = parseFrom(from); err != nil {
		return nil, fmt.Errorf("%s: %w", s.display, err)
	}
	return s, nil
}

// Send delivers m to the server. Failing to reach or talk to the server, and temporary (4xx)
// refusals, wrap plop.ErrUnavailable; a bad recipient address is an invalid_argument error.
func (s *SMTP) Send(ctx context.Context, m plop.Mail) error {
	msg, err := newMessage(s.from, m, s.now())
	if err != nil {
		return err
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", s.display, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return s.classify(err)
	}
	s.logger.InfoContext(ctx, "mail sent", "to", m.To, "subject", m.Subject, "server", s.display)
	return nil
}

// classify wraps failures to reach the server, and temporary refusals, in plop.ErrUnavailable.
// A permanent refusal (5xx: a rejected sender or recipient, a failed login) is a plain error:
// trying again will not help, and the operator should see it in the logs.
func (s *SMTP) classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() {
		var ne net.Error
		if !errors.As(err, &ne) {
			return fmt.Errorf("smtp %s refused the mail: %w", s.display, err)
		}
	}
	return fmt.Errorf("send mail via %s: %w: %w", s.display, plop.ErrUnavailable, err)
}
