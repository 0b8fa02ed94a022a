// Command plop is the Plop messenger server.
//
//	plop serve     run a node (embedded SQLite by default)
//	plop migrate   apply database migrations and exit
//	plop version   print the version
//	plop bench     run a load scenario against a node
//
// Every setting is an environment variable (PLOP_ADDR, PLOP_DATA_DIR, ...) and a flag of the
// subcommand (-addr, -data-dir, ...); run `plop serve -h` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "plop:", err)
		}
		os.Exit(2)
	}
}

const usage = `Plop is a self-hostable messenger server.

Usage:
  plop serve [flags]     run a node
  plop migrate [flags]   apply database migrations and exit
  plop version           print the version
  plop bench SCENARIO    run a load scenario against a node (plop bench -h)

Run "plop serve -h" for the settings; each flag has a PLOP_* environment variable.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "plop", plop.Version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "serve", "migrate":
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	cfg, err := server.FromEnv(getenv)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("plop "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	logger := server.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if args[0] == "migrate" {
		if err := server.Migrate(ctx, cfg, logger); err != nil {
			return err
		}
		logger.Info("migrations applied")
		return nil
	}
	srv, err := server.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	serveErr := srv.ListenAndServe(ctx)
	return errors.Join(serveErr, srv.Close())
}
