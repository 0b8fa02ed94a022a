package main

import (
	"context"
	"errors"
	"io"
)

// runBench runs `plop bench`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("bench: no scenarios are built into this binary")
}
