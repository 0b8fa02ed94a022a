package stomp

import (
	"errors"
	"strconv"
)

// Sentinel errors, matched with errors.Is. The errors a Decoder returns are *Error values that
// wrap one of them and say what exactly was wrong.
var (
	ErrFrameTooLarge      = errors.New("stomp: frame too large")
	ErrTooManyHeaders     = errors.New("stomp: too many headers")
	ErrHeaderTooLong      = errors.New("stomp: header line too long")
	ErrBadEscape          = errors.New("stomp: undefined escape sequence in header")
	ErrBadCommand         = errors.New("stomp: unknown command")
	ErrBadContentLength   = errors.New("stomp: invalid content-length")
	ErrMalformed          = errors.New("stomp: malformed frame")
	ErrUnsupportedVersion = errors.New("stomp: no supported protocol version")
	ErrBadHeartBeat       = errors.New("stomp: invalid heart-beat header")
)

// Error is a protocol error: Err is one of the sentinel errors and Detail tells a person what
// was wrong. Error() is suitable for the message header of an ERROR frame.
type Error struct {
	Err    error
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

func newError(sentinel error, detail string) *Error {
	return &Error{Err: sentinel, Detail: detail}
}

// quote returns b quoted for an error message, cut to a length fit for one.
func quote(b []byte) string {
	const max = 40
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}
