package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// reuseFile records, in a --reuse data directory, what was seeded there and the users'
// tokens, so that the next run skips seeding.
const reuseFile = "bench-seed.json"

// reuseFor is how long a recorded seed is reused: its access tokens live 24 hours.
const reuseFor = 20 * time.Hour

type reusedSeed struct {
	Key     string    `json:"key"`
	Created time.Time `json:"created"`
	Users   []*user   `json:"users"`
}

// loadSeed returns the users recorded in dir for key; ok is false when there are none to
// reuse (nothing recorded, or too old). A directory holding a different seed is an error,
// so that nothing is mixed up.
func loadSeed(dir, key string) (users []*user, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, reuseFile))
	if errors.Is(err, os.ErrNotExist) {
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			return nil, false, fmt.Errorf("--reuse %s: the directory is not empty and holds no seed of ours; give an empty or new one", dir)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("--reuse: %w", err)
	}
	var s reusedSeed
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, false, fmt.Errorf("--reuse %s: %w", reuseFile, err)
	}
	if s.Key != key {
		return nil, false, fmt.Errorf("--reuse %s holds a seed of %q, not %q: give another directory", dir, s.Key, key)
	}
	if time.Since(s.Created) > reuseFor {
		return nil, false, fmt.Errorf("--reuse %s: its seed is from %s and its tokens expire; remove the directory to seed again",
			dir, s.Created.Format(time.RFC3339))
	}
	return s.Users, true, nil
}

// saveSeed records users under key in dir.
func saveSeed(dir, key string, users []*user) error {
	b, err := json.Marshal(reusedSeed{Key: key, Created: time.Now().UTC(), Users: users})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, reuseFile), b, 0o600)
}
