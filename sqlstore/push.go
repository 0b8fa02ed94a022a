package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/plop-chat/plop"
)

// The push outbox (see plop.PushJob and migrations/*/0003_push.sql). CreateMessage queues a
// job with sqlQueuePush inside its own transaction; everything else here runs on the push
// workers' side, never on the send path.
//
// Claims are leases: a claim writes its token (unique to the claim) to lease_owner and moves
// the row's availability (push_jobs.available_at, push_pending.due_at) to the end of the
// lease, with one conditional UPDATE that only rows still available match. On MySQL the
// UPDATE re-reads each row under its lock, so of two nodes claiming at once each row goes to
// one; a claim whose holder died is claimed again once its lease has run out. Whatever a claim
// writes afterwards is conditioned on lease_owner still being its token.
//
// Lock order: push_jobs rows, then push_pending rows in (user, room) order (FoldPushJobs);
// MarkRead locks the member row, then the member's push_pending row.

// sqlQueuePush queues the push job of a message: room id, seq, created_at, available_at.
const sqlQueuePush = `INSERT INTO push_jobs (room_id, seq, created_at, available_at) VALUES (?, ?, ?, ?)`

// errLeaseLost is returned by FoldPushJobs when its claim no longer holds every job.
var errLeaseLost = plop.Errorf(plop.EConflict, "the push jobs were claimed by another worker")

// ClaimPushJobs leases up to limit queued jobs that are available at now to claim until
// now+lease, oldest first.
func (db *DB) ClaimPushJobs(ctx context.Context, claim string, now time.Time, lease time.Duration, limit int) ([]plop.PushJob, error) {
	ids, err := db.claimRows(ctx, "push_jobs", "available_at", "id", claim, now, lease, limit)
	if err != nil || len(ids) == 0 {
		return nil, db.fail("claim push jobs", err)
	}
	rows, err := db.w.QueryContext(ctx, `SELECT id, room_id, seq, created_at, attempts FROM push_jobs WHERE id IN (`+
		placeholders(len(ids))+`) AND lease_owner = ? ORDER BY id`, append(ids, claim)...)
	if err != nil {
		return nil, db.fail("load push jobs", err)
	}
	defer rows.Close()
	var out []plop.PushJob
	for rows.Next() {
		var j plop.PushJob
		var created int64
		if err := rows.Scan(&j.ID, &j.RoomID, &j.Seq, &created, &j.Attempts); err != nil {
			return nil, db.fail("load push jobs", err)
		}
		j.CreatedAt = fromMS(created)
		out = append(out, j)
	}
	return out, db.fail("load push jobs", rows.Err())
}

// claimRows leases up to limit rows of table whose column avail is at most now, in the
// order of orderBy, and returns their ids as query arguments.
func (db *DB) claimRows(ctx context.Context, table, avail, orderBy, claim string, now time.Time, lease time.Duration, limit int) ([]any, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM `+table+` WHERE `+avail+` <= ? ORDER BY `+orderBy+` LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, err
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, err
	}
	slices.SortFunc(ids, func(a, b any) int { return int(a.(int64) - b.(int64)) }) // lock in key order
	args := append([]any{claim, ms(now.Add(lease))}, ids...)
	args = append(args, ms(now))
	res, err := db.w.ExecContext(ctx, `UPDATE `+table+` SET lease_owner = ?, `+avail+` = ? WHERE id IN (`+
		placeholders(len(ids))+`) AND `+avail+` <= ?`, args...)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, err
	}
	return ids, nil
}

