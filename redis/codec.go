package redis

import (
	"encoding/binary"
	"errors"

	"github.com/plop-chat/plop"
)

// eventVersion is the first byte of every encoded event. A node that reads another version
// (a newer node during a rolling upgrade) drops the event and logs it.
const eventVersion = 1

// errBadEvent is returned for a message on the events channel that is not an event.
var errBadEvent = errors.New("malformed event")

// appendEvent appends the compact binary encoding of e to b: the version byte, then Type,
// RoomID, Seq, the count and each of UserIDs, ExceptConn and Body, strings and bytes as a
// uvarint length followed by the bytes, Seq as a varint. It is several times smaller and
// faster than JSON, whose encoding of Body would be base64.
func appendEvent(b []byte, e plop.Event) []byte {
	b = append(b, eventVersion)
	b = appendString(b, e.Type)
	b = appendString(b, e.RoomID)
	b = binary.AppendVarint(b, e.Seq)
	b = binary.AppendUvarint(b, uint64(len(e.UserIDs)))
	for _, id := range e.UserIDs {
		b = appendString(b, id)
	}
	b = appendString(b, e.ExceptConn)
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	return append(b, e.Body...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// eventSize is a capacity hint for appendEvent.
func eventSize(e plop.Event) int {
	n := 1 + 4*binary.MaxVarintLen32 + binary.MaxVarintLen64 + len(e.Type) + len(e.RoomID) + len(e.ExceptConn) + len(e.Body)
	for _, id := range e.UserIDs {
		n += binary.MaxVarintLen32 + len(id)
	}
	return n
}

// decodeEvent decodes a message made by appendEvent. Strings share the memory of msg; Body
// is a copy. Empty UserIDs and Body decode as nil.
func decodeEvent(msg string) (plop.Event, error) {
	d := decoder{s: msg}
	if len(msg) == 0 || msg[0] != eventVersion {
		return plop.Event{}, errBadEvent
	}
	d.s = d.s[1:]
	var e plop.Event
	e.Type = d.str()
	e.RoomID = d.str()
	e.Seq = d.varint()
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n > uint64(len(d.s)) { // each id takes at least its length byte
			return plop.Event{}, errBadEvent
		}
		e.UserIDs = make([]string, n)
		for i := range e.UserIDs {
			e.UserIDs[i] = d.str()
		}
	}
	e.ExceptConn = d.str()
	if body := d.str(); body != "" {
		e.Body = []byte(body)
	}
	if d.err != nil || d.s != "" {
		return plop.Event{}, errBadEvent
	}
	return e, nil
}

// decoder reads fields from the front of s; the first error sticks.
type decoder struct {
	s   string
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	// binary.Uvarint takes bytes; varints are at most 10 bytes, so copying them is cheap.
	var buf [binary.MaxVarintLen64]byte
	k := copy(buf[:], d.s)
	v, n := binary.Uvarint(buf[:k])
	if n <= 0 {
		d.err = errBadEvent
		return 0
	}
	d.s = d.s[n:]
	return v
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)) {
		d.err = errBadEvent
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}
