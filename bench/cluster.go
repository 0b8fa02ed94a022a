package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// cluster is the Plop nodes under load: one, or several sharing a database and Redis.
// Users, sessions and virtual users spread over them in turn; seeding goes through the
// first.
type cluster []*node

func (c cluster) first() *node { return c[0] }

// pick returns the node of user, session or virtual user i.
func (c cluster) pick(i int) *node { return c[i%len(c)] }

// describe names the nodes for the reports.
func (c cluster) describe(cfg Config) string {
	store := "sqlite"
	if cfg.DatabaseURL != "" {
		store = redactURL(cfg.DatabaseURL)
	}
	if cfg.RedisURL != "" {
		store += ", " + redactURL(cfg.RedisURL)
	}
	n := c.first()
	if n.kind == "url" {
		urls := make([]string, len(c))
		for i, m := range c {
			urls[i] = m.url
		}
		if len(c) == 1 {
			return "node at " + n.url
		}
		return "nodes at " + strings.Join(urls, ", ")
	}
	what := n.kind + " node"
	if len(c) > 1 {
		what = fmt.Sprintf("%d %s nodes", len(c), n.kind)
	}
	return what + " (" + store + ")"
}

// inProcess reports whether the nodes run in this process.
func (c cluster) inProcess() bool { return c.first().kind == "in-process" }

// memory returns the nodes' memory, summed; nodes in this process are read once.
func (c cluster) memory(ctx context.Context) (memSample, error) {
	if c.inProcess() {
		return nodeMemory(ctx, c.first())
	}
	var sum memSample
	var errs []error
	for _, n := range c {
		m, err := nodeMemory(ctx, n)
		if err != nil {
			errs = append(errs, err)
		}
		sum = sum.add(m)
	}
	return sum, errors.Join(errs...)
}

// close stops the nodes the generator started, the last first.
func (c cluster) close() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i].close())
	}
	return errors.Join(errs...)
}

// startCluster returns the nodes the configuration names: those at the --url list, or
// Nodes fresh ones, each after the first sharing its signing key.
func startCluster(ctx context.Context, cfg Config) (cluster, error) {
	if cfg.URL != "" {
		var c cluster
		for i, u := range strings.Split(cfg.URL, ",") {
			dataDir := ""
			if i == 0 {
				dataDir = cfg.DataDir
			}
			n, err := nodeAt(cfg, strings.TrimSpace(u), dataDir)
			if err != nil {
				return nil, err
			}
			c = append(c, n)
		}
		return c, nil
	}
	var c cluster
	for i := range max(cfg.Nodes, 1) {
		key := ""
		if i > 0 {
			key = c.first().jwtKeyFile
		}
		var n *node
		var err error
		if cfg.Spawn {
			n, err = spawnNode(ctx, cfg, key)
		} else {
			n, err = startInProcess(ctx, cfg, key)
		}
		if err != nil {
			return nil, errors.Join(err, c.close())
		}
		c = append(c, n)
	}
	return c, nil
}
