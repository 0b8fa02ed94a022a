package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/auth"
)

// Signup creates an unverified account and e-mails it a verification code.
// Returns invalid_argument, conflict (e-mail taken) or rate_limited.
func (a *App) Signup(ctx context.Context, in SignupInput, clientAddr string) (plop.User, error) {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return plop.User{}, err
	}
	name, err := cleanText("name", in.Name, 1, 64)
	if err != nil {
		return plop.User{}, err
	}
	if err := checkPassword(in.Password); err != nil {
		return plop.User{}, err
	}
	if err := a.allow(ctx, "signup:addr:"+clientAddr, 20, time.Hour); err != nil {
		return plop.User{}, err
	}
	hash, err := a.passwords.Hash(in.Password)
	if err != nil {
		return plop.User{}, fmt.Errorf("hash password: %w", err)
	}
	u := plop.User{
		ID:           uuid.Must(uuid.NewV7()).String(),
		Email:        email,
		Name:         name,
		PasswordHash: hash,
		CreatedAt:    a.clock(),
	}
	if err := a.store.CreateUser(ctx, &u); err != nil {
		if plop.ErrorCode(err) == plop.EConflict {
			return plop.User{}, plop.Errorf(plop.EConflict, "an account with this e-mail already exists")
		}
		return plop.User{}, fmt.Errorf("create user: %w", err)
	}
	if err := a.sendCode(ctx, email); err != nil {
		return plop.User{}, err
	}
	return a.withAvatarURL(u), nil
}

// sendCode stores a fresh code for email (replacing any earlier one) and e-mails it.
func (a *App) sendCode(ctx context.Context, email string) error {
	code := auth.NewCode()
	now := a.clock()
	err := a.vcodes.SaveCode(ctx, plop.VerificationCode{
		Email:     email,
		CodeHash:  a.codes.Hash(email, code),
		ExpiresAt: now.Add(a.cfg.CodeTTL),
		SentAt:    now,
	})
	if err != nil {
		return fmt.Errorf("save verification code: %w", err)
	}
	minutes := int(a.cfg.CodeTTL / time.Minute)
	err = a.mailer.Send(ctx, plop.Mail{
		To:      email,
		Subject: code + " is your Plop code",
		Text: fmt.Sprintf("Your Plop verification code is %s.\n\nIt expires in %d minutes. "+
			"If you did not sign up for Plop, ignore this e-mail.\n", code, minutes),
	})
	if err != nil {
		return fmt.Errorf("send verification code: %w", err)
	}
	return nil
}

// errBadCode is the one answer to every wrong, spent or unknown code, so that it tells
// nothing about which accounts exist.
var errBadCode = plop.Errorf(plop.EInvalid, "the code is wrong or has expired")

// Verify checks an e-mailed code, marks the account verified and logs it in.
// Returns invalid_argument (wrong, expired or spent code) or rate_limited.
func (a *App) Verify(ctx context.Context, email, code, clientAddr string) (Tokens, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return Tokens{}, err
	}
	if len(code) != 6 {
		return Tokens{}, plop.Errorf(plop.EInvalid, "the code has 6 digits")
	}
	if err := a.allow(ctx, "verify:addr:"+clientAddr, a.cfg.LoginPerAddress, a.cfg.LimitWindow); err != nil {
		return Tokens{}, err
	}
	if err := a.allow(ctx, "verify:acct:"+email, a.cfg.LoginPerAccount, a.cfg.LimitWindow); err != nil {
		return Tokens{}, err
	}
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return Tokens{}, errBadCode
		}
		return Tokens{}, fmt.Errorf("load user: %w", err)
	}
	vc, err := a.vcodes.Code(ctx, email)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return Tokens{}, errBadCode
		}
		return Tokens{}, fmt.Errorf("load code: %w", err)
	}
	now := a.clock()
	if !now.Before(vc.ExpiresAt) || vc.Attempts >= a.cfg.CodeMaxAttempts {
		if err := a.vcodes.DeleteCode(ctx, email); err != nil {
			return Tokens{}, fmt.Errorf("delete code: %w", err)
		}
		return Tokens{}, errBadCode
	}
	if !a.codes.Equal(email, code, vc.CodeHash) {
		n, err := a.vcodes.AddCodeAttempt(ctx, email)
		if err != nil {
			return Tokens{}, fmt.Errorf("count code attempt: %w", err)
		}
		if n >= a.cfg.CodeMaxAttempts {
			if err := a.vcodes.DeleteCode(ctx, email); err != nil {
				return Tokens{}, fmt.Errorf("delete code: %w", err)
			}
		}
		return Tokens{}, errBadCode
	}
	if err := a.vcodes.DeleteCode(ctx, email); err != nil {
		return Tokens{}, fmt.Errorf("delete code: %w", err)
	}
	verified := true
	u, err = a.store.UpdateUser(ctx, u.ID, plop.UserUpdate{Verified: &verified})
	if err != nil {
		return Tokens{}, fmt.Errorf("mark verified: %w", err)
	}
	return a.startSession(ctx, u)
}

// ResendCode e-mails a new code to an unverified account. It answers the same whether or not
// the account exists. Returns rate_limited.
func (a *App) ResendCode(ctx context.Context, email, clientAddr string) error {
	email, err := normalizeEmail(email)
	if err != nil {
		return err
	}
	if err := a.allow(ctx, "resend:addr:"+clientAddr, 20, time.Hour); err != nil {
		return err
	}
	if err := a.allow(ctx, "resend:acct:"+email, 1, a.cfg.ResendInterval); err != nil {
		return err
	}
	if err := a.allow(ctx, "resend:acct-hour:"+email, 5, time.Hour); err != nil {
		return err
	}
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return nil
		}
		return fmt.Errorf("load user: %w", err)
	}
	if u.Verified {
		return nil
	}
	return a.sendCode(ctx, email)
}

