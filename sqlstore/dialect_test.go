package sqlstore

import "testing"

func TestDialectUpsert(t *testing.T) {
	cols, keys, upd := []string{"email", "code_hash", "attempts"}, []string{"email"}, []string{"code_hash", "attempts"}
	for _, c := range []struct {
		d    *dialect
		want string
	}{
		{sqliteDialect, "INSERT INTO codes (email, code_hash, attempts) VALUES (?, ?, ?) ON CONFLICT (email) DO UPDATE SET code_hash = excluded.code_hash, attempts = excluded.attempts"},
		{mysqlDialect, "INSERT INTO codes (email, code_hash, attempts) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE code_hash = VALUES(code_hash), attempts = VALUES(attempts)"},
	} {
		if got := c.d.upsert("codes", cols, keys, upd); got != c.want {
			t.Errorf("%s upsert:\n got %s\nwant %s", c.d.name, got, c.want)
		}
	}
}
