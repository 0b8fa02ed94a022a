package mail

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/plop-chat/plop"
)

// parseFrom checks a sender address such as "Plop <noreply@plop.example>".
func parseFrom(from string) (*mail.Address, error) {
	if from == "" {
		return nil, fmt.Errorf("no sender address")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("sender address %q: %w", from, err)
	}
	return a, nil
}

// newMessage builds the message for m: Date, From, To, Subject (RFC 2047 encoded when not
// ASCII), Message-ID, MIME-Version and a quoted-printable UTF-8 text/plain body. A recipient
// that is not one valid address is an invalid_argument error.
func newMessage(from *mail.Address, m plop.Mail, now time.Time) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || strings.ContainsAny(m.To, ",;") {
		return nil, plop.Errorf(plop.EInvalid, "not a valid e-mail address: %q", m.To)
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingQP))
	msg.SetAddrHeaderFromMailAddress(gomail.HeaderFrom, from)
	msg.SetAddrHeaderFromMailAddress(gomail.HeaderTo, to)
	// A subject is one line: line breaks could otherwise start new headers.
	msg.Subject(strings.Join(strings.Fields(m.Subject), " "))
	msg.SetDateWithValue(now)
	msg.SetMessageIDWithValue(messageID(from.Address))
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// messageID returns a unique id in the sender's domain.
func messageID(fromAddr string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(fromAddr, '@'); i >= 0 && i < len(fromAddr)-1 {
		domain = fromAddr[i+1:]
	}
	return randomHex(16) + "@" + domain
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
