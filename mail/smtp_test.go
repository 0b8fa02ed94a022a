package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

var codeMail = plop.Mail{
	To:      "zoe.user@example.com",
	Subject: "Votre code Plop : 042917 — à bientôt",
	Text:    "Bonjour Zoë,\n\nvotre code de vérification est 042917.\nIl expire dans 15 minutes.\n",
}

// quiet drops the log lines of successful sends.
var quiet = slog.New(slog.DiscardHandler)

func mustSMTP(tb testing.TB, rawURL string) *SMTP {
	tb.Helper()
	s, err := NewSMTP(rawURL, "Plop <noreply@plop.example>", quiet)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func assertReceived(tb testing.TB, mp *mailpit, want plop.Mail) {
	tb.Helper()
	got := mp.messages(tb, 1)[0]
	if got.Subject != want.Subject {
		tb.Errorf("subject = %q, want %q", got.Subject, want.Subject)
	}
	if len(got.To) != 1 || got.To[0].Address != want.To {
		tb.Errorf("to = %+v, want %s", got.To, want.To)
	}
	if got.From.Address != "noreply@plop.example" {
		tb.Errorf("from = %s, want noreply@plop.example", got.From.Address)
	}
	if strings.TrimRight(strings.ReplaceAll(got.Text, "\r\n", "\n"), "\n") != strings.TrimRight(want.Text, "\n") {
		tb.Errorf("text = %q, want %q", got.Text, want.Text)
	}
}

func TestSMTPPlain(t *testing.T) {
	mp := startMailpit(t)
	for _, q := range []string{"?tls=none", ""} { // "" is opportunistic: the server offers no STARTTLS
		t.Run("query="+q, func(t *testing.T) {
			s := mustSMTP(t, fmt.Sprintf("smtp://127.0.0.1:%d%s", mp.SMTPPort, q))
			if err := s.Send(context.Background(), codeMail); err != nil {
				t.Fatal(err)
			}
		})
	}
	msgs := mp.messages(t, 2)
	if len(msgs) != 2 {
		t.Fatalf("mailpit holds %d messages, want 2", len(msgs))
	}
	assertReceived(t, mp, codeMail)
}

func TestSMTPStartTLSRequiredButNotOffered(t *testing.T) {
	mp := startMailpit(t)
	s := mustSMTP(t, fmt.Sprintf("smtp://127.0.0.1:%d?tls=starttls&timeout=5s", mp.SMTPPort))
	if err := s.Send(context.Background(), codeMail); err == nil {
		t.Fatal("mail sent in clear text although STARTTLS was required")
	}
}

func TestSMTPStartTLSWithAuth(t *testing.T) {
	cert, key := selfSignedCert(t)
	authFile := filepath.Join(t.TempDir(), "auth")
	os.WriteFile(authFile, []byte("plop:s3cret\n"), 0o600)
	mp := startMailpit(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls",
		"--smtp-auth-file", authFile)

	bad := mustSMTP(t, fmt.Sprintf("smtp://plop:wrong@127.0.0.1:%d?tls=starttls&insecure_skip_verify=1", mp.SMTPPort))
	if err := bad.Send(context.Background(), codeMail); err == nil {
		t.Fatal("mail sent with a wrong password")
	}
	s := mustSMTP(t, fmt.Sprintf("smtp://plop:s3cret@127.0.0.1:%d?tls=starttls&insecure_skip_verify=1", mp.SMTPPort))
	if err := s.Send(context.Background(), codeMail); err != nil {
		t.Fatal(err)
	}
	assertReceived(t, mp, codeMail)

	// Without insecure_skip_verify the self-signed certificate is refused.
	strict := mustSMTP(t, fmt.Sprintf("smtp://plop:s3cret@127.0.0.1:%d?tls=starttls", mp.SMTPPort))
	if err := strict.Send(context.Background(), codeMail); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	if n := len(mp.messages(t, 1)); n != 1 {
		t.Fatalf("mailpit holds %d messages, want only the one sent with the right password", n)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	cert, key := selfSignedCert(t)
	mp := startMailpit(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-tls",
		"--smtp-auth-accept-any")
	s := mustSMTP(t, fmt.Sprintf("smtps://anyone:anything@127.0.0.1:%d?insecure_skip_verify=1", mp.SMTPPort))
	if err := s.Send(context.Background(), codeMail); err != nil {
		t.Fatal(err)
	}
	assertReceived(t, mp, codeMail)
}

func TestSMTPUnreachable(t *testing.T) {
	s := mustSMTP(t, fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&timeout=2s", freePort(t)))
	start := time.Now()
	err := s.Send(context.Background(), codeMail)
	if !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("Send to a closed port = %v, want an error wrapping ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Send to a closed port took %v", d)
	}
}

// TestSMTPSilentServer: a server that accepts the connection but never answers must not
// hold the caller longer than the timeout.
func TestSMTPSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })

	s := mustSMTP(t, fmt.Sprintf("smtp://%s?tls=none&timeout=300ms", l.Addr()))
	start := time.Now()
	err = s.Send(context.Background(), codeMail)
	if !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("Send to a silent server = %v, want an error wrapping ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Send to a silent server took %v, timeout was 300ms", d)
	}
}

