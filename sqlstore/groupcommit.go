package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plop-chat/plop"
)

// Group commit of CreateMessage
//
// A transaction and its commit per message cost most of a send: on SQLite the commit is a
// good part of the CPU of a busy node, on MySQL/MariaDB every message waits for its own log
// flush (and its statements' round trips) while it holds its room's row lock. So
// CreateMessage does not run a transaction of its own: it queues the message and waits, and
// a committer goroutine of the DB takes whatever is queued (no waiting for more: at most
// groupCommitMaxBatch) and stores it in one transaction. A caller hears back only after the
// commit: nothing acknowledged can be lost.
//
// A batch first runs without savepoints: on MySQL as a handful of statements for all its
// messages (insertBatchFast, which saves round trips), on SQLite as the prepared statements
// of each message in turn (insertEach: no round trips to save, no statements to compile).
// When one of them fails for a reason of its own (its client_msg_id is taken, an attachment
// does not qualify), that transaction rolls back and the batch runs again with each message
// inside its own savepoint (insertBatch): the failing message is rolled back alone and gets
// its own error while the others commit. When the commit fails, every message of the batch
// gets the error; when the database rolled the whole transaction back as a deadlock victim,
// the batch runs again from the start (the database undid everything, so nothing is
// doubled).
//
// SQLite has one committer (it has one writer connection). MySQL has a few, so that several
// batches are in flight on the pool while others wait for their log flush; each batch takes
// its rooms' row locks in ascending room id order, so that batches wait for each other
// instead of deadlocking.

const (
	// groupCommitMaxBatch bounds the messages of one transaction.
	groupCommitMaxBatch = 128
	// groupCommitQueue bounds the messages waiting for a committer; senders beyond it wait
	// to be queued (or for their context to end).
	groupCommitQueue = 1024
	// mysqlCommitters is the number of batches in flight on a MySQL pool.
	mysqlCommitters = 4
)

// The savepoint around each message of a batch. MySQL replaces a savepoint of the same name,
// so there it needs no release; SQLite nests them, so there each is released.
const (
	sqlSavepoint         = `SAVEPOINT msg`
	sqlRollbackSavepoint = `ROLLBACK TO SAVEPOINT msg`
	sqlReleaseSavepoint  = `RELEASE SAVEPOINT msg`
)

// errStoreClosed is the answer to senders still waiting when the DB closes.
var errStoreClosed = fmt.Errorf("%w: the store is closed", plop.ErrUnavailable)

// States of a queued send. A committer moves it from sendQueued to sendTaken when it puts it
// in a batch; its caller moves it to sendAbandoned when it stops waiting first. Whoever moves
// it first decides.
const (
	sendQueued int32 = iota
	sendTaken
	sendAbandoned
)

// sendReq is one queued CreateMessage. The committer sets the results before it closes done.
type sendReq struct {
	m       *plop.Message
	created time.Time // m.CreatedAt as stored
	state   atomic.Int32
	done    chan struct{}

	seq int64 // the stored message's seq when err is nil and dup false
	// dup: the (room, sender, client_msg_id) is taken, by a committed message or one earlier
	// in the same batch; the caller answers with that message. err is the violation.
	dup bool
	err error
}

// groupCommitter queues sends and runs the committer goroutines. It belongs to a DB: started
// by Open, stopped by Close.
type groupCommitter struct {
	db       *DB
	queue    chan *sendReq
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	// gate, when not nil, holds the committers before each batch until it is closed; tests
	// use it to queue sends. Nil in service.
	gate <-chan struct{}
}

// startCommitters starts n committer goroutines on db; gate is nil but in tests (see
// groupCommitter.gate).
func (db *DB) startCommitters(n int, gate <-chan struct{}) {
	g := &groupCommitter{db: db, queue: make(chan *sendReq, groupCommitQueue), stop: make(chan struct{}), gate: gate}
	for range n {
		g.wg.Add(1)
		go g.run()
	}
	db.gc = g
}

// close stops the committers after the batches they are running. Senders still queued get
// errStoreClosed.
func (g *groupCommitter) close() {
	g.stopOnce.Do(func() { close(g.stop) })
	g.wg.Wait()
}

