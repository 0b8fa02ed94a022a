package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/plop-chat/plop"
)

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unsupported type) gets here.
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
		status = http.StatusInternalServerError
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeJSON reads the request body into v, which must be a pointer to a struct. The body
// must be one JSON value with a JSON Content-Type, no unknown fields and nothing after it.
// Malformed JSON gives invalid_argument with a readable message, a body over the route's
// limit payload_too_large.
func decodeJSON(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return plop.Errorf(plop.EInvalid, "a JSON request body is required")
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return plop.Errorf(plop.EInvalid, "Content-Type must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if tooLarge(err) {
			return jsonError(err)
		}
		return plop.Errorf(plop.EInvalid, "malformed JSON: unexpected data after the JSON value")
	}
	return nil
}

// isJSON reports whether a Content-Type names JSON: application/json or application/*+json.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// tooLarge reports whether err comes from http.MaxBytesReader.
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// jsonError turns a decoding error into an error a client can read.
func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		mbe       *http.MaxBytesError
		unmarshal *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &mbe):
		return plop.Errorf(plop.ETooLarge, "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &syntax):
		return plop.Errorf(plop.EInvalid, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field != "" {
			return plop.Errorf(plop.EInvalid, "field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return plop.Errorf(plop.EInvalid, "the body must be a JSON object, not %s", typ.Value)
	case errors.Is(err, io.EOF):
		return plop.Errorf(plop.EInvalid, "a JSON request body is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return plop.Errorf(plop.EInvalid, "malformed JSON: the body ends too early")
	case errors.As(err, &unmarshal):
		return fmt.Errorf("decode JSON: %w", err)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return plop.Errorf(plop.EInvalid, "unknown field %s", f)
	}
	return plop.Errorf(plop.EInvalid, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "struct", kind == "map", kind == "ptr":
		return "an object"
	}
	return "another type"
}
