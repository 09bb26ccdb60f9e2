package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// decode reads a request body holding exactly one JSON object of type T
// with no unknown fields. A malformed body is an *Error with CodeInvalid;
// a body over MaxRequestBody wraps *http.MaxBytesError (the handler
// bounds every body).
func decode[T any](r *http.Request) (T, error) {
	var v T
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return v, fmt.Errorf("read request body: %w", err)
	}
	if err := decodeJSON(body, &v); err != nil {
		return v, err
	}
	return v, nil
}

// decodeKeyRequest reads the body of a confirm or a trust, which must
// name the key the user compared.
func decodeKeyRequest(r *http.Request) (KeyRequest, error) {
	req, err := decode[KeyRequest](r)
	if err != nil {
		return req, err
	}
	if req.Fingerprint == "" {
		return req, Errorf(CodeInvalid, "fingerprint is missing: give the fingerprint verify showed, so that only the key you compared is acted on")
	}
	return req, nil
}

// decodeJSON decodes one JSON value from b strictly: valid UTF-8, no
// unknown fields, nothing after the value.
func decodeJSON(b []byte, v any) *Error {
	if len(bytes.TrimSpace(b)) == 0 {
		return Errorf(CodeInvalid, "the request body is empty; it must be a JSON object")
	}
	if !utf8.Valid(b) {
		return Errorf(CodeInvalid, "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(CodeInvalid, "the request body is not a valid JSON object for this route: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(CodeInvalid, "the request body has data after its JSON object")
	}
	return nil
}
