package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
)

// PushConfig tunes a PushWorker; zero fields take the defaults of DefaultPushConfig.
type PushConfig struct {
	// NodeID names this node in claim tokens and logs.
	NodeID string
	// Workers bounds the notifications being delivered at once.
	Workers int
	// Delay is how long a user's first unread message waits for more before it is pushed:
	// a burst becomes one notification.
	Delay time.Duration
	// Cooldown is how long after a push to a user about a room the next one waits; messages
	// meanwhile are folded into it.
	Cooldown time.Duration
	// Lease is how long a claim holds jobs and notifications; after it, another node takes
	// over the work of a node that died.
	Lease time.Duration
	// Poll is how often the queue is looked at when nothing woke the worker.
	Poll time.Duration
	// Batch bounds the jobs and the notifications claimed at once.
	Batch int
	// RetryMin and RetryMax bound the backoff after a failure: RetryMin·2ⁿ, at most RetryMax.
	RetryMin, RetryMax time.Duration
	// MaxAttempts is how often a notification is tried while push services are unavailable
	// before it is dropped.
	MaxAttempts int
	// SendTimeout bounds one delivery to one device, its retries included.
	SendTimeout time.Duration
}

// DefaultPushConfig returns the push settings Plop runs with unless told otherwise.
func DefaultPushConfig() PushConfig {
	return PushConfig{
		Workers:     4,
		Delay:       2 * time.Second,
		Cooldown:    time.Minute,
		Lease:       2 * time.Minute,
		Poll:        time.Second,
		Batch:       64,
		RetryMin:    5 * time.Second,
		RetryMax:    5 * time.Minute,
		MaxAttempts: 8,
		SendTimeout: 30 * time.Second,
	}
}

func (c PushConfig) withDefaults() PushConfig {
	d := DefaultPushConfig()
	orDefault(&c.Delay, d.Delay)
	orDefault(&c.Cooldown, d.Cooldown)
	orDefault(&c.Lease, d.Lease)
	orDefault(&c.Poll, d.Poll)
	orDefault(&c.RetryMin, d.RetryMin)
	orDefault(&c.RetryMax, d.RetryMax)
	orDefault(&c.SendTimeout, d.SendTimeout)
	orDefault(&c.Workers, d.Workers)
	orDefault(&c.Batch, d.Batch)
	orDefault(&c.MaxAttempts, d.MaxAttempts)
	if c.NodeID == "" {
		c.NodeID = "node"
	}
	if len(c.NodeID) > 24 {
		c.NodeID = c.NodeID[:24]
	}
	return c
}

// PushDeps are what a PushWorker runs on. Broker and Logger and Now are optional.
type PushDeps struct {
	Outbox   PushOutbox
	Devices  plop.DeviceStore
	Presence plop.PresenceStore
	Pusher   plop.Pusher
	// Broker, when set, wakes the worker at every message.created on any node, so that it
	// need not wait for its next poll.
	Broker plop.Broker
	Logger *slog.Logger
	Now    func() time.Time
}

// PushWorker works off the push outbox: it claims queued jobs and folds each message into
// the pending notifications of the members to notify, and it delivers the notifications that
// are due to their users' devices, Workers at a time. Every node of a cluster may run one:
// leases keep two of them from doing the same work. It owns one goroutine between Start and
// Stop, and up to Workers more while delivering.
type PushWorker struct {
	out      PushOutbox
	devices  plop.DeviceStore
	presence plop.PresenceStore
	pusher   plop.Pusher
	broker   plop.Broker
	log      *slog.Logger
	now      func() time.Time
	cfg      PushConfig

	wake  chan struct{}
	heard recentSends // messages this worker heard of from the broker

	mu       sync.Mutex
	started  bool
	stopping chan struct{}      // closed by Stop: claim nothing more
	cancel   context.CancelFunc // ends the work in flight
	done     chan struct{}      // closed when the loop has returned
}

