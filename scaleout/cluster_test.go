package scaleout

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop/auth"
)

// cluster is Plop as operators scale it out: nodes on one MariaDB and one Redis, behind
// nginx. Everything it starts is private to the test and ends with it.
type cluster struct {
	dir   string
	keys  string // the directory of the keys every node shares
	redis *redisServer
	db    *mariaDB
	nodes []*node
	lb    *nginxServer
	http  *http.Client
}

// node is one `plop serve` process.
type node struct {
	id      string // PLOP_NODE_ID
	addr    string // host:port it listens on
	dataDir string
	proc    *proc
}

// URL is the node's own address, bypassing nginx.
func (n *node) URL() string { return "http://" + n.addr }

// startCluster starts a private Redis and MariaDB, n nodes and nginx in front of them.
func startCluster(tb testing.TB, n int) *cluster {
	tb.Helper()
	// Look for every tool first, so that a laptop without one skips before starting anything.
	requireTool(tb, "the shared broker, presence and limits", "redis-server")
	requireTool(tb, "a private MariaDB", "mariadbd", "mysqld")
	requireTool(tb, "a private MariaDB", "mariadb-install-db", "mysql_install_db")
	requireTool(tb, "the load balancer in front of the nodes", "nginx")
	bin := plopBinary(tb)

	dir := tb.TempDir()
	c := &cluster{dir: dir, http: &http.Client{Timeout: 15 * time.Second}}
	c.redis = startRedis(tb, dir)
	c.db = startMariaDB(tb, dir)

	// Every node must sign and check the same access tokens, hash verification codes with the
	// same secret and sign Web Push with the same key: operators share the keys between nodes
	// (see docs/operations.md). The code secret defaults to the file beside the JWT key, so
	// pointing every node at one keys directory shares both.
	c.keys = filepath.Join(dir, "keys")
	if _, err := auth.LoadOrCreateKeySet(filepath.Join(c.keys, "jwt-ed25519.pem")); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		nd := &node{id: fmt.Sprintf("node%d", i+1), dataDir: filepath.Join(dir, fmt.Sprintf("node%d", i+1))}
		if err := os.MkdirAll(filepath.Join(nd.dataDir, "keys"), 0o700); err != nil {
			tb.Fatal(err)
		}
		c.nodes = append(c.nodes, nd)
	}
	// The first node applies the migrations alone; the others then start at once.
	c.startNode(tb, bin, c.nodes[0])
	for _, nd := range c.nodes[1:] {
		c.spawnNode(tb, bin, nd)
	}
	addrs := make([]string, n)
	for i, nd := range c.nodes {
		c.awaitNode(tb, nd)
		addrs[i] = nd.addr
	}
	c.lb = startNginx(tb, dir, addrs)
	return c
}

// URL is the cluster's address: nginx.
func (c *cluster) URL() string { return c.lb.URL() }

// WSURL is the cluster's STOMP endpoint, through nginx.
func (c *cluster) WSURL() string { return c.lb.WSURL() }

func (c *cluster) startNode(tb testing.TB, bin string, nd *node) {
	tb.Helper()
	c.spawnNode(tb, bin, nd)
	c.awaitNode(tb, nd)
}

func (c *cluster) spawnNode(tb testing.TB, bin string, nd *node) {
	tb.Helper()
	env := childEnv(
		"PLOP_ADDR=127.0.0.1:0",
		"PLOP_DATA_DIR="+nd.dataDir,
		"PLOP_DATABASE_URL="+c.db.URL(),
		"PLOP_REDIS_URL="+c.redis.URL(),
		"PLOP_NODE_ID="+nd.id,
		"PLOP_JWT_KEY_FILE="+filepath.Join(c.keys, "jwt-ed25519.pem"),
		"PLOP_VAPID_KEY_FILE="+filepath.Join(c.keys, "vapid.pem"), // the first node creates it
		"PLOP_TRUST_PROXY=true",
		"PLOP_ARGON2_MEMORY_KIB=64",
		"PLOP_ARGON2_TIME=1",
		"PLOP_LOG_FORMAT=json",
		"PLOP_LOG_LEVEL=info",
		"PLOP_SHUTDOWN_TIMEOUT=5s",
	)
	nd.proc = startProc(tb, nd.id, filepath.Join(c.dir, nd.id+".log"), env, bin, "serve")
}

// awaitNode waits for the node's "plop listening" line, then for /readyz to answer 200.
func (c *cluster) awaitNode(tb testing.TB, nd *node) {
	tb.Helper()
	waitFor(tb, 60*time.Second, nd.id+" listening", nd.proc, func() error {
		addr, err := listenAddr(nd.proc.logPath)
		nd.addr = addr
		return err
	})
	waitFor(tb, 20*time.Second, nd.id+" ready", nd.proc, func() error {
		resp, err := c.http.Get(nd.URL() + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %d", resp.StatusCode)
		}
		return nil
	})
}

// listenAddr finds the address in the node's "plop listening" log line.
func listenAddr(logPath string) (string, error) {
	f, err := os.Open(logPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "plop listening" && line.Addr != "" {
			return line.Addr, nil
		}
	}
	return "", fmt.Errorf("no \"plop listening\" line yet")
}

// nodeOfRequest returns the index of the node whose access log has the request id, waiting
// a little for the line to be written.
func (c *cluster) nodeOfRequest(requestID string) (int, error) {
	i, _, err := c.requestLog(requestID)
	return i, err
}

// requestLog returns the node that logged the request with requestID, and its log line.
func (c *cluster) requestLog(requestID string) (node int, line string, err error) {
	needle := `"request_id":"` + requestID + `"`
	err = poll(5*time.Second, nil, func() error {
		for i, nd := range c.nodes {
			for _, l := range strings.Split(nd.proc.log(), "\n") {
				if strings.Contains(l, needle) {
					node, line = i, l
					return nil
				}
			}
		}
		return fmt.Errorf("no node logged request %s", requestID)
	})
	return node, line, err
}

// alive returns the indexes of the nodes still running.
func (c *cluster) alive() []int {
	var out []int
	for i, nd := range c.nodes {
		if !nd.proc.exited() {
			out = append(out, i)
		}
	}
	return out
}

// nodeLogs returns every node's log, for assertions on what the nodes wrote.
func (c *cluster) nodeLogs() string {
	var b strings.Builder
	for _, nd := range c.nodes {
		b.WriteString(nd.proc.log())
	}
	return b.String()
}
