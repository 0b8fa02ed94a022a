// Package app holds Plop's rules: who may see, send, add and remove, and what happens after a
// change is stored (events to the broker, e-mails, pushes). Services take a context and the
// acting user's id; they never touch HTTP or STOMP, and they reach the outside world only
// through the small interfaces of package plop and the ones declared here.
package app

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/auth"
)

// PasswordHasher hashes and checks passwords.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(password, hash string) (bool, error)
	// DummyVerify takes as long as Verify, for logins on unknown accounts.
	DummyVerify(password string)
}

// TokenIssuer signs and checks access tokens.
type TokenIssuer interface {
	Issue(userID, sessionID string, now time.Time) (token string, expiresAt time.Time, err error)
	Verify(token string, now time.Time) (auth.Claims, error)
}

// CodeHasher hashes e-mail verification codes.
type CodeHasher interface {
	Hash(email, code string) string
	Equal(email, code, hash string) bool
}

// Store is the relational persistence the services use; one SQL store implements it all.
type Store interface {
	plop.UserStore
	plop.FriendStore
	plop.BlockStore
	plop.RoomStore
	plop.MessageStore
	plop.DeviceStore
	plop.AttachmentStore
}

// Deps are the adapters the services run on. Every field is required but Logger, Now, and
// Sessions and VerificationCodes, which default to Store when it implements them.
type Deps struct {
	Store             Store
	Sessions          plop.SessionStore
	VerificationCodes plop.CodeStore
	Presence          plop.PresenceStore
	Broker            plop.Broker
	Limiter           plop.Limiter
	Blobs             plop.BlobStore
	Mailer            plop.Mailer
	Passwords         PasswordHasher
	Tokens            TokenIssuer
	Codes             CodeHasher
	Logger            *slog.Logger
	Now               func() time.Time
}

// Config tunes the services; zero fields take the defaults of DefaultConfig.
type Config struct {
	AccessTokenTTL  time.Duration // lifetime of a JWT access token
	RefreshTokenTTL time.Duration // lifetime of a refresh token (each rotation renews it)
	CodeTTL         time.Duration // lifetime of an e-mailed verification code
	CodeMaxAttempts int           // wrong tries that spend a code
	ResendInterval  time.Duration // minimum time between two codes to one address
	// Rate limits: per account and per client address, over one window.
	LoginPerAccount int
	LoginPerAddress int
	LimitWindow     time.Duration
	// AvatarMaxBytes bounds an uploaded profile image; AvatarMaxDim its stored size in pixels.
	AvatarMaxBytes int64
	AvatarMaxDim   int
	// MaxGroupMembers bounds the size of a group room.
	MaxGroupMembers int
	// TypingInterval is the shortest time between two typing events relayed per user and room.
	TypingInterval time.Duration
	// PublicURL, when set, makes media URLs absolute (https://chat.example.com).
	PublicURL string
	// AttachmentImageMaxBytes bounds an image sent in a conversation, AttachmentFileMaxBytes
	// any other file. AttachmentUnsentTTL is how long an upload that no message took is
	// kept; SweepAttachments runs every AttachmentSweepInterval (see RunAttachmentSweeper).
	AttachmentImageMaxBytes int64
	AttachmentFileMaxBytes  int64
	AttachmentUnsentTTL     time.Duration
	AttachmentSweepInterval time.Duration
	// SpoolDir is where uploaded files are staged before they are stored; "" is the
	// system's temporary directory.
	SpoolDir string
	// WebPushKey is the VAPID public key browsers subscribe with; "" when Web Push is off.
	WebPushKey string
	// FriendsCacheSize bounds the friends cache (see StartFriendsCache) in friend entries
	// summed over the cached lists, each list counting one more; a negative size turns the
	// cache off. An entry takes some tens of bytes plus its share of the profiles, which
	// the lists of all users share. FriendsCacheTTL is how long a list may be served
	// before it is read again, a bound on staleness should an invalidation from another
	// node be lost.
	FriendsCacheSize int
	FriendsCacheTTL  time.Duration
}

