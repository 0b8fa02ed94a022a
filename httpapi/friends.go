package httpapi

import (
	"net/http"
	"strconv"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// GET /api/v1/friends → {friends}, encoded by the services from their friends cache, with
// the bytes writeJSON would give.
func (api *API) friends(w http.ResponseWriter, r *http.Request) error {
	b := make([]byte, 0, 16<<10)
	b = append(b, `{"friends":`...)
	b, err := api.app.AppendFriendsJSON(r.Context(), b, me(r))
	if err != nil {
		return err
	}
	b = append(b, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// DELETE /api/v1/friends/{user_id} → 204
func (api *API) unfriend(w http.ResponseWriter, r *http.Request) error {
	if err := api.app.Unfriend(r.Context(), me(r), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /api/v1/friends/requests {user_id} or {email} → 201 {request}
func (api *API) sendFriendRequest(w http.ResponseWriter, r *http.Request) error {
	var in app.FriendRequestInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req, err := api.app.SendFriendRequest(r.Context(), me(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Request plop.FriendRequest `json:"request"`
	}{req})
	return nil
}

// GET /api/v1/friends/requests?direction=incoming|outgoing&cursor=&limit= →
// {requests, next_cursor}
func (api *API) friendRequests(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	reqs, next, err := api.app.FriendRequests(r.Context(), me(r), r.URL.Query().Get("direction"), page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Requests   []plop.FriendRequest `json:"requests"`
		NextCursor string               `json:"next_cursor"`
	}{nonNil(reqs), next})
	return nil
}

// POST /api/v1/friends/requests/{id}/accept → 200 {friend}
func (api *API) acceptFriendRequest(w http.ResponseWriter, r *http.Request) error {
	f, err := api.app.AcceptFriendRequest(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Friend plop.Friend `json:"friend"`
	}{f})
	return nil
}

// POST /api/v1/friends/requests/{id}/decline → 204
func (api *API) declineFriendRequest(w http.ResponseWriter, r *http.Request) error {
	if err := api.app.DeclineFriendRequest(r.Context(), me(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PUT /api/v1/blocks/{user_id} → 204
func (api *API) block(w http.ResponseWriter, r *http.Request) error {
	if err := api.app.Block(r.Context(), me(r), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DELETE /api/v1/blocks/{user_id} → 204
func (api *API) unblock(w http.ResponseWriter, r *http.Request) error {
	if err := api.app.Unblock(r.Context(), me(r), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