// Login checks a password and starts a session.
// Returns unauthenticated (wrong e-mail or password), forbidden (not verified), rate_limited.
func (a *App) Login(ctx context.Context, email, password, clientAddr string) (Tokens, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return Tokens{}, err
	}
	if err := a.allow(ctx, "login:addr:"+clientAddr, a.cfg.LoginPerAddress, a.cfg.LimitWindow); err != nil {
		return Tokens{}, err
	}
	if err := a.allow(ctx, "login:acct:"+email, a.cfg.LoginPerAccount, a.cfg.LimitWindow); err != nil {
		return Tokens{}, err
	}
	wrong := plop.Errorf(plop.EUnauthenticated, "wrong e-mail or password")
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			a.passwords.DummyVerify(password)
			return Tokens{}, wrong
		}
		return Tokens{}, fmt.Errorf("load user: %w", err)
	}
	ok, err := a.passwords.Verify(password, u.PasswordHash)
	if err != nil {
		return Tokens{}, fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return Tokens{}, wrong
	}
	if !u.Verified {
		return Tokens{}, plop.Errorf(plop.EForbidden, "verify your e-mail address first")
	}
	return a.startSession(ctx, u)
}

// startSession opens a new login (refresh token family) for u.
func (a *App) startSession(ctx context.Context, u plop.User) (Tokens, error) {
	now := a.clock()
	refresh, hash := auth.NewOpaqueToken()
	s := plop.Session{
		ID:        uuid.Must(uuid.NewV7()).String(),
		UserID:    u.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(a.cfg.RefreshTokenTTL),
	}
	if err := a.sessions.CreateSession(ctx, s, hash); err != nil {
		return Tokens{}, fmt.Errorf("create session: %w", err)
	}
	return a.tokensFor(u, s.ID, refresh, now)
}

func (a *App) tokensFor(u plop.User, sessionID, refresh string, now time.Time) (Tokens, error) {
	access, exp, err := a.tokens.Issue(u.ID, sessionID, now)
	if err != nil {
		return Tokens{}, fmt.Errorf("issue access token: %w", err)
	}
	return Tokens{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    "Bearer",
		ExpiresIn:    int(exp.Sub(now).Round(time.Second) / time.Second),
		User:         a.withAvatarURL(u),
	}, nil
}

// Refresh spends a refresh token and returns new tokens. Presenting a spent token revokes
// every token of its login. Returns unauthenticated.
func (a *App) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	if refreshToken == "" || len(refreshToken) > 256 {
		return Tokens{}, plop.Errorf(plop.EUnauthenticated, "invalid refresh token")
	}
	now := a.clock()
	next, nextHash := auth.NewOpaqueToken()
	s, err := a.sessions.RotateRefreshToken(ctx, auth.HashOpaqueToken(refreshToken), nextHash, now.Add(a.cfg.RefreshTokenTTL), now)
	if err != nil {
		if errors.Is(err, plop.ErrRefreshTokenReused) && s.ID != "" {
			a.log.WarnContext(ctx, "refresh token reused; session revoked", "session_id", s.ID, "user_id", s.UserID)
			a.loginEnded(ctx, s.ID)
		}
		return Tokens{}, err
	}
	u, err := a.store.UserByID(ctx, s.UserID)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return Tokens{}, plop.Errorf(plop.EUnauthenticated, "invalid refresh token")
		}
		return Tokens{}, fmt.Errorf("load user: %w", err)
	}
	return a.tokensFor(u, s.ID, next, now)
}

// Logout revokes the login that refreshToken belongs to. Returns unauthenticated.
func (a *App) Logout(ctx context.Context, refreshToken string) error {
	if refreshToken == "" || len(refreshToken) > 256 {
		return plop.Errorf(plop.EUnauthenticated, "invalid refresh token")
	}
	s, err := a.sessions.RevokeSession(ctx, auth.HashOpaqueToken(refreshToken), a.clock())
	if err != nil {
		return err
	}
	a.loginEnded(ctx, s.ID)
	return nil
}

// Authenticate checks an access token, and that its login has not ended (logout, or a
// reused refresh token). Returns unauthenticated.
func (a *App) Authenticate(ctx context.Context, accessToken string) (Identity, error) {
	c, err := a.tokens.Verify(accessToken, a.now())
	if err != nil {
		return Identity{}, err
	}
	revoked, err := a.sessionRevoked(ctx, c.SessionID)
	if err != nil {
		return Identity{}, fmt.Errorf("check session: %w", err)
	}
	if revoked {
		return Identity{}, errLoginEnded
	}
	return Identity{UserID: c.UserID, SessionID: c.SessionID}, nil
}

// allow counts one event against a rate limit and turns a refusal into rate_limited.
func (a *App) allow(ctx context.Context, key string, limit int, window time.Duration) error {
	ok, retry, err := a.limiter.Allow(ctx, key, limit, window)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", key, err)
	}
	if !ok {
		secs := int((retry + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		return &plop.Error{Code: plop.ERateLimited, Message: "too many attempts, try again later", RetryAfter: secs}
	}
	return nil
}
