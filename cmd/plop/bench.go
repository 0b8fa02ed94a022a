package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/plop-chat/plop/bench"
)

const benchUsage = `Usage:
  plop bench SCENARIO [flags]    run a load scenario and print its summary
  plop bench table FILE.json...  print saved results as a markdown table

Scenarios:
  friends   virtual users calling GET /api/v1/friends (10,000 users with 50 friends each)
  connect   a ramp to N idle STOMP sessions: connect rate and memory per session
  fanout    one sender, one room of N subscribers, stepped rates: the highest rate with p99 < 100 ms
  chat      users in direct and group rooms sending at a rate, with receipts, read receipts,
            typing and reconnects: persisted messages/s, latencies, nothing lost or doubled

By default the generator starts a fresh node in this process (SQLite in a temporary
directory); --spawn starts it as a child process, --url uses a running one. connect and
fanout take --target stomp-ws://HOST:PORT/ws to measure another STOMP broker instead.

A node at --url is seeded through the REST API: the generator reads the verification codes
from its outbox (--data-dir), and the node must take client addresses from X-Forwarded-For
so that the sign-up limit counts each seeded user apart. Start it as the generator would:
  PLOP_DATA_DIR=/tmp/plop-bench PLOP_TRUST_PROXY=true PLOP_ARGON2_MEMORY_KIB=64 \
  PLOP_ARGON2_TIME=1 PLOP_ACCESS_TOKEN_TTL=24h plop serve
  plop bench chat --url http://127.0.0.1:8080 --data-dir /tmp/plop-bench

Run "plop bench SCENARIO -h" for the knobs and their defaults.
`

// runBench runs `plop bench`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, benchUsage)
		if len(args) == 0 {
			return errors.New("bench: missing scenario")
		}
		return nil
	}
	if args[0] == "table" {
		return benchTable(args[1:], stdout)
	}
	scenario := args[0]
	cfg := bench.DefaultConfig(scenario)
	fs := flag.NewFlagSet("plop bench "+scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Flags(fs)
	asJSON := fs.Bool("json", false, "print the summary as JSON instead of a table")
	out := fs.String("out", "", "also write the summary as JSON to this file")
	report := fs.String("report", "", "write a self-contained HTML report with charts to this file")
	quiet := fs.Bool("quiet", false, "no progress lines")
	verbose := fs.Bool("v", false, "log the generator's warnings")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments: %v", fs.Args())
	}
	if cfg.Spawn {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: find the plop binary for --spawn: %w", err)
		}
		cfg.Executable = exe
	}
	cfg.Command = "plop bench " + strings.Join(args, " ")
	cfg.Progress = stderr
	if *quiet {
		cfg.Progress = io.Discard
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	res, runErr := bench.Run(ctx, cfg)
	if res == nil {
		return fmt.Errorf("bench: %w", runErr)
	}
	var err error
	if *asJSON {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteTable(stdout)
	}
	if *out != "" {
		err = errors.Join(err, writeFile(*out, res.WriteJSON))
	}
	if *report != "" {
		err = errors.Join(err, writeFile(*report, res.WriteHTML))
	}
	if runErr != nil {
		return errors.Join(fmt.Errorf("bench: %w", runErr), err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		names := make([]string, len(failed))
		for i, c := range failed {
			names[i] = c.Name
		}
		err = errors.Join(err, fmt.Errorf("bench: checks failed: %s", strings.Join(names, "; ")))
	}
	return err
}

// benchTable prints saved JSON results as one markdown table.
func benchTable(files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return errors.New("bench table: give the JSON files of the results")
	}
	var results []*bench.Result
	for _, name := range files {
		r, err := bench.ReadResult(name)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	return bench.WriteMarkdown(stdout, results)
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	return f.Close()
}
