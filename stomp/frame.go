package stomp

// Header is one header line.
type Header struct{ Key, Value string }

// Frame is one STOMP frame.
type Frame struct {
	Command string
	Headers []Header
	Body    []byte
}

// Get returns the value of the first header named key; as STOMP 1.2 says, when a key is
// repeated the first occurrence wins.
func (f *Frame) Get(key string) (string, bool) {
	for i := range f.Headers {
		if f.Headers[i].Key == key {
			return f.Headers[i].Value, true
		}
	}
	return "", false
}

// Set replaces the value of the first header named key, or appends the header when there is
// none.
func (f *Frame) Set(key, value string) {
	for i := range f.Headers {
		if f.Headers[i].Key == key {
			f.Headers[i].Value = value
			return
		}
	}
	f.Headers = append(f.Headers, Header{key, value})
}

// Add appends a header, even when one with the same key exists.
func (f *Frame) Add(key, value string) {
	f.Headers = append(f.Headers, Header{key, value})
}

// Commands, case-sensitive as on the wire.
const (
	CmdConnect     = "CONNECT"
	CmdStomp       = "STOMP"
	CmdConnected   = "CONNECTED"
	CmdSend        = "SEND"
	CmdSubscribe   = "SUBSCRIBE"
	CmdUnsubscribe = "UNSUBSCRIBE"
	CmdAck         = "ACK"
	CmdNack        = "NACK"
	CmdBegin       = "BEGIN"
	CmdCommit      = "COMMIT"
	CmdAbort       = "ABORT"
	CmdDisconnect  = "DISCONNECT"
	CmdMessage     = "MESSAGE"
	CmdReceipt     = "RECEIPT"
	CmdError       = "ERROR"
)

// Header names defined by the specification (and Authorization, which Plop accepts on
// CONNECT). A Decoder returns these exact strings, so comparing with them is cheap.
const (
	HdrAcceptVersion = "accept-version"
	HdrAck           = "ack"
	HdrAuthorization = "Authorization"
	HdrContentLength = "content-length"
	HdrContentType   = "content-type"
	HdrDestination   = "destination"
	HdrHeartBeat     = "heart-beat"
	HdrHost          = "host"
	HdrID            = "id"
	HdrLogin         = "login"
	HdrMessage       = "message"
	HdrMessageID     = "message-id"
	HdrPasscode      = "passcode"
	HdrReceipt       = "receipt"
	HdrReceiptID     = "receipt-id"
	HdrServer        = "server"
	HdrSession       = "session"
	HdrSubscription  = "subscription"
	HdrTransaction   = "transaction"
	HdrVersion       = "version"
)

// Protocol versions.
const (
	V10 = "1.0"
	V11 = "1.1"
	V12 = "1.2"
	// SupportedVersions is the value of the version header of an ERROR frame answering a
	// CONNECT whose accept-version has nothing in common with this codec.
	SupportedVersions = "1.0,1.1,1.2"
)

// internCommand returns the constant spelling of a command, or "" when b is not one.
// The switch on string(b) does not allocate.
func internCommand(b []byte) string {
	switch string(b) {
	case CmdSend:
		return CmdSend
	case CmdMessage:
		return CmdMessage
	case CmdAck:
		return CmdAck
	case CmdNack:
		return CmdNack
	case CmdSubscribe:
		return CmdSubscribe
	case CmdUnsubscribe:
		return CmdUnsubscribe
	case CmdConnect:
		return CmdConnect
	case CmdStomp:
		return CmdStomp
	case CmdConnected:
		return CmdConnected
	case CmdBegin:
		return CmdBegin
	case CmdCommit:
		return CmdCommit
	case CmdAbort:
		return CmdAbort
	case CmdDisconnect:
		return CmdDisconnect
	case CmdReceipt:
		return CmdReceipt
	case CmdError:
		return CmdError
	}
	return ""
}

// internKey returns the constant spelling of a well-known header name, or "".
func internKey(b []byte) string {
	switch string(b) {
	case HdrContentLength:
		return HdrContentLength
	case HdrContentType:
		return HdrContentType
	case HdrDestination:
		return HdrDestination
	case HdrSubscription:
		return HdrSubscription
	case HdrMessageID:
		return HdrMessageID
	case HdrID:
		return HdrID
	case HdrAck:
		return HdrAck
	case HdrReceipt:
		return HdrReceipt
	case HdrReceiptID:
		return HdrReceiptID
	case HdrTransaction:
		return HdrTransaction
	case HdrAcceptVersion:
		return HdrAcceptVersion
	case HdrHost:
		return HdrHost
	case HdrLogin:
		return HdrLogin
	case HdrPasscode:
		return HdrPasscode
	case HdrHeartBeat:
		return HdrHeartBeat
	case HdrVersion:
		return HdrVersion
	case HdrSession:
		return HdrSession
	case HdrServer:
		return HdrServer
	case HdrMessage:
		return HdrMessage
	case HdrAuthorization:
		return HdrAuthorization
	}
	return ""
}

// version numbers used internally: 10, 11 or 12.
func parseVersion(v string) int8 {
	switch v {
	case V10:
		return 10
	case V11:
		return 11
	}
	return 12
}

// escapesHeaders reports whether a frame's headers are escaped in version ver.
func escapesHeaders(cmd string, ver int8) bool {
	if ver < 11 {
		return false
	}
	switch cmd {
	case CmdConnect, CmdStomp, CmdConnected:
		return false
	}
	return true
}
