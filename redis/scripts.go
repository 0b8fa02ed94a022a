package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// scriptCall is one run of a script in a pipeline.
type scriptCall struct {
	keys []string
	args []any
}

// runPipelined runs s once per call in one round trip and returns the commands in the order
// of calls. The calls must be safe to repeat: when the server has lost its script cache (it
// restarted), the script is loaded and every call is sent again.
func (c *Client) runPipelined(ctx context.Context, s *goredis.Script, calls []scriptCall) ([]*goredis.Cmd, error) {
	run := func() ([]*goredis.Cmd, error) {
		cmds := make([]*goredis.Cmd, len(calls))
		_, err := c.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, call := range calls {
				cmds[i] = s.EvalSha(ctx, p, call.keys, call.args...)
			}
			return nil
		})
		return cmds, err
	}
	cmds, err := run()
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := s.Load(ctx, c.rdb).Err(); err != nil {
			return nil, err
		}
		cmds, err = run()
	}
	return cmds, err
}
