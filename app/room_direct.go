package app

import "github.com/google/uuid"

// directRoomNamespace is the UUID namespace of direct room ids. Changing it would give every
// pair a second direct room: never change it.
var directRoomNamespace = uuid.MustParse("3c622ca8-070d-45e7-a3bc-bf9b36cf5605")

// directKey is the key that makes a pair's direct room unique: the two user ids sorted and
// joined by ":".
func directKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + ":" + b
}

// directRoomID is the id of the direct room of users a and b: a name-based (version 5) UUID
// of their direct key. Groups get random (version 7) ids.
//
// Deriving the id from the pair makes the direct room's identity a pure function of its two
// members, so the hot paths can tell a direct room from a two-person group with no query:
// a room with two members is direct exactly when its id is the id of their pair. The id
// reveals nothing a non-member can use, since every room call answers not_found to them.
func directRoomID(a, b string) string {
	return uuid.NewSHA1(directRoomNamespace, []byte(directKey(a, b))).String()
}

// isDirectRoom reports whether roomID is the direct room of users a and b.
func isDirectRoom(roomID, a, b string) bool {
	// A version 5 id has '5' as the first character of its third group; checking it first
	// spares the hash for every group room.
	if len(roomID) != 36 || roomID[14] != '5' {
		return false
	}
	return roomID == directRoomID(a, b)
}
