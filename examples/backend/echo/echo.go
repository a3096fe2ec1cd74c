// Package echo is a small HTTP backend that answers every request with what
// it received, so that a person or a test can see where a request went and
// how it arrived.
//
// It may import only the standard library.
package echo

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// Request is what the backend reports about a request it received.
type Request struct {
	Backend  string              `json:"backend"`
	Method   string              `json:"method"`
	Host     string              `json:"host"`
	Path     string              `json:"path"`
	RawQuery string              `json:"query,omitempty"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	// Body is the request body's first MiB; BodyBytes counts all of it.
	Body      string `json:"body,omitempty"`
	BodyBytes int64  `json:"bodyBytes"`
}

// Handler answers with a JSON Request naming backend, with the status
// the query parameter status asks (200 to 599; 200 otherwise), so that
// tests can make a backend fail.
func Handler(backend string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rest, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", backend)
		w.WriteHeader(status(r))
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(Request{
			Backend:   backend,
			Method:    r.Method,
			Host:      r.Host,
			Path:      r.URL.Path,
			RawQuery:  r.URL.RawQuery,
			Proto:     r.Proto,
			Headers:   r.Header,
			Body:      string(body),
			BodyBytes: int64(len(body)) + rest,
		})
	})
}

// status is the status the request asks for with ?status=NNN.
func status(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("status"))
	if err != nil || n < 200 || n > 599 {
		return http.StatusOK
	}
	return n
}
