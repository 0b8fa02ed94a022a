package httpapi

import (
	"net/http"
	"strings"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// GET /api/v1/presence?user_ids=a,b → {presence}; the ids may also be repeated parameters.
func (api *API) presence(w http.ResponseWriter, r *http.Request) error {
	var ids []string
	for _, v := range r.URL.Query()["user_ids"] {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	ps, err := api.app.Presence(r.Context(), me(r), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Presence []plop.Presence `json:"presence"`
	}{nonNil(ps)})
	return nil
}

// POST /api/v1/devices {platform, token | subscription} → 201 {device}
func (api *API) registerDevice(w http.ResponseWriter, r *http.Request) error {
	var in app.DeviceInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := api.app.RegisterDevice(r.Context(), me(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Device plop.Device `json:"device"`
	}{d})
	return nil
}

// GET /api/v1/devices → {devices}
func (api *API) devices(w http.ResponseWriter, r *http.Request) error {
	ds, err := api.app.Devices(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Devices []plop.Device `json:"devices"`
	}{nonNil(ds)})
	return nil
}

// DELETE /api/v1/devices/{id} → 204
func (api *API) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	if err := api.app.DeleteDevice(r.Context(), me(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
