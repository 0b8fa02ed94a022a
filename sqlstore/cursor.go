package sqlstore

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/plop-chat/plop"
)

// A cursor is an opaque position in a list ordered by (time, id) descending: the time in
// Unix milliseconds and the id of the last item returned.

func encodeCursor(t int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t, 10) + ":" + id))
}

// decodeCursor returns ok false for "", an error for a malformed cursor.
func decodeCursor(c string) (t int64, id string, ok bool, err error) {
	if c == "" {
		return 0, "", false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", false, plop.Errorf(plop.EInvalid, "invalid cursor")
	}
	ts, id, found := strings.Cut(string(b), ":")
	t, err = strconv.ParseInt(ts, 10, 64)
	if !found || err != nil || id == "" {
		return 0, "", false, plop.Errorf(plop.EInvalid, "invalid cursor")
	}
	return t, id, true, nil
}
