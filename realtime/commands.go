package realtime

import (
	"strings"
	"unicode/utf8"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/stomp"
)

// Header names Plop adds to the standard ones.
const (
	hdrUserName   = "user-name"
	hdrRoomID     = "room-id"
	hdrSeq        = "seq"
	hdrRetryAfter = "retry-after"
)

// errorVersions is the version header of the ERROR that answers a CONNECT with no version in
// common, best first.
const errorVersions = "1.2,1.1,1.0"

// handle runs one client frame on the read goroutine.
func (ss *session) handle(f *stomp.Frame) {
	if ss.state.Load() == stateAwaitConnect {
		switch f.Command {
		case stomp.CmdConnect, stomp.CmdStomp:
			ss.connect(f)
		default:
			ss.fail(plop.Errorf(plop.EInvalid, "the first frame must be CONNECT or STOMP, not %s", f.Command), "")
		}
		return
	}
	receipt, ok := ss.receiptOf(f)
	if !ok {
		return
	}
	// Transactions are refused rather than ignored: a SEND inside one would otherwise take
	// effect before its COMMIT, which is not what a client that asked for one expects.
	if tx, _ := f.Get(stomp.HdrTransaction); tx != "" {
		ss.fail(plop.Errorf(plop.EInvalid, "transactions are not supported"), receipt)
		return
	}
	switch f.Command {
	case stomp.CmdSend:
		ss.send(f, receipt)
	case stomp.CmdSubscribe:
		ss.subscribe(f, receipt)
	case stomp.CmdUnsubscribe:
		ss.unsubscribe(f, receipt)
	case stomp.CmdAck, stomp.CmdNack:
		// Every subscription is delivered as ack:auto, whatever mode the client asked for:
		// there is nothing to acknowledge, and nothing to redeliver.
		ss.receipt(receipt)
	case stomp.CmdDisconnect:
		ss.state.Store(stateClosing)
		ss.receipt(receipt)
		ss.closeWith(closeNormal, "")
	case stomp.CmdBegin, stomp.CmdCommit, stomp.CmdAbort:
		ss.fail(plop.Errorf(plop.EInvalid, "transactions are not supported"), receipt)
	case stomp.CmdConnect, stomp.CmdStomp:
		ss.fail(plop.Errorf(plop.EInvalid, "already connected"), receipt)
	default:
		ss.fail(plop.Errorf(plop.EInvalid, "%s is a frame only the server sends", f.Command), receipt)
	}
}

// receiptOf returns the receipt header of f, failing the session when it cannot be echoed.
func (ss *session) receiptOf(f *stomp.Frame) (string, bool) {
	r, _ := f.Get(stomp.HdrReceipt)
	if !utf8.ValidString(r) {
		ss.fail(plop.Errorf(plop.EInvalid, "the receipt header is not valid UTF-8"), "")
		return "", false
	}
	return r, true
}

// connect answers CONNECT and STOMP: version, heart-beats, authentication, CONNECTED.
func (ss *session) connect(f *stomp.Frame) {
	accept, _ := f.Get(stomp.HdrAcceptVersion)
	ver, err := stomp.NegotiateVersion(accept)
	if err != nil {
		ss.failFrame(plop.EInvalid, err.Error(), "", stomp.Header{Key: stomp.HdrVersion, Value: errorVersions})
		return
	}
	hb, _ := f.Get(stomp.HdrHeartBeat)
	cx, cy, err := stomp.ParseHeartBeat(hb)
	if err != nil {
		ss.fail(plop.Errorf(plop.EInvalid, "%s", err.Error()), "")
		return
	}
	token := accessToken(f)
	if token == "" {
		ss.fail(plop.Errorf(plop.EUnauthenticated, "no access token: send the header Authorization: Bearer <token>, or passcode"), "")
		return
	}
	id, err := ss.srv.app.Authenticate(ss.srv.ctx, token)
	if err != nil {
		ss.fail(err, "")
		return
	}
	ss.user, ss.version = id.UserID, ver
	ss.login = id.SessionID
	ss.dec.SetVersion(ver)

	var sx, sy = ss.srv.opt.HeartBeat, ss.srv.opt.HeartBeat
	if sx < 0 {
		sx, sy = 0, 0
	}
	ss.sendEvery, _ = stomp.NegotiateHeartBeat(cx, cy, sx, sy)
	if cx > 0 && sy > 0 {
		// Nothing at all for twice the client's interval means the peer is gone.
		ss.readLimit = 2 * max(cx, sy)
	}

	if err := ss.srv.app.Connected(ss.srv.ctx, ss.user, ss.id); err != nil {
		ss.srv.log.Warn("record connection for presence", "conn", ss.id, "user", ss.user, "err", err)
	}
	ss.online = true
	ss.enqueueFrame(&stomp.Frame{Command: stomp.CmdConnected, Headers: []stomp.Header{
		{Key: stomp.HdrVersion, Value: ver},
		{Key: stomp.HdrHeartBeat, Value: stomp.FormatHeartBeat(sx, sy)},
		{Key: stomp.HdrServer, Value: "plop/" + plop.Version},
		{Key: stomp.HdrSession, Value: ss.id},
		{Key: hdrUserName, Value: ss.user},
	}})
	// The sweeper may have given up on this connection meanwhile; then it stays closing.
	ss.state.CompareAndSwap(stateAwaitConnect, stateOpen)
}

// accessToken returns the token of a CONNECT frame: Authorization: Bearer <t>, else passcode.
func accessToken(f *stomp.Frame) string {
	if v, ok := f.Get(stomp.HdrAuthorization); ok {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(v), " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	v, _ := f.Get(stomp.HdrPasscode)
	return v
}

// receipt queues a RECEIPT when the client asked for one.
func (ss *session) receipt(id string, extra ...stomp.Header) {
	if id == "" {
		return
	}
	h := make([]stomp.Header, 0, 1+len(extra))
	h = append(h, stomp.Header{Key: stomp.HdrReceiptID, Value: id})
	h = append(h, extra...)
	ss.enqueueFrame(&stomp.Frame{Command: stomp.CmdReceipt, Headers: h})
}
