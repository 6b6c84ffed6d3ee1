package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequests throws arbitrary bodies at every POST route: nothing may panic
// or answer 500, and a fetch that is answered 200 is always an action list.
// `go test -fuzz FuzzRequests ./cmd/switchboard` explores further.
func FuzzRequests(f *testing.F) {
	for _, seed := range []string{
		`{"activeflow_id":"af","reference_id":"c1"}`,
		`{"type":"transcript_created","data":{"id":"1","transcribe_id":"t","direction":"in","message":"hi"}}`,
		`{"type":"transcribe_created","data":{"id":"t","reference_type":"call","reference_id":"c1"}}`,
		`{"type":"call_hangup","data":{"id":"c1"}}`,
		`{"call_id":"c1","speech":{"results":[{"text":"my invoice is wrong"}]}}`,
		`{"speech":{"results":[{"text":"` + strings.Repeat("down ", 200) + `"}]}}`,
		`[]`, `null`, `{"type":1}`, "\xff\xfe", `{"reference_id":"{x}"}`,
	} {
		f.Add(seed)
	}
	svc, err := build(f.Context(), settings{}, quietLog())
	if err != nil {
		f.Fatal(err)
	}
	h := newServer(svc)
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/voipbin/fetch", "/voipbin/events", "/webhook/call-handler"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
			if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s answered %d to %q", path, rec.Code, body)
			}
			if path == "/voipbin/fetch" && rec.Code == http.StatusOK {
				var acts []voipbinAction
				if err := json.Unmarshal(rec.Body.Bytes(), &acts); err != nil || len(acts) == 0 {
					t.Fatalf("fetch answered 200 without actions to %q: %s", body, rec.Body)
				}
			}
		}
	})
}