func TestNewSMTPValidatesURL(t *testing.T) {
	for _, u := range []string{
		"",
		"mail.example.com:587",
		"http://mail.example.com",
		"smtp://",
		"smtp://mail.example.com:99999",
		"smtp://mail.example.com?tls=maybe",
		"smtps://mail.example.com?tls=starttls",
		"smtp://mail.example.com?timeout=soon",
		"smtp://mail.example.com?timeout=-1s",
		"smtp://mail.example.com?insecure_skip_verify=yes",
		"smtp://mail.example.com?frm=x@example.com",
		"smtp://mail.example.com?from=not-an-address",
		"smtp://mail.example.com/some/path",
	} {
		if _, err := NewSMTP(u, "Plop <noreply@plop.example>", nil); err == nil {
			t.Errorf("NewSMTP(%q) accepted", u)
		}
	}
	for _, u := range []string{
		"smtp://user:pass@mail.example.com:587",
		"smtp://mail.example.com:587?tls=starttls",
		"smtp://localhost:25?tls=none",
		"smtps://user:pass@mail.example.com:465",
		"smtp://mail.example.com?from=Plop%20%3Cplop%40example.com%3E&timeout=3s",
	} {
		if _, err := NewSMTP(u, "noreply@plop.example", nil); err != nil {
			t.Errorf("NewSMTP(%q) = %v", u, err)
		}
	}
	if _, err := NewSMTP("smtp://mail.example.com", "", nil); err == nil {
		t.Error("NewSMTP without any sender accepted")
	}
	_, err := NewSMTP("smtp://user:hunter2@mail.example.com?tls=bogus", "noreply@plop.example", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v shows the password", err)
	}
}

func TestSMTPFromInURL(t *testing.T) {
	mp := startMailpit(t)
	s, err := NewSMTP(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&from=codes%%40plop.example", mp.SMTPPort), "noreply@plop.example", quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), codeMail); err != nil {
		t.Fatal(err)
	}
	if got := mp.messages(t, 1)[0].From.Address; got != "codes@plop.example" {
		t.Fatalf("from = %s, want codes@plop.example from the URL", got)
	}
}

func TestSMTPRejectsBadRecipient(t *testing.T) {
	s := mustSMTP(t, "smtp://127.0.0.1:1?tls=none") // never dialled
	err := s.Send(context.Background(), plop.Mail{To: "a@example.com, b@example.com", Subject: "x", Text: "x"})
	if plop.ErrorCode(err) != plop.EInvalid {
		t.Fatalf("Send to two addresses = %v, want invalid_argument", err)
	}
}
