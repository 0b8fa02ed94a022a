package plop

import "time"

// MaxPushBody bounds the text a push notification carries, in bytes: a notification is a
// preview, and the app fetches the rest.
const MaxPushBody = 1024

// The push outbox. The store queues one PushJob per message in the message's own
// transaction, so that a crash between the commit and the push loses nothing. Push workers
// claim jobs under a lease, work out whom to notify, and fold each message into one
// PendingPush per (user, room), which they send once it is due: a burst of messages becomes
// one notification with a count. The interfaces that use these types are in package app.

// PushJob is a stored message whose notifications are still to be worked out.
type PushJob struct {
	ID        int64
	RoomID    string
	Seq       int64
	CreatedAt time.Time
	Attempts  int // earlier tries that failed
}

// PushMessage is what a push worker reads about a queued message.
type PushMessage struct {
	RoomID     string
	RoomType   string
	RoomName   string
	Seq        int64
	SenderID   string
	SenderName string
	Body       string
	Deleted    bool
	// Members are the room's members other than the sender.
	Members []PushMember
}

// PushMember is one member of a room as a push worker sees it.
type PushMember struct {
	UserID      string
	LastReadSeq int64
	Muted       bool
	Blocked     bool // the member blocks the sender, or the sender blocks the member
}

// PushFold adds the message of one claimed job to the pending notifications of its
// recipients.
type PushFold struct {
	JobID    int64
	RoomID   string
	Seq      int64
	SenderID string
	UserIDs  []string // the recipients; none when nobody is to be notified
	Title    string
	Body     string
}

// PendingPush is the one notification waiting for a user about a room: the messages folded
// into it since the user last read the room.
type PendingPush struct {
	ID       int64
	UserID   string
	RoomID   string
	Count    int   // unread messages folded in since the user last read the room
	LastSeq  int64 // the newest of them
	Title    string
	Body     string
	Attempts int // deliveries that failed for a push service that was unavailable
}