// RetryPushJob gives a job that claim holds back to the queue, available again at `at`, and
// counts the failed attempt. It does nothing when claim no longer holds the job.
func (db *DB) RetryPushJob(ctx context.Context, claim string, id int64, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE push_jobs SET lease_owner = NULL, available_at = ?, attempts = attempts + 1 WHERE id = ? AND lease_owner = ?`,
		ms(at), id, claim)
	return db.fail("retry push job", err)
}

// The queries of PushMessage: fixed texts, prepared once on the readers.
const (
	sqlPushMessage = `SELECT r.type, r.name, msg.sender_id, msg.body, msg.deleted_at, COALESCE(u.name, '')
		FROM messages msg JOIN rooms r ON r.id = msg.room_id LEFT JOIN users u ON u.id = msg.sender_id
		WHERE msg.room_id = ? AND msg.seq = ?`
	sqlPushMembers = `SELECT m.user_id, m.last_read_seq, m.muted,
		EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = m.user_id AND b.blocked_id = ?) OR (b.blocker_id = ? AND b.blocked_id = m.user_id))
		FROM room_members m WHERE m.room_id = ? AND m.user_id <> ? ORDER BY m.user_id`
)

// PushMessage returns the message roomID/seq with its sender's name, the room's type and name,
// and the other members with their read pointers, mute flags and whether they and the sender
// block each other, from one snapshot. Returns not_found when there is no such message.
func (db *DB) PushMessage(ctx context.Context, roomID string, seq int64) (plop.PushMessage, error) {
	pm := plop.PushMessage{RoomID: roomID, Seq: seq}
	if err := db.rc.warm(ctx, sqlPushMessage, sqlPushMembers); err != nil {
		return pm, db.fail("prepare push queries", err)
	}
	err := db.readTx(ctx, func(sqlTx *sql.Tx) error {
		tx := cachedQuerier{c: &db.rc, tx: sqlTx}
		var deleted sql.NullInt64
		err := tx.QueryRowContext(ctx, sqlPushMessage, roomID, seq).
			Scan(&pm.RoomType, &pm.RoomName, &pm.SenderID, &pm.Body, &deleted, &pm.SenderName)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("message")
		}
		if err != nil {
			return err
		}
		pm.Deleted = deleted.Valid
		rows, err := tx.QueryContext(ctx, sqlPushMembers, pm.SenderID, pm.SenderID, roomID, pm.SenderID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m plop.PushMember
			if err := rows.Scan(&m.UserID, &m.LastReadSeq, &m.Muted, &m.Blocked); err != nil {
				return err
			}
			pm.Members = append(pm.Members, m)
		}
		return rows.Err()
	})
	if err != nil {
		return plop.PushMessage{}, db.fail("load message for push", err)
	}
	return pm, nil
}

// pendingKey names one pending notification.
type pendingKey struct{ userID, roomID string }

// pendingOp is one change to a pending notification, applied in seq order: a message added
// (add) or the user's own message, which means they read the room up to seq.
type pendingOp struct {
	seq         int64
	add         bool
	title, body string
}

// pendingRow is a push_pending row as FoldPushJobs changes it.
type pendingRow struct {
	id                int64 // 0: no row yet
	exists            bool
	unread            int
	lastSeq, sentSeq  int64
	title, body       string
	due               sql.NullInt64
	sentAt            int64
	leaseOwner        sql.NullString
	attempts          int
	originallyPresent bool
}

// FoldPushJobs deletes the jobs of folds, which claim must hold, and folds each job's message
// into the pending notifications of its recipients, in one transaction:
//
//   - a recipient with nothing pending gets a notification due at now+delay, or at the end of
//     the cooldown after the last one sent to them about the room, whichever is later;
//   - one with a notification already due (or being sent) gets the message added to it: its
//     count grows, and its title and body become the newest message's;
//   - the sender read the room up to the message: their own notification about the room is
//     cleared up to it.
//
// Returns conflict, having changed nothing, when claim no longer holds one of the jobs.
func (db *DB) FoldPushJobs(ctx context.Context, claim string, folds []plop.PushFold, now time.Time, delay, cooldown time.Duration) error {
	if len(folds) == 0 {
		return nil
	}
	ids := make([]any, 0, len(folds))
	ops := map[pendingKey][]pendingOp{}
	for _, f := range folds {
		ids = append(ids, f.JobID)
		ops[pendingKey{f.SenderID, f.RoomID}] = append(ops[pendingKey{f.SenderID, f.RoomID}], pendingOp{seq: f.Seq})
		for _, u := range f.UserIDs {
			k := pendingKey{u, f.RoomID}
			ops[k] = append(ops[k], pendingOp{seq: f.Seq, add: true, title: f.Title, body: f.Body})
		}
	}
	keys := make([]pendingKey, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b pendingKey) int {
		if c := strings.Compare(a.userID, b.userID); c != 0 {
			return c
		}
		return strings.Compare(a.roomID, b.roomID)
	})
	slices.SortFunc(ids, func(a, b any) int { return int(a.(int64) - b.(int64)) })
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM push_jobs WHERE id IN (`+placeholders(len(ids))+`) AND lease_owner = ?`, append(ids, claim)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != int64(len(ids)) {
			return errLeaseLost
		}
		for _, k := range keys {
			if err := db.foldPending(ctx, tx, k, ops[k], now, delay, cooldown); err != nil {
				return err
			}
		}
		return nil
	})
	return db.fail("fold push jobs", err)
}

