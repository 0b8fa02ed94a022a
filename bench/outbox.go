package bench

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// outbox reads verification codes from a node's outbox folder (<data dir>/outbox, one .eml
// file per mail, named by time). Each file is parsed once; files older than the run are
// skipped by name.
type outbox struct {
	dir   string
	since string // file names below this one predate the run
	seen  map[string]bool
	codes map[string]string // lower-case e-mail -> newest code
}

// outboxNameTime formats a time the way the outbox starts its file names.
const outboxNameTime = "20060102T150405.000000000Z"

var codeSubject = regexp.MustCompile(`^(\d{6}) is your Plop code$`)

func newOutbox(dataDir string, since time.Time) *outbox {
	return &outbox{
		dir:   filepath.Join(dataDir, "outbox"),
		since: since.UTC().Add(-time.Second).Format(outboxNameTime),
		seen:  make(map[string]bool),
		codes: make(map[string]string),
	}
}

// scan parses the files that appeared since the last scan.
func (o *outbox) scan() error {
	entries, err := os.ReadDir(o.dir)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") || name < o.since || o.seen[name] {
			continue
		}
		b, err := os.ReadFile(filepath.Join(o.dir, name))
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		o.seen[name] = true
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			continue
		}
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			continue
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			continue
		}
		if match := codeSubject.FindStringSubmatch(subject); match != nil {
			o.codes[strings.ToLower(to.Address)] = match[1] // names sort by time: the newest wins
		}
	}
	return nil
}

// waitCodes returns the codes of emails, scanning until every one has arrived or within
// has passed.
func (o *outbox) waitCodes(ctx context.Context, emails []string, within time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(within)
	for {
		if err := o.scan(); err != nil {
			return nil, err
		}
		out := make(map[string]string, len(emails))
		missing := ""
		for _, e := range emails {
			if c, ok := o.codes[strings.ToLower(e)]; ok {
				out[e] = c
			} else if missing == "" {
				missing = e
			}
		}
		if missing == "" {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no verification code for %s in %s after %s", missing, o.dir, within)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
