package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// spawnNode runs `plop serve` as a child process on a free loopback port, with the same
// settings as an in-process node, and stops it (SIGTERM, then SIGKILL) on close.
func spawnNode(ctx context.Context, cfg Config, jwtKeyFile string) (*node, error) {
	dir, cleanup, err := nodeDataDir(cfg)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		cleanup()
		return nil, err
	}
	sc := benchNodeConfig(cfg, dir, jwtKeyFile).Resolved()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// The node's settings are the generator's alone: none of this shell's PLOP_* variables
	// (an SMTP server would take the verification codes away from the outbox).
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLOP_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PLOP_ADDR="+addr,
		"PLOP_DATA_DIR="+dir,
		"PLOP_ARGON2_MEMORY_KIB="+strconv.Itoa(int(sc.Argon2MemoryKiB)),
		"PLOP_ARGON2_TIME="+strconv.Itoa(int(sc.Argon2Time)),
		"PLOP_TRUST_PROXY=true",
		"PLOP_ACCESS_TOKEN_TTL="+sc.AccessTokenTTL.String(),
		"PLOP_REFRESH_TOKEN_TTL="+sc.RefreshTokenTTL.String(),
		"PLOP_LOG_LEVEL="+sc.LogLevel,
		"PLOP_LOG_FORMAT=text",
		"PLOP_JWT_KEY_FILE="+sc.JWTKeyFile,
	)
	if cfg.DatabaseURL != "" {
		env = append(env, "PLOP_DATABASE_URL="+cfg.DatabaseURL)
	}
	if cfg.RedisURL != "" {
		env = append(env, "PLOP_REDIS_URL="+cfg.RedisURL)
	}
	logFile, err := os.Create(filepath.Join(dir, "node.log"))
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("node log: %w", err)
	}
	cmd := exec.Command(cfg.Executable, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		cleanup()
		return nil, fmt.Errorf("start %s serve: %w", cfg.Executable, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	n := &node{kind: "spawned", url: "http://" + addr, wsURL: "ws://" + addr + "/ws", dataDir: dir, pid: cmd.Process.Pid,
		jwtKeyFile: sc.JWTKeyFile}
	n.close = func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		var err error
		select {
		case err = <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			err = errors.Join(errors.New("node did not stop within 15s"), <-exited)
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == -1 {
			err = nil // ended by our signal
		}
		logFile.Close()
		cleanup()
		return err
	}
	if err := waitReady(ctx, n.url, 30*time.Second); err != nil {
		n.close()
		return nil, fmt.Errorf("%w (log in %s)", err, logFile.Name())
	}
	return n, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
