package app

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
)

// checkBody enforces the rules of a message body: valid UTF-8, not empty or only white
// space, at most plop.MaxMessageBody bytes. The body is kept exactly as sent.
func checkBody(body string) error {
	switch {
	case len(body) > plop.MaxMessageBody:
		return plop.Errorf(plop.EInvalid, "message body is longer than %d bytes", plop.MaxMessageBody)
	case !utf8.ValidString(body):
		return plop.Errorf(plop.EInvalid, "message body is not valid UTF-8")
	case strings.TrimSpace(body) == "":
		return plop.Errorf(plop.EInvalid, "message body is empty")
	}
	return nil
}

// clientMsgID returns the client's idempotency key, or a fresh one when the client sent none.
func clientMsgID(id string) (string, error) {
	if id == "" {
		return uuid.Must(uuid.NewV7()).String(), nil
	}
	if len(id) > plop.MaxClientMsgID {
		return "", plop.Errorf(plop.EInvalid, "client_msg_id must be at most %d characters", plop.MaxClientMsgID)
	}
	if !printable(id) {
		return "", plop.Errorf(plop.EInvalid, "client_msg_id must be printable text without spaces")
	}
	return id, nil
}

// checkEmoji enforces the rules of a reaction: 1..plop.MaxReactionEmoji bytes of valid
// UTF-8 with no white space or control characters.
func checkEmoji(emoji string) error {
	switch {
	case emoji == "":
		return plop.Errorf(plop.EInvalid, "emoji is required")
	case len(emoji) > plop.MaxReactionEmoji:
		return plop.Errorf(plop.EInvalid, "emoji must be at most %d bytes", plop.MaxReactionEmoji)
	case !printable(emoji):
		return plop.Errorf(plop.EInvalid, "emoji must be valid UTF-8 without spaces or control characters")
	}
	return nil
}

// printable reports whether s is valid UTF-8 with no white space or control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// checkSeq returns not_found for a seq no message can have.
func checkSeq(seq int64) error {
	if seq < 1 {
		return plop.Errorf(plop.ENotFound, "no such message")
	}
	return nil
}
