package httpapi

import (
	"net/http"
	"path"
	"strings"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// GET /api/v1/me → {user}
func (api *API) getMe(w http.ResponseWriter, r *http.Request) error {
	u, err := api.app.Me(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userBody{u})
	return nil
}

// PATCH /api/v1/me {name?, status_message?} → {user}
func (api *API) updateMe(w http.ResponseWriter, r *http.Request) error {
	var in app.ProfileUpdate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := api.app.UpdateMe(r.Context(), me(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userBody{u})
	return nil
}

// GET /api/v1/avatars/{user}/{file} → the image. The file name is a hash of the content, so
// the answer never changes and may be cached for good.
func (api *API) avatar(w http.ResponseWriter, r *http.Request) error {
	file := r.PathValue("file")
	b, err := api.app.Avatar(r.Context(), r.PathValue("user")+"/"+file)
	if err != nil {
		return err
	}
	defer b.Close()
	h := w.Header()
	if b.ContentType != "" {
		h.Set("Content-Type", b.ContentType)
	}
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+strings.TrimSuffix(file, path.Ext(file))+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, file, b.ModTime, b)
	return nil
}

// GET /api/v1/users?q=&limit= → {users}
func (api *API) searchUsers(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	users, err := api.app.SearchUsers(r.Context(), me(r), r.URL.Query().Get("q"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Users []plop.User `json:"users"`
	}{nonNil(users)})
	return nil
}

// GET /api/v1/users/{id} → {user}
func (api *API) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := api.app.User(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userBody{u})
	return nil
}
