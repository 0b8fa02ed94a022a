package httpapi

import "net/http"

// GET /api/v1/push/vapid-key → {public_key}: the key a browser passes to
// pushManager.subscribe as applicationServerKey before registering its subscription.
func (api *API) vapidKey(w http.ResponseWriter, r *http.Request) error {
	key, err := api.app.WebPushKey(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		PublicKey string `json:"public_key"`
	}{key})
	return nil
}
