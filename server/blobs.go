package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/blob"
)

// blobStore returns where profile images and attachments live: the S3-compatible bucket of
// PLOP_S3_URL when it is set, else files under <data dir>/blobs. Several nodes need the
// bucket (or one shared mount of the data dir): a file stored on one node's disk is not found
// by the others.
func (s *Server) blobStore(ctx context.Context) (plop.BlobStore, error) {
	if s.cfg.S3URL != "" {
		st, err := blob.NewS3(ctx, s.cfg.S3URL)
		if err != nil {
			return nil, fmt.Errorf("blob store %s: %w", redactURL(s.cfg.S3URL), err)
		}
		return st, nil
	}
	if s.cfg.RedisURL != "" {
		s.log.Warn("several nodes share Redis but keep images and files on their own disks; set PLOP_S3_URL so that every node finds them",
			"dir", filepath.Join(s.cfg.DataDir, "blobs"))
	}
	d, err := blob.NewDisk(filepath.Join(s.cfg.DataDir, "blobs"))
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	return d, nil
}

// staleSpool is the age past which a staged upload is left over from a node that stopped
// in the middle of storing it.
const staleSpool = 24 * time.Hour

// spoolDir creates <data dir>/spool, where uploaded files are staged before they are stored,
// and removes what an earlier run left there.
func (s *Server) spoolDir() (string, error) {
	dir := filepath.Join(s.cfg.DataDir, "spool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("upload spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("upload spool: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && info.Mode().IsRegular() && strings.HasPrefix(e.Name(), "upload-") && time.Since(info.ModTime()) > staleSpool {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return dir, nil
}

// startAttachmentSweeper runs the services' sweep of uploads that no message took, in a
// goroutine that Close stops and waits for.
func (s *Server) startAttachmentSweeper() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.app.RunAttachmentSweeper(ctx)
	}()
	s.closers = append(s.closers, func() error {
		cancel()
		<-done
		return nil
	})
}
