package server

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/push"
	"github.com/plop-chat/plop/sqlstore"
)

// PushSettings configure push notifications. Web Push is always on (it needs no outside
// account: the VAPID key is made on first start); FCM when a service-account file is given;
// devices of a platform with no service go to the log.
type PushSettings struct {
	FCMCredentials string // PLOP_FCM_CREDENTIALS: Firebase service-account JSON file; unset: FCM devices are only logged
	FCMEndpoint    string // PLOP_FCM_ENDPOINT: base URL of the FCM API; default the real one
	VAPIDKeyFile   string // PLOP_VAPID_KEY_FILE: Web Push key (PEM); default <data dir>/keys/vapid.pem, created if missing
	VAPIDSubject   string // PLOP_VAPID_SUBJECT: contact for push services; default mailto:admin@<public URL host>
	PushWorkers    int    // PLOP_PUSH_WORKERS: deliveries at once on this node; 0: this node sends none

	// PushTuning sets the worker's timings beyond what the variables above set (tests
	// shorten them); zero fields take app.DefaultPushConfig.
	PushTuning app.PushConfig
}

// placeholderSubject is the VAPID subject when neither PLOP_VAPID_SUBJECT nor a public URL
// names one.
const placeholderSubject = "mailto:admin@plop.invalid"

func defaultPushSettings() PushSettings {
	return PushSettings{PushWorkers: app.DefaultPushConfig().Workers}
}

// resolvedPush fills in the push defaults that depend on other settings.
func (c Config) resolvedPush() PushSettings {
	p := c.PushSettings
	if p.VAPIDKeyFile == "" {
		p.VAPIDKeyFile = filepath.Join(c.DataDir, "keys", "vapid.pem")
	}
	if p.VAPIDSubject == "" {
		p.VAPIDSubject = placeholderSubject
		if u, err := url.Parse(c.PublicURL); err == nil && u.Hostname() != "" {
			p.VAPIDSubject = "mailto:admin@" + u.Hostname()
		}
	}
	return p
}

// validatePush reports the problems of the push settings.
func (c Config) validatePush() []error {
	var errs []error
	if c.FCMEndpoint != "" {
		if u, err := url.Parse(c.FCMEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("PLOP_FCM_ENDPOINT %q: want https://host[:port]", c.FCMEndpoint))
		}
	}
	if s := c.VAPIDSubject; s != "" && !strings.HasPrefix(s, "mailto:") && !strings.HasPrefix(s, "https://") {
		errs = append(errs, fmt.Errorf("PLOP_VAPID_SUBJECT %q: want mailto:address or https://url", s))
	}
	if c.PushWorkers < 0 || c.PushWorkers > 256 {
		errs = append(errs, fmt.Errorf("PLOP_PUSH_WORKERS %d: want 0 to 256", c.PushWorkers))
	}
	return errs
}

// pushFlags registers the push flags on fs.
func (c *Config) pushFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.FCMCredentials, "fcm-credentials", c.FCMCredentials, "Firebase service-account JSON file; unset logs FCM pushes (PLOP_FCM_CREDENTIALS)")
	fs.StringVar(&c.FCMEndpoint, "fcm-endpoint", c.FCMEndpoint, "base URL of the FCM API; default the real one (PLOP_FCM_ENDPOINT)")
	fs.StringVar(&c.VAPIDKeyFile, "vapid-key-file", c.VAPIDKeyFile, "Web Push VAPID key (PEM); default <data dir>/keys/vapid.pem, created if missing (PLOP_VAPID_KEY_FILE)")
	fs.StringVar(&c.VAPIDSubject, "vapid-subject", c.VAPIDSubject, "contact given to push services: mailto: or https: URL (PLOP_VAPID_SUBJECT)")
	fs.IntVar(&c.PushWorkers, "push-workers", c.PushWorkers, "push deliveries at once on this node; 0 sends none from it (PLOP_PUSH_WORKERS)")
}

// pushFromEnv reads the PLOP_* push variables into c.
func (c *Config) pushFromEnv(getenv func(string) string) []error {
	var errs []error
	for name, dst := range map[string]*string{
		"PLOP_FCM_CREDENTIALS": &c.FCMCredentials,
		"PLOP_FCM_ENDPOINT":    &c.FCMEndpoint,
		"PLOP_VAPID_KEY_FILE":  &c.VAPIDKeyFile,
		"PLOP_VAPID_SUBJECT":   &c.VAPIDSubject,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if v := getenv("PLOP_PUSH_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PLOP_PUSH_WORKERS: %w", err))
		}
		c.PushWorkers = n
	}
	return errs
}

// startPush builds the push senders and, unless PushWorkers is 0, starts this node's push
// worker, stopped by Close. It returns the Web Push public key.
func (s *Server) startPush(ctx context.Context, db *sqlstore.DB, sh shared) (webPushKey string, err error) {
	cfg := s.cfg
	vapid, err := push.LoadOrCreateVAPID(cfg.VAPIDKeyFile)
	if err != nil {
		return "", fmt.Errorf("web push key: %w", err)
	}
	if cfg.VAPIDSubject == placeholderSubject {
		s.log.Warn("web push: set PLOP_VAPID_SUBJECT (or PLOP_PUBLIC_URL) to a contact address; some push services refuse a placeholder",
			"subject", cfg.VAPIDSubject)
	}
	webPush := push.NewWebPush(vapid, cfg.VAPIDSubject, nil, s.log)
	var fcm push.Sender // nil: FCM devices go to the log
	if cfg.FCMCredentials != "" {
		f, err := push.LoadFCM(cfg.FCMCredentials, cfg.FCMEndpoint, nil, s.log)
		if err != nil {
			return "", err
		}
		fcm = f
	} else {
		s.log.Info("push: no PLOP_FCM_CREDENTIALS; notifications to Android and iOS apps are logged, not sent")
	}
	if cfg.PushWorkers == 0 {
		s.log.Info("push: PLOP_PUSH_WORKERS=0; this node sends no push notifications (other nodes do)")
		return vapid.PublicKey(), nil
	}
	pc := cfg.PushTuning
	pc.NodeID, pc.Workers = cfg.NodeID, cfg.PushWorkers
	w, err := app.NewPushWorker(app.PushDeps{
		Outbox:   db,
		Devices:  db,
		Presence: sh.presence,
		Pusher:   push.NewMux(fcm, webPush, push.NewLogSender(s.log)),
		Broker:   sh.broker,
		Logger:   s.log,
	}, pc)
	if err != nil {
		return "", err
	}
	if err := w.Start(ctx); err != nil {
		return "", err
	}
	s.push = w
	s.closers = append(s.closers, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		return w.Stop(sctx)
	})
	return vapid.PublicKey(), nil
}

// PushWorker returns this node's push worker, nil when PLOP_PUSH_WORKERS is 0.
func (s *Server) PushWorker() *app.PushWorker { return s.push }