// foldPending applies ops, in seq order, to the pending notification of k.
func (db *DB) foldPending(ctx context.Context, tx *sql.Tx, k pendingKey, ops []pendingOp, now time.Time, delay, cooldown time.Duration) error {
	var r pendingRow
	err := tx.QueryRowContext(ctx, `SELECT id, unread, last_seq, sent_seq, title, body, due_at, sent_at, lease_owner, attempts
		FROM push_pending WHERE user_id = ? AND room_id = ?`+db.d.forUpdate, k.userID, k.roomID).
		Scan(&r.id, &r.unread, &r.lastSeq, &r.sentSeq, &r.title, &r.body, &r.due, &r.sentAt, &r.leaseOwner, &r.attempts)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		r.exists, r.originallyPresent = true, true
	}
	slices.SortStableFunc(ops, func(a, b pendingOp) int { return int(a.seq - b.seq) })
	changed := false
	for _, op := range ops {
		switch {
		case !op.add && r.exists && r.lastSeq <= op.seq:
			r.exists, changed = false, true
		case !op.add && r.exists:
			r.unread, changed = min(r.unread, int(r.lastSeq-op.seq)), true
		case op.add && !r.exists:
			r = pendingRow{id: r.id, originallyPresent: r.originallyPresent, exists: true, unread: 1, lastSeq: op.seq,
				title: op.title, body: op.body, due: sql.NullInt64{Int64: ms(now.Add(delay)), Valid: true}}
			changed = true
		case op.add:
			r.unread++
			if op.seq > r.lastSeq {
				r.lastSeq, r.title, r.body = op.seq, op.title, op.body
			}
			if !r.due.Valid {
				r.due = sql.NullInt64{Int64: max(ms(now.Add(delay)), r.sentAt+cooldown.Milliseconds()), Valid: true}
			}
			changed = true
		}
	}
	switch {
	case !changed:
		return nil
	case !r.exists && r.originallyPresent:
		_, err = tx.ExecContext(ctx, `DELETE FROM push_pending WHERE id = ?`, r.id)
	case r.exists && r.originallyPresent:
		_, err = tx.ExecContext(ctx, `UPDATE push_pending SET unread = ?, last_seq = ?, sent_seq = ?, title = ?, body = ?, due_at = ?,
			sent_at = ?, lease_owner = ?, attempts = ? WHERE id = ?`,
			r.unread, r.lastSeq, r.sentSeq, r.title, r.body, r.due, r.sentAt, r.leaseOwner, r.attempts, r.id)
	case r.exists:
		_, err = tx.ExecContext(ctx, `INSERT INTO push_pending (user_id, room_id, unread, last_seq, sent_seq, title, body, due_at, sent_at, attempts)
			VALUES (?, ?, ?, ?, 0, ?, ?, ?, 0, 0)`, k.userID, k.roomID, r.unread, r.lastSeq, r.title, r.body, r.due)
	}
	return err
}

