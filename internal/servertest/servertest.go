// Package servertest starts real Plop nodes for tests: the real wiring of package server on
// a loopback port, with SQLite and the outbox in a temporary directory.
package servertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop/server"
)

// Server is a running node.
type Server struct {
	URL     string // http://127.0.0.1:PORT
	WSURL   string // ws://127.0.0.1:PORT/ws
	DataDir string
	Node    *server.Server
}

// Option changes the configuration before the node starts.
type Option func(*server.Config)

// Start runs a node until the test ends. Logs go to the test log when PLOP_TEST_LOG=1.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = tb.TempDir()
	cfg.Argon2MemoryKiB = 64 // tests need speed, not resistance to cracking
	cfg.Argon2Time = 1
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.HeartBeat = 2 * time.Second // heart-beat tests need not wait long
	for _, o := range opts {
		o(&cfg)
	}
	return StartConfig(tb, cfg)
}

// StartConfig runs a node with exactly cfg (its Addr is ignored: a free loopback port is used).
func StartConfig(tb testing.TB, cfg server.Config) *Server {
	tb.Helper()
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("PLOP_TEST_LOG") == "1" {
		logger = slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	node, err := server.New(ctx, cfg, logger)
	if err != nil {
		cancel()
		tb.Fatalf("start node: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		node.Close()
		tb.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- node.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("node stopped with: %v", err)
		}
		if err := node.Close(); err != nil {
			tb.Errorf("close node: %v", err)
		}
	})
	addr := ln.Addr().String()
	return &Server{URL: "http://" + addr, WSURL: "ws://" + addr + "/ws", DataDir: node.Config().DataDir, Node: node}
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var codeSubject = regexp.MustCompile(`^(\d{6}) is your Plop code$`)

// Code returns the verification code of the newest outbox e-mail to email, waiting up to
// five seconds for it.
func (s *Server) Code(tb testing.TB, email string) string {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, err := s.newestCode(email)
		if err == nil {
			return code
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no verification code for %s: %v", email, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Mails returns how many outbox e-mails went to email.
func (s *Server) Mails(tb testing.TB, email string) int {
	tb.Helper()
	files, err := s.outbox(email)
	if err != nil {
		tb.Fatal(err)
	}
	return len(files)
}

func (s *Server) outbox(email string) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(s.DataDir, "outbox", "*.eml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names) // file names sort by time
	var mine []string
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err == nil && strings.EqualFold(to.Address, email) {
			mine = append(mine, name)
		}
	}
	return mine, nil
}

func (s *Server) newestCode(email string) (string, error) {
	files, err := s.outbox(email)
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", errors.New("no e-mail yet")
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		return "", err
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return "", err
	}
	match := codeSubject.FindStringSubmatch(subject)
	if match == nil {
		return "", fmt.Errorf("subject %q has no code", subject)
	}
	return match[1], nil
}

var userSeq atomic.Int64

// Account is a verified user with a live login.
type Account struct {
	ID           string
	Email        string
	Name         string
	Password     string
	AccessToken  string
	RefreshToken string
}

// SignupVerified signs a new user up over HTTP, reads the code from the outbox and verifies
// the account.
func (s *Server) SignupVerified(tb testing.TB, name string) Account {
	tb.Helper()
	n := userSeq.Add(1)
	acct := Account{
		Email:    fmt.Sprintf("%s.%d.%d@example.com", strings.ToLower(strings.ReplaceAll(name, " ", ".")), os.Getpid(), n),
		Name:     name,
		Password: "correct horse battery staple",
	}
	var signup struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	s.MustJSON(tb, "POST", "/api/v1/auth/signup", "", map[string]string{
		"email": acct.Email, "password": acct.Password, "name": name,
	}, http.StatusCreated, &signup)
	acct.ID = signup.User.ID
	var tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	s.MustJSON(tb, "POST", "/api/v1/auth/verify", "", map[string]string{
		"email": acct.Email, "code": s.Code(tb, acct.Email),
	}, http.StatusOK, &tokens)
	acct.AccessToken, acct.RefreshToken = tokens.AccessToken, tokens.RefreshToken
	return acct
}

// MakeFriends has a send a friend request to b and b accept it.
func (s *Server) MakeFriends(tb testing.TB, a, b Account) {
	tb.Helper()
	var req struct {
		Request struct {
			ID string `json:"id"`
		} `json:"request"`
	}
	s.MustJSON(tb, "POST", "/api/v1/friends/requests", a.AccessToken, map[string]string{"user_id": b.ID}, http.StatusCreated, &req)
	s.MustJSON(tb, "POST", "/api/v1/friends/requests/"+req.Request.ID+"/accept", b.AccessToken, nil, http.StatusOK, nil)
}

// Do sends a JSON request (body nil: none) with an optional bearer token and returns the
// status and the raw response body.
func (s *Server) Do(tb testing.TB, method, path, token string, body any) (int, []byte) {
	tb.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// MustJSON is Do that fails the test unless the status is want, and decodes the answer into
// out (when out is not nil).
func (s *Server) MustJSON(tb testing.TB, method, path, token string, body any, want int, out any) {
	tb.Helper()
	status, b := s.Do(tb, method, path, token, body)
	if status != want {
		tb.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}
