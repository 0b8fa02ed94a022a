package server

import (
	"flag"
	"strings"
	"testing"
)

func TestPushSettings(t *testing.T) {
	env := map[string]string{
		"PLOP_DATA_DIR":        "/srv/plop",
		"PLOP_PUBLIC_URL":      "https://chat.example.com",
		"PLOP_FCM_CREDENTIALS": "/etc/plop/firebase.json",
		"PLOP_FCM_ENDPOINT":    "https://fcm.example.com",
		"PLOP_PUSH_WORKERS":    "2",
	}
	cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse([]string{"-push-workers", "6"}); err != nil {
		t.Fatal(err)
	}
	cfg = cfg.Resolved()
	if cfg.FCMCredentials != "/etc/plop/firebase.json" || cfg.FCMEndpoint != "https://fcm.example.com" || cfg.PushWorkers != 6 {
		t.Errorf("fcm %q at %q, %d workers", cfg.FCMCredentials, cfg.FCMEndpoint, cfg.PushWorkers)
	}
	if cfg.VAPIDKeyFile != "/srv/plop/keys/vapid.pem" || cfg.VAPIDSubject != "mailto:admin@chat.example.com" {
		t.Errorf("vapid key %q, subject %q", cfg.VAPIDKeyFile, cfg.VAPIDSubject)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid configuration refused: %v", err)
	}

	// Defaults: four workers, a placeholder subject without a public URL.
	d := DefaultConfig().Resolved()
	if d.PushWorkers != 4 || d.VAPIDSubject != placeholderSubject || d.FCMCredentials != "" {
		t.Errorf("defaults: %d workers, subject %q, fcm %q", d.PushWorkers, d.VAPIDSubject, d.FCMCredentials)
	}

	bad := DefaultConfig()
	bad.FCMEndpoint, bad.VAPIDSubject, bad.PushWorkers = "fcm.example.com", "admin@example.com", -1
	err = bad.Resolved().Validate()
	for _, name := range []string{"PLOP_FCM_ENDPOINT", "PLOP_VAPID_SUBJECT", "PLOP_PUSH_WORKERS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s not reported: %v", name, err)
		}
	}
	if _, err := FromEnv(func(k string) string { return map[string]string{"PLOP_PUSH_WORKERS": "many"}[k] }); err == nil ||
		!strings.Contains(err.Error(), "PLOP_PUSH_WORKERS") {
		t.Errorf("a malformed PLOP_PUSH_WORKERS: %v", err)
	}
}