// ClaimPushes leases up to limit pending notifications that are due at now to claim until
// now+lease, the longest waiting first.
func (db *DB) ClaimPushes(ctx context.Context, claim string, now time.Time, lease time.Duration, limit int) ([]plop.PendingPush, error) {
	ids, err := db.claimRows(ctx, "push_pending", "due_at", "due_at", claim, now, lease, limit)
	if err != nil || len(ids) == 0 {
		return nil, db.fail("claim pushes", err)
	}
	rows, err := db.w.QueryContext(ctx, `SELECT id, user_id, room_id, unread, last_seq, title, body, attempts FROM push_pending WHERE id IN (`+
		placeholders(len(ids))+`) AND lease_owner = ? ORDER BY id`, append(ids, claim)...)
	if err != nil {
		return nil, db.fail("load pushes", err)
	}
	defer rows.Close()
	var out []plop.PendingPush
	for rows.Next() {
		var p plop.PendingPush
		if err := rows.Scan(&p.ID, &p.UserID, &p.RoomID, &p.Count, &p.LastSeq, &p.Title, &p.Body, &p.Attempts); err != nil {
			return nil, db.fail("load pushes", err)
		}
		out = append(out, p)
	}
	return out, db.fail("load pushes", rows.Err())
}

// FinishPush records that p, which claim holds, was dealt with up to p.LastSeq: pushed (sent,
// at now) or not needed. When messages were folded in meanwhile, the notification is due
// again at next; otherwise nothing is due until the next message. It does nothing when claim
// no longer holds p (the user read the room meanwhile).
func (db *DB) FinishPush(ctx context.Context, claim string, p plop.PendingPush, sent bool, now, next time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE push_pending SET sent_seq = ?, sent_at = CASE WHEN ? THEN ? ELSE sent_at END, attempts = 0,
		lease_owner = NULL, due_at = CASE WHEN last_seq > ? THEN ? ELSE NULL END WHERE id = ? AND lease_owner = ?`,
		p.LastSeq, sent, ms(now), p.LastSeq, ms(next), p.ID, claim)
	return db.fail("finish push", err)
}

// RetryPush gives p, which claim holds, back to be sent again at `at`, and counts the failed
// attempt. It does nothing when claim no longer holds p.
func (db *DB) RetryPush(ctx context.Context, claim string, p plop.PendingPush, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE push_pending SET lease_owner = NULL, due_at = ?, attempts = attempts + 1 WHERE id = ? AND lease_owner = ?`,
		ms(at), p.ID, claim)
	return db.fail("retry push", err)
}

// PushBacklog returns how many jobs are queued and how many notifications are waiting to be
// sent (due now or later, or being sent).
func (db *DB) PushBacklog(ctx context.Context) (jobs, waiting int, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM push_jobs), (SELECT COUNT(*) FROM push_pending WHERE due_at IS NOT NULL)`).
		Scan(&jobs, &waiting)
	return jobs, waiting, db.fail("push backlog", err)
}

// clearPendingPush clears, inside MarkRead's transaction, userID's pending notification about
// roomID up to seq: it is deleted when nothing newer is in it, else its count is bounded by
// the messages after seq.
func clearPendingPush(ctx context.Context, tx *sql.Tx, roomID, userID string, seq int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM push_pending WHERE user_id = ? AND room_id = ? AND last_seq <= ?`, userID, roomID, seq); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE push_pending SET unread = CASE WHEN unread > last_seq - ? THEN last_seq - ? ELSE unread END
		WHERE user_id = ? AND room_id = ?`, seq, seq, userID, roomID)
	return err
}
