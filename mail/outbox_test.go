package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

func newTestOutbox(tb testing.TB) (*Outbox, *bytes.Buffer) {
	tb.Helper()
	var logs bytes.Buffer
	o, err := NewOutbox(filepath.Join(tb.TempDir(), "outbox"), "Plop <noreply@plop.example>",
		slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	return o, &logs
}

func emlFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOutboxWritesParsableMail(t *testing.T) {
	o, logs := newTestOutbox(t)
	now := time.Date(2026, 11, 25, 19, 37, 0, 123456789, time.UTC)
	o.now = func() time.Time { return now }
	if err := o.Send(context.Background(), codeMail); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(o.Dir())
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("outbox mode %v, want 0700", fi.Mode().Perm())
	}
	names := emlFiles(t, o.Dir())
	if len(names) != 1 || !regexp.MustCompile(`^20261125T193700\.123456789Z-[0-9a-f]{8}\.eml$`).MatchString(names[0]) {
		t.Fatalf("outbox holds %v, want one 20261125T193700.123456789Z-<random>.eml", names)
	}
	path := filepath.Join(o.Dir(), names[0])
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	h := msg.Header
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != codeMail.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, codeMail.Subject)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?") {
		t.Errorf("non-ASCII Subject not RFC 2047 encoded: %q", h.Get("Subject"))
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != codeMail.To {
		t.Errorf("To = %v (%v), want %s", to, err, codeMail.To)
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Address != "noreply@plop.example" || from[0].Name != "Plop" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(now.Truncate(time.Second)) {
		t.Errorf("Date = %v (%v), want %v", d, err, now)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{32}@plop\.example>$`).MatchString(h.Get("Message-ID")) {
		t.Errorf("Message-ID = %q", h.Get("Message-ID"))
	}
	if h.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", h.Get("MIME-Version"))
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type = %q", h.Get("Content-Type"))
	}
	if cte := h.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q", cte)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); strings.TrimRight(got, "\n") != strings.TrimRight(codeMail.Text, "\n") {
		t.Errorf("body = %q, want %q", got, codeMail.Text)
	}

	var line struct {
		Level, Msg, To, Subject, File string
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line.Level != "INFO" || line.Msg != "mail written to outbox" || line.To != codeMail.To ||
		line.Subject != codeMail.Subject || line.File != path {
		t.Errorf("log line = %+v", line)
	}
}

func TestOutboxNamesSortByTime(t *testing.T) {
	o, _ := newTestOutbox(t)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// Sent out of order; the file names must sort by the send time, not the write order.
	for _, d := range []time.Duration{3 * time.Second, time.Millisecond, 2 * time.Hour, 0} {
		o.now = func() time.Time { return base.Add(d) }
		if err := o.Send(context.Background(), plop.Mail{To: "a@example.com", Subject: d.String(), Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	names := emlFiles(t, o.Dir())
	slices.Sort(names)
	var subjects []string
	for _, n := range names {
		f, _ := os.Open(filepath.Join(o.Dir(), n))
		m, err := mail.ReadMessage(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, m.Header.Get("Subject"))
	}
	if want := []string{"0s", "1ms", "3s", "2h0m0s"}; !slices.Equal(subjects, want) {
		t.Fatalf("sorted files have subjects %v, want %v", subjects, want)
	}
}

func TestOutboxHeaderInjection(t *testing.T) {
	o, _ := newTestOutbox(t)
	err := o.Send(context.Background(), plop.Mail{To: "a@example.com", Subject: "hi\r\nBcc: evil@example.com\r\n", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	names := emlFiles(t, o.Dir())
	f, _ := os.Open(filepath.Join(o.Dir(), names[0]))
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" {
		t.Fatal("a line break in the subject added a Bcc header")
	}
	if got := m.Header.Get("Subject"); got != "hi Bcc: evil@example.com" {
		t.Fatalf("Subject = %q", got)
	}
}

func TestOutboxRejectsBadRecipient(t *testing.T) {
	o, _ := newTestOutbox(t)
	for _, to := range []string{"", "not an address", "a@example.com, b@example.com", "a@example.com\r\nBcc: b@example.com"} {
		err := o.Send(context.Background(), plop.Mail{To: to, Subject: "x", Text: "x"})
		if plop.ErrorCode(err) != plop.EInvalid {
			t.Errorf("Send to %q = %v, want invalid_argument", to, err)
		}
	}
	if names := emlFiles(t, o.Dir()); len(names) != 0 {
		t.Fatalf("outbox holds %v after refused mails", names)
	}
}

func TestNewOutboxNeedsSender(t *testing.T) {
	if _, err := NewOutbox(t.TempDir(), "", nil); err == nil {
		t.Fatal("outbox without a sender accepted")
	}
}
