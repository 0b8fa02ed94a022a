package httpapi

import (
	"net/http"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// roomBody is the {"room": ...} answer.
type roomBody struct {
	Room plop.Room `json:"room"`
}

// POST /api/v1/rooms {type, name?, member_ids} → 201 {room}, or 200 when the direct room
// of the two existed already.
func (api *API) createRoom(w http.ResponseWriter, r *http.Request) error {
	var in app.RoomInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	room, created, err := api.app.CreateRoom(r.Context(), me(r), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, roomBody{roomLists(room)})
	return nil
}

// GET /api/v1/rooms?cursor=&limit= → {rooms, next_cursor}, latest activity first
func (api *API) rooms(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	rooms, next, err := api.app.Rooms(r.Context(), me(r), page)
	if err != nil {
		return err
	}
	for i := range rooms {
		rooms[i] = roomLists(rooms[i])
	}
	writeJSON(w, http.StatusOK, struct {
		Rooms      []plop.Room `json:"rooms"`
		NextCursor string      `json:"next_cursor"`
	}{nonNil(rooms), next})
	return nil
}

// GET /api/v1/rooms/{id} → {room}
func (api *API) room(w http.ResponseWriter, r *http.Request) error {
	room, err := api.app.Room(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, roomBody{roomLists(room)})
	return nil
}

// PATCH /api/v1/rooms/{id} {name?, muted?} → {room}
func (api *API) updateRoom(w http.ResponseWriter, r *http.Request) error {
	var in app.RoomUpdate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	room, err := api.app.UpdateRoom(r.Context(), me(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, roomBody{roomLists(room)})
	return nil
}

// POST /api/v1/rooms/{id}/members {user_ids} → {room}
func (api *API) addMembers(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserIDs []string `json:"user_ids"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	room, err := api.app.AddMembers(r.Context(), me(r), r.PathValue("id"), in.UserIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, roomBody{roomLists(room)})
	return nil
}

// DELETE /api/v1/rooms/{id}/members/{user_id} → 204; removing yourself is leaving.
func (api *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	if err := api.app.RemoveMember(r.Context(), me(r), r.PathValue("id"), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /api/v1/rooms/{id}/read {seq} → 204
func (api *API) markRead(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Seq int64 `json:"seq"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Seq < 0 {
		return plop.Errorf(plop.EInvalid, "seq must be a non-negative integer")
	}
	if err := api.app.MarkRead(r.Context(), me(r), r.PathValue("id"), in.Seq); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// roomLists makes the lists of a room [] rather than null in JSON.
func roomLists(room plop.Room) plop.Room {
	room.Members = nonNil(room.Members)
	if room.LastMessage != nil {
		m := messageLists(*room.LastMessage)
		room.LastMessage = &m
	}
	return room
}
