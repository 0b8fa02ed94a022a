package httpapi

import (
	"net/http"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// messageBody is the {"message": ...} answer.
type messageBody struct {
	Message plop.Message `json:"message"`
}

// GET /api/v1/rooms/{id}/messages?before=SEQ|after=SEQ&limit=N → {messages} ascending by seq
func (api *API) messages(w http.ResponseWriter, r *http.Request) error {
	before, err := queryInt(r, "before")
	if err != nil {
		return err
	}
	after, err := queryInt(r, "after")
	if err != nil {
		return err
	}
	if before > 0 && after > 0 {
		return plop.Errorf(plop.EInvalid, "give before or after, not both")
	}
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	msgs, err := api.app.Messages(r.Context(), me(r), r.PathValue("id"), before, after, limit)
	if err != nil {
		return err
	}
	for i := range msgs {
		msgs[i] = messageLists(msgs[i])
	}
	writeJSON(w, http.StatusOK, struct {
		Messages []plop.Message `json:"messages"`
	}{nonNil(msgs)})
	return nil
}

// POST /api/v1/rooms/{id}/messages {body, client_msg_id, reply_to?, attachment_ids?} →
// 201 {message}, or 200 with the stored message when client_msg_id was sent before.
func (api *API) sendMessage(w http.ResponseWriter, r *http.Request) error {
	var in app.MessageInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, created, err := api.app.SendMessage(r.Context(), me(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, messageBody{messageLists(m)})
	return nil
}

// PATCH /api/v1/rooms/{id}/messages/{seq} {body} → {message}
func (api *API) editMessage(w http.ResponseWriter, r *http.Request) error {
	seq, err := pathSeq(r)
	if err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := api.app.EditMessage(r.Context(), me(r), r.PathValue("id"), seq, in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, messageBody{messageLists(m)})
	return nil
}

// DELETE /api/v1/rooms/{id}/messages/{seq} → {message}: the unsent message, deleted true.
func (api *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	seq, err := pathSeq(r)
	if err != nil {
		return err
	}
	m, err := api.app.DeleteMessage(r.Context(), me(r), r.PathValue("id"), seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, messageBody{messageLists(m)})
	return nil
}

// PUT /api/v1/rooms/{id}/messages/{seq}/reactions/{emoji} → 204
func (api *API) react(w http.ResponseWriter, r *http.Request) error {
	return api.setReaction(w, r, true)
}

// DELETE /api/v1/rooms/{id}/messages/{seq}/reactions/{emoji} → 204
func (api *API) unreact(w http.ResponseWriter, r *http.Request) error {
	return api.setReaction(w, r, false)
}

func (api *API) setReaction(w http.ResponseWriter, r *http.Request, on bool) error {
	seq, err := pathSeq(r)
	if err != nil {
		return err
	}
	// PathValue is already unescaped: %F0%9F%91%8D arrives as the emoji itself.
	emoji := r.PathValue("emoji")
	if err := api.app.React(r.Context(), me(r), r.PathValue("id"), seq, emoji, on); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// messageLists makes the lists of a message [] rather than null in JSON.
func messageLists(m plop.Message) plop.Message {
	m.Reactions = nonNil(m.Reactions)
	for i := range m.Reactions {
		m.Reactions[i].UserIDs = nonNil(m.Reactions[i].UserIDs)
	}
	m.Attachments = nonNil(m.Attachments)
	return m
}
