package app

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plop-chat/plop"
)

// normalizeEmail trims and lower-cases an address and checks that it is one.
func normalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", plop.Errorf(plop.EInvalid, "email is required")
	}
	if len(s) > 254 {
		return "", plop.Errorf(plop.EInvalid, "email is too long")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", plop.Errorf(plop.EInvalid, "email is not a valid address")
	}
	return s, nil
}

// cleanText trims s and checks its length in characters and that it has no control characters.
func cleanText(field, s string, min, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", plop.Errorf(plop.EInvalid, "%s is not valid UTF-8", field)
	}
	n := utf8.RuneCountInString(s)
	if n < min {
		if min == 1 {
			return "", plop.Errorf(plop.EInvalid, "%s is required", field)
		}
		return "", plop.Errorf(plop.EInvalid, "%s must be at least %d characters", field, min)
	}
	if n > max {
		return "", plop.Errorf(plop.EInvalid, "%s must be at most %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", plop.Errorf(plop.EInvalid, "%s must not contain control characters", field)
		}
	}
	return s, nil
}

// checkPassword enforces the password policy.
func checkPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < 8:
		return plop.Errorf(plop.EInvalid, "password must be at least 8 characters")
	case len(pw) > 256:
		return plop.Errorf(plop.EInvalid, "password must be at most 256 bytes")
	}
	return nil
}

// checkID rejects ids that cannot be ours before they reach a query.
func checkID(field, id string) error {
	if id == "" {
		return plop.Errorf(plop.EInvalid, "%s is required", field)
	}
	if len(id) > 64 {
		return plop.Errorf(plop.EInvalid, "%s is not a valid id", field)
	}
	return nil
}
