package realtime

import (
	"errors"
	"strconv"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/stomp"
)

// WebSocket close codes the server sends.
const (
	closeNormal      = 1000 // DISCONNECT
	closeGoingAway   = 1001 // server shutdown, dead peer
	closePolicy      = 1008 // after an ERROR frame
	closeTryAgainLtr = 1013 // slow consumer
)

// fail is the one place where an error becomes an ERROR frame: its message header is the
// plop error code, its body a message a person can read, and internal errors are logged
// here and shown as "internal error". The connection is closed after it, as STOMP requires.
func (ss *session) fail(err error, receipt string) {
	code, msg := plop.ErrorCode(err), plop.ErrorMessage(err)
	switch code {
	case plop.EInternal, plop.EUnavailable:
		ss.srv.log.Error("stomp request failed", "conn", ss.id, "user", ss.user, "code", code, "err", err)
	default:
		ss.srv.log.Debug("stomp error", "conn", ss.id, "user", ss.user, "code", code, "err", err)
	}
	var extra []stomp.Header
	var pe *plop.Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		extra = append(extra, stomp.Header{Key: hdrRetryAfter, Value: strconv.Itoa(pe.RetryAfter)})
	}
	ss.failFrame(code, msg, receipt, extra...)
}

// protocolError answers a frame the decoder could not parse.
func (ss *session) protocolError(err error) {
	code := plop.EInvalid
	if errors.Is(err, stomp.ErrFrameTooLarge) {
		code = plop.ETooLarge
	}
	ss.fail(plop.Errorf(code, "%s", err.Error()), "")
}

// failFrame queues an ERROR frame and the close that follows it, and stops reading frames.
func (ss *session) failFrame(code, msg, receipt string, extra ...stomp.Header) {
	ss.state.Store(stateClosing)
	h := make([]stomp.Header, 0, 3+len(extra))
	h = append(h,
		stomp.Header{Key: stomp.HdrMessage, Value: code},
		stomp.Header{Key: stomp.HdrContentType, Value: "text/plain;charset=utf-8"})
	if receipt != "" {
		h = append(h, stomp.Header{Key: stomp.HdrReceiptID, Value: receipt})
	}
	h = append(h, extra...)
	ss.enqueueFrame(&stomp.Frame{Command: stomp.CmdError, Headers: h, Body: []byte(msg)})
	ss.closeWith(closePolicy, code)
}
