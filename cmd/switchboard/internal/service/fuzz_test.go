package service

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/flow"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// The fuzz targets below throw arbitrary input at each decoder. Their seeds
// (here and in testdata/fuzz) run in make test; make fuzz explores further.

// fuzzService is a service on the memory store with every credential off, as
// make run starts it, so that fuzzed input reaches the decoders.
func fuzzService(f *testing.F) (*Service, http.Handler) {
	svc, err := New(f.Context(), Config{}, quietLog())
	if err != nil {
		f.Fatal(err)
	}
	return svc, newServer(svc)
}

func serve(h http.Handler, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec
}

// refusal checks a 4xx answer: one of the statuses the route may give, with
// a JSON error saying why.
func refusal(t *testing.T, rec *httptest.ResponseRecorder, body string, statuses ...int) {
	t.Helper()
	ok := false
	for _, s := range statuses {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("answered %d to %q: %s", rec.Code, body, rec.Body)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Error == "" {
		t.Fatalf("a %d must say why as JSON, got %s", rec.Code, rec.Body)
	}
}

// FuzzFetchBody: a fetch is answered 200 with a bare array of VoIPBin actions
// whose last one moves the call on, whatever its body: VoIPBin hangs up on
// any other answer.
func FuzzFetchBody(f *testing.F) {
	for _, seed := range []string{
		`{"activeflow_id":"af","reference_id":"c1"}`, `{"activeflow_id":"af9"}`, `{"reference_id":"{x}"}`,
		`{}`, `[]`, `null`, `{"reference_id":1}`, `{"reference_id":"c"}{}`, "{\"reference_id\":\"c\xff\"}",
		`{"reference_id":"` + strings.Repeat("x", 300) + `"}`,
	} {
		f.Add(seed)
	}
	_, h := fuzzService(f)
	f.Fuzz(func(t *testing.T, body string) {
		rec := serve(h, "/voipbin/fetch", body)
		if rec.Code != http.StatusOK {
			t.Fatalf("fetch answered %d to %q: %s", rec.Code, body, rec.Body)
		}
		var acts []voipbin.Action
		if err := json.Unmarshal(rec.Body.Bytes(), &acts); err != nil || len(acts) == 0 {
			t.Fatalf("fetch answered 200 without actions to %q: %s", body, rec.Body)
		}
		for _, a := range acts {
			if id, err := uuid.Parse(a.ID); err != nil || id == uuid.Nil {
				t.Fatalf("action %s has id %q, not a UUID", a.Type, a.ID)
			}
		}
		switch last := acts[len(acts)-1].Type; last {
		case "fetch", "connect", "hangup":
		default:
			t.Fatalf("fetch answer ends with %s: the call would stall (%s)", last, rec.Body)
		}
	})
}

// FuzzEvent: the envelope of an event, whatever it carries, is stored (200),
// ignored (200), refused (400/413) or, for a transcript whose session is
// unknown, left to VoIPBin's retry (503); never a 500.
func FuzzEvent(f *testing.F) {
	for _, seed := range []string{
		`{"type":"transcript_created","data":{"id":"00000001-0000-4000-8000-000000000000","transcribe_id":"t","direction":"in","message":"hi"}}`,
		`{"type":"transcribe_created","data":{"id":"t","reference_type":"call","reference_id":"c1"}}`,
		`{"type":"call_hangup","data":{"id":"c1"}}`, `{"type":"activeflow_updated","data":{"id":"x"}}`,
		`{"type":1}`, `{"data":{}}`, `{"type":"call_hangup","data":[]}`, `[]`, `null`, "\xff\xfe",
	} {
		f.Add(seed)
	}
	_, h := fuzzService(f)
	f.Fuzz(func(t *testing.T, body string) {
		rec := serve(h, "/voipbin/events", body)
		switch rec.Code {
		case http.StatusOK:
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("200 without a JSON body: %s", rec.Body)
			}
		case http.StatusServiceUnavailable:
			if !strings.Contains(body, "transcript_created") {
				t.Fatalf("503 for %q: only a transcript of an unknown session waits for a retry", body)
			}
		default:
			refusal(t, rec, body, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		}
	})
}

// FuzzEventData: each event type's data, in a well-formed envelope. What a
// transcript leaves in the call's inbox is UTF-8, clipped and bounded.
func FuzzEventData(f *testing.F) {
	types := []string{"transcribe_created", "transcript_created", "call_hangup", "call_created"}
	for _, seed := range []struct {
		typ  uint8
		data string
	}{
		{1, `{"id":"00000001-0000-4000-8000-000000000000","transcribe_id":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b","direction":"in","message":"my invoice is wrong"}`},
		{1, `{"id":"00000002-0000-4000-8000-000000000000","transcribe_id":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b","direction":"in","message":"` + strings.Repeat("é", 600) + `"}`},
		{1, "{\"id\":\"00000003-0000-4000-8000-000000000000\",\"transcribe_id\":\"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b\",\"direction\":\"in\",\"message\":\"bill\xc3\x28\"}"},
		{1, `{"id":"00000004-0000-4000-8000-000000000000","transcribe_id":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b","direction":"out","message":"Thank you"}`},
		{1, `{"id":"00000005-0000-4000-8000-000000000000","transcribe_id":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b","direction":"in","message":"\ud800 lone"}`},
		{0, `{"id":"00000000-0000-4000-8000-0000000000a2","reference_type":"call","reference_id":"5a0c3e1f-2b4d-4c6e-8f1a-3b5d7f9e1c2a"}`},
		{0, `{"id":"tr-3","reference_type":"conference","reference_id":"x"}`},
		{2, `{"id":"5a0c3e1f-2b4d-4c6e-8f1a-3b5d7f9e1c2a","hangup_reason":"normal"}`},
		{3, `{"id":"c","source":{"type":"tel","target":"+1"}}`},
		{1, `{"id":1}`}, {0, `{}`}, {2, `null`},
	} {
		f.Add(seed.typ, seed.data)
	}
	svc, h := fuzzService(f)
	if rec := serve(h, "/voipbin/events", `{"type":"transcribe_created","data":{"id":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b","reference_type":"call","reference_id":"5a0c3e1f-2b4d-4c6e-8f1a-3b5d7f9e1c2a"}}`); rec.Code != http.StatusOK {
		f.Fatalf("link: %d %s", rec.Code, rec.Body)
	}
	f.Fuzz(func(t *testing.T, typ uint8, data string) {
		env, err := json.Marshal(map[string]any{"type": types[int(typ)%len(types)], "data": json.RawMessage(data)})
		if err != nil {
			return // data is not JSON: the envelope fuzz target covers that
		}
		rec := serve(h, "/voipbin/events", string(env))
		switch rec.Code {
		case http.StatusOK, http.StatusServiceUnavailable:
		default:
			refusal(t, rec, string(env), http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		}
		_, inbox, err := svc.store.Load(t.Context(), "5a0c3e1f-2b4d-4c6e-8f1a-3b5d7f9e1c2a")
		if err != nil {
			t.Fatal(err)
		}
		if len(inbox) > flow.MaxInbox {
			t.Fatalf("inbox holds %d inputs, over %d", len(inbox), flow.MaxInbox)
		}
		for _, in := range inbox {
			if !utf8.ValidString(in.Text) || utf8.RuneCountInString(in.Text) > flow.MaxTurnChars || in.Text != strings.TrimSpace(in.Text) {
				t.Fatalf("stored %q: not UTF-8, not clipped or not trimmed", in.Text)
			}
			if p := textProblem("text", in.Text, 0); p != "" {
				t.Fatalf("stored %q: %s", in.Text, p)
			}
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzSeedRequest: the seed's webhook answers 200 with talk and, when it
// transfers, a configured number, or refuses with 400/413 and a JSON error;
// a body that is not UTF-8 is always refused.
func FuzzSeedRequest(f *testing.F) {
	for _, seed := range []string{
		`{"speech":{"results":[{"text":"I would like a quote for your enterprise plan"}]}}`,
		`{"call_id":"c1","speech":{"results":[{"text":"hi"}]}}`,
		`{"call_id":"c1","speech":{"results":[{"text":"my invoice is wrong"}]},"language":"es-ES"}`,
		`{"speech":{"results":[{"text":"` + strings.Repeat("down ", 200) + `"}]}}`,
		`{"speech":{"results":[]}}`, `{"speech":{"results":[{"text":""}]}}`, `{"speech":"x"}`,
		"{\"speech\":{\"results\":[{\"text\":\"bill\xffing\"}]}}", `[]`, `null`,
	} {
		f.Add(seed)
	}
	_, h := fuzzService(f)
	f.Fuzz(func(t *testing.T, body string) {
		rec := serve(h, "/webhook/call-handler", body)
		if rec.Code != http.StatusOK {
			refusal(t, rec, body, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
			return
		}
		if !utf8.ValidString(body) {
			t.Fatalf("accepted a body that is not UTF-8: %q", body)
		}
		var resp callHandlerResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Actions) == 0 || resp.Actions[0].Type != "talk" {
			t.Fatalf("200 without a talk first to %q: %s", body, rec.Body)
		}
		for _, a := range resp.Actions {
			if a.Type == "transfer" && !e164.MatchString(a.Destination) {
				t.Fatalf("transfer to %q, not a configured number", a.Destination)
			}
		}
	})
}