// DefaultConfig returns the configuration Plop runs with unless told otherwise.
func DefaultConfig() Config {
	return Config{
		AccessTokenTTL:  15 * time.Minute,
		RefreshTokenTTL: 30 * 24 * time.Hour,
		CodeTTL:         10 * time.Minute,
		CodeMaxAttempts: 5,
		ResendInterval:  time.Minute,
		LoginPerAccount: 10,
		LoginPerAddress: 50,
		LimitWindow:     15 * time.Minute,
		AvatarMaxBytes:  10 << 20,
		AvatarMaxDim:    512,
		MaxGroupMembers: 1000,
		TypingInterval:  2 * time.Second,

		AttachmentImageMaxBytes: 20 << 20,
		AttachmentFileMaxBytes:  50 << 20,
		AttachmentUnsentTTL:     24 * time.Hour,
		AttachmentSweepInterval: time.Hour,

		FriendsCacheSize: 1_000_000,
		FriendsCacheTTL:  30 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	orDefault(&c.AccessTokenTTL, d.AccessTokenTTL)
	orDefault(&c.RefreshTokenTTL, d.RefreshTokenTTL)
	orDefault(&c.CodeTTL, d.CodeTTL)
	orDefault(&c.ResendInterval, d.ResendInterval)
	orDefault(&c.LimitWindow, d.LimitWindow)
	orDefault(&c.TypingInterval, d.TypingInterval)
	orDefault(&c.AttachmentUnsentTTL, d.AttachmentUnsentTTL)
	orDefault(&c.AttachmentSweepInterval, d.AttachmentSweepInterval)
	orDefault(&c.AttachmentImageMaxBytes, d.AttachmentImageMaxBytes)
	orDefault(&c.AttachmentFileMaxBytes, d.AttachmentFileMaxBytes)
	orDefault(&c.CodeMaxAttempts, d.CodeMaxAttempts)
	orDefault(&c.LoginPerAccount, d.LoginPerAccount)
	orDefault(&c.LoginPerAddress, d.LoginPerAddress)
	orDefault(&c.AvatarMaxBytes, d.AvatarMaxBytes)
	orDefault(&c.AvatarMaxDim, d.AvatarMaxDim)
	orDefault(&c.MaxGroupMembers, d.MaxGroupMembers)
	orDefault(&c.FriendsCacheTTL, d.FriendsCacheTTL)
	if c.FriendsCacheSize == 0 {
		c.FriendsCacheSize = d.FriendsCacheSize
	}
	return c
}

// orDefault replaces a zero or negative setting with its default.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// App is the service layer. It is safe for concurrent use.
type App struct {
	store     Store
	sessions  plop.SessionStore
	vcodes    plop.CodeStore
	presence  plop.PresenceStore
	broker    plop.Broker
	limiter   plop.Limiter
	blobs     plop.BlobStore
	mailer    plop.Mailer
	passwords PasswordHasher
	tokens    TokenIssuer
	codes     CodeHasher
	log       *slog.Logger
	now       func() time.Time
	cfg       Config
	revoked   revocations
	// friendsCache holds friends lists for AppendFriendsJSON (friends_cache.go).
	friendsCache *friendsCache
	// photos bounds how many uploaded images are decoded at once: a large one takes
	// hundreds of megabytes while it is processed.
	photos chan struct{}
}

// New returns the services running on d with configuration c.
func New(d Deps, c Config) (*App, error) {
	var missing []error
	need := func(ok bool, name string) {
		if !ok {
			missing = append(missing, errors.New("app: missing dependency "+name))
		}
	}
	need(d.Store != nil, "Store")
	if d.Sessions == nil {
		d.Sessions, _ = d.Store.(plop.SessionStore)
	}
	if d.VerificationCodes == nil {
		d.VerificationCodes, _ = d.Store.(plop.CodeStore)
	}
	need(d.Sessions != nil, "Sessions")
	need(d.VerificationCodes != nil, "VerificationCodes")
	need(d.Presence != nil, "Presence")
	need(d.Broker != nil, "Broker")
	need(d.Limiter != nil, "Limiter")
	need(d.Blobs != nil, "Blobs")
	need(d.Mailer != nil, "Mailer")
	need(d.Passwords != nil, "Passwords")
	need(d.Tokens != nil, "Tokens")
	need(d.Codes != nil, "Codes")
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	c = c.withDefaults()
	return &App{
		friendsCache: newFriendsCache(c.FriendsCacheSize, c.FriendsCacheTTL),
		store:        d.Store, sessions: d.Sessions, vcodes: d.VerificationCodes, presence: d.Presence, broker: d.Broker, limiter: d.Limiter,
		blobs: d.Blobs, mailer: d.Mailer, passwords: d.Passwords, tokens: d.Tokens,
		codes: d.Codes, log: d.Logger, now: d.Now, cfg: c,
		photos: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}, nil
}

// clock returns the current time at store precision.
func (a *App) clock() time.Time { return plop.UTC(a.now()) }

// Ping reports whether the store answers, for readiness checks.
func (a *App) Ping(ctx context.Context) error {
	type pinger interface{ Ping(context.Context) error }
	if p, ok := a.store.(pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}