// NewPushWorker returns a worker that has not started.
func NewPushWorker(d PushDeps, c PushConfig) (*PushWorker, error) {
	var missing []error
	for _, dep := range []struct {
		ok   bool
		name string
	}{{d.Outbox != nil, "Outbox"}, {d.Devices != nil, "Devices"}, {d.Presence != nil, "Presence"}, {d.Pusher != nil, "Pusher"}} {
		if !dep.ok {
			missing = append(missing, errors.New("push worker: missing dependency "+dep.name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &PushWorker{
		out: d.Outbox, devices: d.Devices, presence: d.Presence, pusher: d.Pusher, broker: d.Broker,
		log: d.Logger, now: d.Now, cfg: c.withDefaults(), wake: make(chan struct{}, 1),
	}, nil
}

// Start subscribes to message events (when there is a broker) and starts the worker's loop.
// The loop runs until Stop, whatever happens to ctx afterwards.
func (w *PushWorker) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("push worker: started twice")
	}
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if w.broker != nil {
		err := w.broker.Subscribe(work, func(e plop.Event) {
			if e.Type == plop.EventMessageCreated {
				w.heard.add(e)
				w.Wake()
			}
		})
		if err != nil {
			cancel()
			return fmt.Errorf("push worker: subscribe to messages: %w", err)
		}
	}
	w.started, w.cancel = true, cancel
	w.stopping, w.done = make(chan struct{}), make(chan struct{})
	go w.loop(work)
	return nil
}

// Wake makes the worker look at the queue now rather than at its next poll. It never blocks.
func (w *PushWorker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Stop stops claiming work and waits for the deliveries in flight until ctx is done; then it
// cancels them (their claims run out and another node, or the next start, redoes them).
func (w *PushWorker) Stop(ctx context.Context) error {
	w.mu.Lock()
	if !w.started {
		w.mu.Unlock()
		return nil
	}
	w.started = false
	close(w.stopping)
	w.mu.Unlock()
	var err error
	select {
	case <-w.done:
	case <-ctx.Done():
		err = fmt.Errorf("push worker: stopped before its deliveries finished: %w", ctx.Err())
	}
	w.cancel()
	<-w.done
	return err
}

// Backlog returns how many jobs are queued and how many notifications wait to be sent.
func (w *PushWorker) Backlog(ctx context.Context) (jobs, waiting int, err error) {
	return w.out.PushBacklog(ctx)
}

// loop works the queue whenever it is woken, polled or a notification falls due.
func (w *PushWorker) loop(ctx context.Context) {
	defer close(w.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-w.stopping:
			return
		case <-w.wake:
		case <-timer.C:
		}
		nextDue := w.drain(ctx)
		wait := w.cfg.Poll
		if !nextDue.IsZero() {
			wait = min(wait, max(nextDue.Sub(w.now()), 0))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// drain works batches until the queue has no more due work, and returns when the
// notifications it created fall due (zero when it created none).
func (w *PushWorker) drain(ctx context.Context) (nextDue time.Time) {
	for {
		select {
		case <-w.stopping:
			return nextDue
		default:
		}
		jobs, due := w.foldJobs(ctx)
		if !due.IsZero() && (nextDue.IsZero() || due.Before(nextDue)) {
			nextDue = due
		}
		sent := w.deliverDue(ctx)
		if jobs < w.cfg.Batch && sent < w.cfg.Batch {
			return nextDue
		}
	}
}

// newClaim returns a token unique to one claim, that names this node.
func (w *PushWorker) newClaim() string {
	return w.cfg.NodeID + "/" + uuid.NewString()
}

// backoff returns the wait after attempts failures: RetryMin·2ⁿ capped at RetryMax, with the
// upper half jittered.
func (w *PushWorker) backoff(attempts int) time.Duration {
	d := w.cfg.RetryMin << min(attempts, 20)
	if d > w.cfg.RetryMax || d <= 0 {
		d = w.cfg.RetryMax
	}
	return d/2 + rand.N(d/2+1)
}

// bookkeeping returns a context for the store writes that record work already done: they
// must happen even when the worker is being stopped.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}
