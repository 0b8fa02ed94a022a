package auth

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plop-chat/plop"
)

// Claims is what a valid access token says.
type Claims struct {
	UserID    string
	SessionID string
	ExpiresAt time.Time
}

// tokenClaims is the JWT payload: iss, aud, exp, iat, sub (user id) and sid (session id).
type tokenClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
}

// Tokens issues and verifies access tokens: JWTs signed with EdDSA (Ed25519) by the first key
// of a KeySet, the key id in the "kid" header. It is safe for concurrent use.
type Tokens struct {
	keys     *KeySet
	issuer   string
	audience string
	ttl      time.Duration
	verified *verifiedCache
}

// NewTokens returns Tokens that issue tokens valid for ttl, for audience, from issuer.
func NewTokens(keys *KeySet, issuer, audience string, ttl time.Duration) *Tokens {
	return &Tokens{keys: keys, issuer: issuer, audience: audience, ttl: ttl, verified: newVerifiedCache()}
}

// TTL returns how long issued tokens are valid.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed access token for userID's session sessionID and the time it expires
// (now + ttl, truncated to the second as the token stores it).
func (t *Tokens) Issue(userID, sessionID string, now time.Time) (string, time.Time, error) {
	exp := now.Add(t.ttl).Truncate(time.Second)
	c := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
		},
		SessionID: sessionID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = t.keys.KeyID()
	s, err := tok.SignedString(t.keys.signer)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp.UTC(), nil
}

// Verify checks token at time now and returns its claims. The iat claim is not checked, so a
// node whose clock runs slightly behind the issuer's still accepts fresh tokens. Any bad token (malformed, signed
// by an unknown key or with another algorithm, expired, issued for another issuer or
// audience, missing a claim) gives an unauthenticated *plop.Error.
func (t *Tokens) Verify(token string, now time.Time) (Claims, error) {
	if c, ok := t.verified.get(token, now); ok {
		return c, nil
	}
	c, err := t.verify(token, now)
	if err == nil {
		t.verified.put(token, c, now)
	}
	return c, err
}

func (t *Tokens) verify(token string, now time.Time) (Claims, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithStrictDecoding(),
	)
	var c tokenClaims
	_, err := p.ParseWithClaims(token, &c, t.key)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, plop.Errorf(plop.EUnauthenticated, "access token expired")
		}
		return Claims{}, plop.Errorf(plop.EUnauthenticated, "invalid access token")
	}
	if c.Subject == "" || c.SessionID == "" {
		return Claims{}, plop.Errorf(plop.EUnauthenticated, "invalid access token")
	}
	return Claims{UserID: c.Subject, SessionID: c.SessionID, ExpiresAt: c.ExpiresAt.UTC()}, nil
}

// key finds the verifying key named by the token's kid header.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	if _, ok := tok.Method.(*jwt.SigningMethodEd25519); !ok {
		return nil, fmt.Errorf("unexpected signing method %v", tok.Header["alg"])
	}
	kid, _ := tok.Header["kid"].(string)
	pub, ok := t.keys.PublicKey(kid)
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	return ed25519.PublicKey(pub), nil
}
