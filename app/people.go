package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/media"
)

// AvatarPathPrefix is where avatars are served; the rest of the path is the blob key below
// "avatars/".
const AvatarPathPrefix = "/api/v1/avatars/"

// withAvatarURL fills the user's AvatarURL from its AvatarKey.
func (a *App) withAvatarURL(u plop.User) plop.User {
	if u.AvatarKey != "" {
		u.AvatarURL = a.cfg.PublicURL + AvatarPathPrefix + strings.TrimPrefix(u.AvatarKey, "avatars/")
	}
	return u
}

// Me returns the caller's own account. Returns not_found when it was deleted.
func (a *App) Me(ctx context.Context, me string) (plop.User, error) {
	u, err := a.store.UserByID(ctx, me)
	if err != nil {
		return plop.User{}, err
	}
	return a.withAvatarURL(u), nil
}

// UpdateMe changes the caller's name and status message. Returns invalid_argument.
func (a *App) UpdateMe(ctx context.Context, me string, in ProfileUpdate) (plop.User, error) {
	var upd plop.UserUpdate
	if in.Name != nil {
		name, err := cleanText("name", *in.Name, 1, 64)
		if err != nil {
			return plop.User{}, err
		}
		upd.Name = &name
	}
	if in.StatusMessage != nil {
		status, err := cleanText("status_message", *in.StatusMessage, 0, 140)
		if err != nil {
			return plop.User{}, err
		}
		upd.StatusMessage = &status
	}
	u, err := a.store.UpdateUser(ctx, me, upd)
	if err != nil {
		return plop.User{}, err
	}
	a.profileChanged(ctx, me)
	return a.withAvatarURL(u), nil
}

// SetAvatar replaces the caller's profile image with the image read from r, after checking,
// shrinking and re-encoding it. Returns invalid_argument (not an image) or payload_too_large.
func (a *App) SetAvatar(ctx context.Context, me string, r io.Reader) (plop.User, error) {
	img, err := media.Normalize(r, media.Limits{
		MaxBytes:  a.cfg.AvatarMaxBytes,
		MaxPixels: 50_000_000,
		MaxDim:    a.cfg.AvatarMaxDim,
	})
	if err != nil {
		return plop.User{}, err
	}
	old, err := a.store.UserByID(ctx, me)
	if err != nil {
		return plop.User{}, err
	}
	ext := ".jpg"
	if img.ContentType == "image/png" {
		ext = ".png"
	}
	sum := sha256.Sum256(img.Data)
	key := "avatars/" + strings.ToLower(me) + "/" + hex.EncodeToString(sum[:12]) + ext
	if err := a.blobs.Put(ctx, key, bytes.NewReader(img.Data), int64(len(img.Data)), img.ContentType); err != nil {
		return plop.User{}, fmt.Errorf("store avatar: %w", err)
	}
	u, err := a.store.UpdateUser(ctx, me, plop.UserUpdate{AvatarKey: &key})
	if err != nil {
		_ = a.blobs.Delete(ctx, key)
		return plop.User{}, err
	}
	a.profileChanged(ctx, me)
	if old.AvatarKey != "" && old.AvatarKey != key {
		if err := a.blobs.Delete(ctx, old.AvatarKey); err != nil {
			a.log.WarnContext(ctx, "delete old avatar", "key", old.AvatarKey, "err", err)
		}
	}
	return a.withAvatarURL(u), nil
}

// Avatar opens a stored profile image by the path below AvatarPathPrefix. Returns not_found.
func (a *App) Avatar(ctx context.Context, path string) (plop.Blob, error) {
	if path == "" || strings.Contains(path, "..") || strings.Count(path, "/") != 1 {
		return plop.Blob{}, plop.Errorf(plop.ENotFound, "no such avatar")
	}
	b, err := a.blobs.Open(ctx, "avatars/"+path)
	if err != nil {
		if c := plop.ErrorCode(err); c == plop.EInvalid || c == plop.ENotFound {
			return plop.Blob{}, plop.Errorf(plop.ENotFound, "no such avatar")
		}
		return plop.Blob{}, err
	}
	return b, nil
}

// User returns another user's public profile. Returns not_found when there is no such user
// or either of the two blocks the other.
func (a *App) User(ctx context.Context, me, id string) (plop.User, error) {
	if err := checkID("user id", id); err != nil {
		return plop.User{}, plop.Errorf(plop.ENotFound, "no such user")
	}
	if id == me {
		return a.Me(ctx, me)
	}
	blocked, err := a.store.Blocked(ctx, me, id)
	if err != nil {
		return plop.User{}, err
	}
	if blocked {
		return plop.User{}, plop.Errorf(plop.ENotFound, "no such user")
	}
	u, err := a.store.UserByID(ctx, id)
	if err != nil {
		return plop.User{}, err
	}
	if !u.Verified {
		return plop.User{}, plop.Errorf(plop.ENotFound, "no such user")
	}
	return a.withAvatarURL(u.Public()), nil
}

// SearchUsers finds verified users by exact e-mail or by name prefix, leaving out the caller
// and anyone either side blocks. Returns invalid_argument.
func (a *App) SearchUsers(ctx context.Context, me, q string, limit int) ([]plop.User, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, plop.Errorf(plop.EInvalid, "q is required")
	}
	if len(q) > 254 {
		return nil, plop.Errorf(plop.EInvalid, "q is too long")
	}
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	found, err := a.store.SearchUsers(ctx, strings.ToLower(q), limit+1)
	if err != nil {
		return nil, err
	}
	users := make([]plop.User, 0, len(found))
	for _, u := range found {
		if u.ID == me {
			continue
		}
		blocked, err := a.store.Blocked(ctx, me, u.ID)
		if err != nil {
			return nil, err
		}
		if !blocked && len(users) < limit {
			users = append(users, a.withAvatarURL(u.Public()))
		}
	}
	return users, nil
}
