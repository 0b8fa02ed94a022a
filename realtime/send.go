package realtime

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/stomp"
)

// sendPrefix starts every destination a client may SEND to: /app/rooms.{roomId}.{action}.
const sendPrefix = "/app/rooms."

// SEND actions.
const (
	actionMessages = "messages"
	actionRead     = "read"
	actionTyping   = "typing"
)

// send runs a SEND. Its RECEIPT is queued only once the service has returned, so for a
// message, only once it is committed.
func (ss *session) send(f *stomp.Frame, receipt string) {
	dest, _ := f.Get(stomp.HdrDestination)
	if dest == "" {
		ss.fail(plop.Errorf(plop.EInvalid, "SEND needs a destination header"), receipt)
		return
	}
	roomID, action, ok := parseSendDestination(dest)
	if !ok {
		ss.fail(plop.Errorf(plop.ENotFound, "unknown destination %q: send to %s{roomId}.messages, .read or .typing", dest, sendPrefix), receipt)
		return
	}
	a, ctx := ss.srv.app, ss.srv.ctx
	switch action {
	case actionMessages:
		var in app.MessageInput
		if err := decodeBody(f.Body, &in); err != nil {
			ss.fail(err, receipt)
			return
		}
		m, _, err := a.SendMessage(ctx, ss.user, roomID, in)
		if err != nil {
			ss.fail(err, receipt)
			return
		}
		ss.receipt(receipt,
			stomp.Header{Key: stomp.HdrMessageID, Value: m.ID},
			stomp.Header{Key: hdrRoomID, Value: m.RoomID},
			stomp.Header{Key: hdrSeq, Value: strconv.FormatInt(m.Seq, 10)})
	case actionRead:
		var in struct {
			Seq *int64 `json:"seq"`
		}
		if err := decodeBody(f.Body, &in); err != nil {
			ss.fail(err, receipt)
			return
		}
		if in.Seq == nil {
			ss.fail(plop.Errorf(plop.EInvalid, "seq is required"), receipt)
			return
		}
		if err := a.MarkRead(ctx, ss.user, roomID, *in.Seq); err != nil {
			ss.fail(err, receipt)
			return
		}
		ss.receipt(receipt)
	case actionTyping:
		var in struct {
			Typing *bool `json:"typing"`
		}
		if err := decodeBody(f.Body, &in); err != nil {
			ss.fail(err, receipt)
			return
		}
		if in.Typing == nil {
			ss.fail(plop.Errorf(plop.EInvalid, "typing is required"), receipt)
			return
		}
		if err := a.Typing(ctx, ss.user, ss.id, roomID, *in.Typing); err != nil {
			ss.fail(err, receipt)
			return
		}
		ss.receipt(receipt)
	}
}

// parseSendDestination splits /app/rooms.{roomId}.{action}.
func parseSendDestination(dest string) (roomID, action string, ok bool) {
	rest, ok := strings.CutPrefix(dest, sendPrefix)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", "", false
	}
	roomID, action = rest[:i], rest[i+1:]
	switch action {
	case actionMessages, actionRead, actionTyping:
		return roomID, action, true
	}
	return "", "", false
}

// decodeBody decodes a JSON object body into v; failures are invalid_argument.
func decodeBody(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return plop.Errorf(plop.EInvalid, "the body must be a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return plop.Errorf(plop.EInvalid, "the body is not valid JSON for this destination: %s", jsonProblem(err))
	}
	return nil
}

// jsonProblem describes a JSON decoding error without echoing the body back.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return "syntax error at offset " + strconv.FormatInt(e.Offset, 10)
	case *json.UnmarshalTypeError:
		return "field " + strconv.Quote(e.Field) + " has the wrong type"
	}
	return "malformed"
}
