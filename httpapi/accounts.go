package httpapi

import (
	"net/http"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// userBody is the {"user": ...} answer.
type userBody struct {
	User plop.User `json:"user"`
}

// POST /api/v1/auth/signup {email, password, name} → 201 {user}
func (api *API) signup(w http.ResponseWriter, r *http.Request) error {
	var in app.SignupInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := api.app.Signup(r.Context(), in, api.clientAddr(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, userBody{u})
	return nil
}

// POST /api/v1/auth/verify {email, code} → 200 tokens
func (api *API) verify(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := api.app.Verify(r.Context(), in.Email, in.Code, api.clientAddr(r))
	if err != nil {
		return err
	}
	writeTokens(w, t)
	return nil
}

// POST /api/v1/auth/verify/resend {email} → 202
func (api *API) resendCode(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := api.app.ResendCode(r.Context(), in.Email, api.clientAddr(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// POST /api/v1/auth/login {email, password} → 200 tokens
func (api *API) login(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := api.app.Login(r.Context(), in.Email, in.Password, api.clientAddr(r))
	if err != nil {
		return err
	}
	writeTokens(w, t)
	return nil
}

// refreshBody is the body of refresh and logout.
type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

// POST /api/v1/auth/refresh {refresh_token} → 200 tokens
func (api *API) refresh(w http.ResponseWriter, r *http.Request) error {
	var in refreshBody
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := api.app.Refresh(r.Context(), in.RefreshToken)
	if err != nil {
		return err
	}
	writeTokens(w, t)
	return nil
}

// POST /api/v1/auth/logout {refresh_token} → 204
func (api *API) logout(w http.ResponseWriter, r *http.Request) error {
	var in refreshBody
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := api.app.Logout(r.Context(), in.RefreshToken); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeTokens answers tokens, which must never be cached.
func writeTokens(w http.ResponseWriter, t app.Tokens) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, t)
}
