package app

import (
	"context"
	"time"
)

// sweepBatch is how many unattached uploads one store query of the sweep returns.
const sweepBatch = 100

// SweepAttachments deletes the uploads that no message took within AttachmentUnsentTTL,
// their rows first and then their blobs, and returns how many it deleted. An upload a message
// takes while the sweep runs is kept: the store deletes a row only while it is unattached.
func (a *App) SweepAttachments(ctx context.Context) (int, error) {
	cutoff := a.clock().Add(-a.cfg.AttachmentUnsentTTL)
	deleted := 0
	for {
		list, err := a.store.UnattachedAttachments(ctx, cutoff, sweepBatch)
		if err != nil {
			return deleted, err
		}
		for _, att := range list {
			ok, err := a.store.DeleteUnattached(ctx, att.ID)
			if err != nil {
				return deleted, err
			}
			if ok {
				a.deleteAttachmentBlobs(ctx, att)
				deleted++
			}
		}
		if len(list) < sweepBatch {
			return deleted, nil
		}
	}
}

// RunAttachmentSweeper runs SweepAttachments now and then every AttachmentSweepInterval
// until ctx is done, logging what it deleted and any failure. It returns when ctx is done;
// whoever starts it owns the goroutine and stops it by cancelling ctx. Several nodes may run
// it at once: each upload is deleted by one of them.
func (a *App) RunAttachmentSweeper(ctx context.Context) {
	t := time.NewTicker(a.cfg.AttachmentSweepInterval)
	defer t.Stop()
	for {
		n, err := a.SweepAttachments(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.WarnContext(ctx, "sweep unsent attachments", "deleted", n, "err", err)
		case n > 0:
			a.log.InfoContext(ctx, "swept unsent attachments", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
