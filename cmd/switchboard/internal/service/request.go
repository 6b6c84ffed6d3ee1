package service

// Reading request bodies and writing answers, the same way for every
// handler: bodies bounded by maxBody and UTF-8, answers JSON, problems as
// {"error", "problems"}.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// maxBody bounds every request body: VoIPBin's are a few hundred bytes.
const maxBody = 64 << 10

// problem is the body of every 4xx and 5xx answer.
type problem struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
}

// readBody reads a request body, at most maxBody bytes of it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, fmt.Errorf("body larger than %d bytes: %w", maxErr.Limit, err)
	}
	return b, err
}

// errNotUTF8 is a body with bytes that are not UTF-8.
var errNotUTF8 = errors.New("body is not UTF-8")

// decodeJSON is the one decode path for request bodies: bounded, UTF-8, one value.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return errNotUTF8
	}
	// Unmarshal refuses trailing data after the value, and needs no decoder buffer.
	if err := json.Unmarshal(b, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("%s: want %s, got %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
		}
		return err
	}
	return nil
}

// writeBodyProblem answers a body that could not be read or decoded: 413 when
// it was too large, 400 otherwise.
func writeBodyProblem(w http.ResponseWriter, msg string, err error) {
	status := http.StatusBadRequest
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status, msg = http.StatusRequestEntityTooLarge, "request body too large"
	}
	writeProblem(w, status, msg, err.Error())
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(kind string) string {
	switch kind {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "float64", "int", "int64":
		return "number"
	}
	return kind
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "Billing & Accounts", not "Billing \u0026 Accounts"
	_ = enc.Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, msg string, problems ...string) {
	writeJSON(w, status, problem{Error: msg, Problems: problems})
}