// submit queues r and waits for its outcome (in r) or for the end of ctx or of the store.
// Once r is in a batch, submit waits for the batch whatever happens to ctx: the message may
// commit, and then its caller must hear so.
func (g *groupCommitter) submit(ctx context.Context, r *sendReq) error {
	select {
	case g.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errStoreClosed
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		if r.state.CompareAndSwap(sendQueued, sendAbandoned) {
			return ctx.Err()
		}
	case <-g.stop:
		if r.state.CompareAndSwap(sendQueued, sendAbandoned) {
			return errStoreClosed
		}
	}
	<-r.done
	return nil
}

// run is one committer: it takes everything queued, up to groupCommitMaxBatch, stores it in
// one transaction and answers the senders, until the store closes.
func (g *groupCommitter) run() {
	defer g.wg.Done()
	batch := make([]*sendReq, 0, groupCommitMaxBatch)
	for {
		if g.gate != nil {
			select {
			case <-g.gate:
			case <-g.stop:
				return
			}
		}
		select {
		case <-g.stop:
			return
		case r := <-g.queue:
			batch = take(batch[:0], r)
		}
	fill:
		for len(batch) < groupCommitMaxBatch {
			select {
			case r := <-g.queue:
				batch = take(batch, r)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			continue
		}
		select {
		case <-g.stop:
			for _, r := range batch {
				r.err = errStoreClosed
				close(r.done)
			}
			return
		default:
		}
		g.db.commitBatch(batch)
		for _, r := range batch {
			close(r.done)
		}
		clear(batch)
	}
}

// take adds r to batch unless its caller has stopped waiting.
func take(batch []*sendReq, r *sendReq) []*sendReq {
	if r.state.CompareAndSwap(sendQueued, sendTaken) {
		batch = append(batch, r)
	}
	return batch
}

// commitBatch stores the messages of batch in one transaction and sets their outcomes. A
// transaction rolled back as a deadlock victim runs again, up to maxTxAttempts times in all.
func (db *DB) commitBatch(batch []*sendReq) {
	// Rooms in one order across batches (their row locks on MySQL); arrival order within
	// a room.
	slices.SortStableFunc(batch, func(a, b *sendReq) int { return strings.Compare(a.m.RoomID, b.m.RoomID) })
	// Not a caller's context: once a batch has started, it finishes (the drivers' timeouts
	// bound it), so that no caller gives up on a message that then commits.
	ctx := context.Background()
	var err error
	for attempt := 1; ; attempt++ {
		// A message alone runs its prepared statements (cheaper than building the batch
		// statements on SQLite, as many round trips on MySQL).
		oneByOne := len(batch) == 1
		if !oneByOne {
			var failed bool // the statements failed, not the commit
			err = db.tryTx(ctx, func(tx *sql.Tx) error {
				var err error
				if db.d == sqliteDialect {
					err = db.insertEach(ctx, tx, batch)
				} else {
					err = db.insertBatchFast(ctx, tx, batch)
				}
				failed = err != nil
				return err
			})
			// A message failed (its client_msg_id is taken, an attachment does not
			// qualify, ...): store them one by one, each in its own savepoint.
			oneByOne = failed && !db.d.isRetryable(err)
		}
		if oneByOne {
			err = db.tryTx(ctx, func(tx *sql.Tx) error { return db.insertBatch(ctx, tx, batch) })
		}
		if err == nil || attempt == maxTxAttempts || !db.d.isRetryable(err) {
			break
		}
		db.logger.Debug("message batch rolled back by the database; retrying", "attempt", attempt, "messages", len(batch), "err", err)
		time.Sleep(time.Duration(attempt) * time.Duration(1+rand.IntN(5)) * time.Millisecond)
	}
	if err != nil {
		for _, r := range batch {
			r.seq, r.dup, r.err = 0, false, err
		}
	}
}

// insertBatchFast stores batch (sorted by room) inside tx with a few statements for the
// whole batch: one UPDATE takes the seqs of every room (locking the rooms in id order on
// MySQL) and one SELECT reads them back, then one INSERT each stores the messages and their
// push jobs and one UPDATE moves the senders' read pointers. Messages to a room that does
// not exist get not_found. Any other failure returns an error, after which the caller rolls
// back and runs insertBatch, which sets each message's own outcome.
func (db *DB) insertBatchFast(ctx context.Context, tx *sql.Tx, batch []*sendReq) error {
	type roomRun struct {
		id      string
		n       int64 // messages
		updated int64 // created_at of the last one
	}
	var runs []roomRun
	for _, r := range batch {
		r.seq, r.dup, r.err = 0, false, nil
		if len(runs) == 0 || runs[len(runs)-1].id != r.m.RoomID {
			runs = append(runs, roomRun{id: r.m.RoomID})
		}
		run := &runs[len(runs)-1]
		run.n++
		run.updated = ms(r.created)
	}
	var b strings.Builder
	args := make([]any, 0, 5*len(runs))
	b.WriteString(`UPDATE rooms SET last_seq = last_seq + CASE id`)
	for _, run := range runs {
		b.WriteString(` WHEN ? THEN ?`)
		args = append(args, run.id, run.n)
	}
	b.WriteString(` END, updated_at = CASE id`)
	for _, run := range runs {
		b.WriteString(` WHEN ? THEN ?`)
		args = append(args, run.id, run.updated)
	}
	b.WriteString(` END WHERE id IN (` + placeholders(len(runs)) + `)`)
	ids := make([]any, len(runs))
	for i, run := range runs {
		ids[i] = run.id
	}
	args = append(args, ids...)
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("take seqs: %w", err)
	}
	last := make(map[string]int64, len(runs))
	rows, err := tx.QueryContext(ctx, `SELECT id, last_seq FROM rooms WHERE id IN (`+placeholders(len(runs))+`)`, ids...)
	if err != nil {
		return fmt.Errorf("read seqs: %w", err)
	}
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			rows.Close()
			return fmt.Errorf("read seqs: %w", err)
		}
		last[id] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read seqs: %w", err)
	}

	// Seqs in arrival order within each room.
	stored := make([]*sendReq, 0, len(batch))
	i := 0
	for _, run := range runs {
		top, ok := last[run.id]
		for k := range run.n {
			r := batch[i]
			i++
			if !ok {
				r.err = notFound("room")
				continue
			}
			r.seq = top - run.n + 1 + k
			stored = append(stored, r)
		}
	}
	if len(stored) == 0 {
		return nil
	}

	b.Reset()
	args = args[:0]
	b.WriteString(`INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id, reply_to_seq, created_at) VALUES `)
	for j, r := range stored {
		if j > 0 {
			b.WriteString(`, `)
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?)`)
		var clientID, replyTo any
		if r.m.ClientMsgID != "" {
			clientID = r.m.ClientMsgID
		}
		if r.m.ReplyTo != nil {
			replyTo = *r.m.ReplyTo
		}
		args = append(args, r.m.ID, r.m.RoomID, r.seq, r.m.SenderID, r.m.Body, clientID, replyTo, ms(r.created))
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}

	// The push jobs commit with the messages: a crash after the commit loses no push.
	b.Reset()
	args = args[:0]
	b.WriteString(`INSERT INTO push_jobs (room_id, seq, created_at, available_at) VALUES `)
	for j, r := range stored {
		if j > 0 {
			b.WriteString(`, `)
		}
		b.WriteString(`(?, ?, ?, ?)`)
		args = append(args, r.m.RoomID, r.seq, ms(r.created), ms(r.created))
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("queue push jobs: %w", err)
	}

	// Each sender's read pointer moves to their last message in the room, if it is behind.
	type memberKey struct{ room, user string }
	reads := make(map[memberKey]int64, len(stored))
	var order []memberKey
	for _, r := range stored {
		k := memberKey{r.m.RoomID, r.m.SenderID}
		if _, ok := reads[k]; !ok {
			order = append(order, k)
		}
		reads[k] = max(reads[k], r.seq)
	}
	b.Reset()
	args = args[:0]
	b.WriteString(`UPDATE room_members SET last_read_seq = CASE`)
	for _, k := range order {
		b.WriteString(` WHEN room_id = ? AND user_id = ? AND last_read_seq < ? THEN ?`)
		args = append(args, k.room, k.user, reads[k], reads[k])
	}
	b.WriteString(` ELSE last_read_seq END WHERE `)
	for j, k := range order {
		if j > 0 {
			b.WriteString(` OR `)
		}
		b.WriteString(`(room_id = ? AND user_id = ?)`)
		args = append(args, k.room, k.user)
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("move read pointers: %w", err)
	}

	for _, r := range stored {
		if err := linkAttachments(ctx, tx, r.m, r.seq); err != nil {
			return err
		}
	}
	return nil
}

// insertEach stores the messages of batch one after the other in tx with the statements
// prepared at Open, and returns the first error: SQLite has no round trips to save, and
// compiling the whole-batch statements of insertBatchFast costs it more than running the
// prepared ones once per message.
func (db *DB) insertEach(ctx context.Context, tx *sql.Tx, batch []*sendReq) error {
	for _, r := range batch {
		r.seq, r.dup, r.err = 0, false, nil
		seq, err := db.insertMessage(ctx, tx, r.m, r.created)
		if err != nil {
			return err
		}
		r.seq = seq
	}
	return nil
}

// insertBatch stores each message of batch in its own savepoint of tx and sets its outcome.
// It returns an error (and the whole batch fails or runs again) only when the transaction
// itself is lost.
func (db *DB) insertBatch(ctx context.Context, tx *sql.Tx, batch []*sendReq) error {
	q := db.wq(tx)
	nested := db.d == sqliteDialect
	exec := func(stmt string) error {
		var err error
		if nested {
			_, err = q.ExecContext(ctx, stmt) // prepared at Open (hotWrites)
		} else {
			_, err = tx.ExecContext(ctx, stmt) // one round trip, no prepare
		}
		return err
	}
	for _, r := range batch {
		r.seq, r.dup, r.err = 0, false, nil
		if err := exec(sqlSavepoint); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		seq, err := db.insertMessage(ctx, tx, r.m, r.created)
		if err != nil {
			if db.d.isRetryable(err) {
				return err // the database rolled the whole transaction back
			}
			if rbErr := exec(sqlRollbackSavepoint); rbErr != nil {
				return fmt.Errorf("%w; roll back to savepoint: %w", err, rbErr)
			}
			r.err = err
			r.dup = r.m.ClientMsgID != "" && db.d.isUnique(err)
		} else {
			r.seq = seq
		}
		if nested {
			if err := exec(sqlReleaseSavepoint); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
	}
	return nil
}

// insertMessage stores m with its room's next seq inside tx: the room's last seq and activity
// time, the message, its push job, the sender's read pointer and the attachments.
func (db *DB) insertMessage(ctx context.Context, sqlTx *sql.Tx, m *plop.Message, created time.Time) (int64, error) {
	tx := db.wq(sqlTx)
	var clientID any
	if m.ClientMsgID != "" {
		clientID = m.ClientMsgID
	}
	var replyTo any
	if m.ReplyTo != nil {
		replyTo = *m.ReplyTo
	}
	// The UPDATE takes the room's row lock (server databases) or runs on the one writer
	// (SQLite): concurrent senders get consecutive seqs.
	res, err := tx.ExecContext(ctx, db.d.nextSeq, ms(created), m.RoomID)
	if err := affected(res, err, "room"); err != nil {
		return 0, err
	}
	var seq int64
	if db.d.nextSeqInResult {
		if seq, err = res.LastInsertId(); err != nil {
			return 0, err
		}
	} else if err := tx.QueryRowContext(ctx, sqlLastSeq, m.RoomID).Scan(&seq); err != nil {
		return 0, err
	}
	// A send with a ClientMsgID taken since CreateMessage's check fails here on the unique
	// key; its savepoint rolls back its seq.
	if _, err := tx.ExecContext(ctx, sqlInsertMessage,
		m.ID, m.RoomID, seq, m.SenderID, m.Body, clientID, replyTo, ms(created)); err != nil {
		return 0, err
	}
	// The push job commits with the message: a crash after the commit loses no push.
	if _, err := tx.ExecContext(ctx, sqlQueuePush, m.RoomID, seq, ms(created), ms(created)); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, sqlSenderRead, seq, m.RoomID, m.SenderID, seq); err != nil {
		return 0, err
	}
	if err := linkAttachments(ctx, sqlTx, m, seq); err != nil {
		return 0, err
	}
	return seq, nil
}
