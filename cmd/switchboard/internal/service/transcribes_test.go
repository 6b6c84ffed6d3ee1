package service

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// startWatched is startService with the service's own JSON logger at debug,
// callers' words allowed (--log-transcripts), writing to the returned buffer,
// and quick retries.
func startWatched(t *testing.T, s Config) (*Service, *httptest.Server, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	s.LogTranscripts = true
	log, err := jsonLog(buf, "debug", true)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), s, log)
	if err != nil {
		t.Fatal(err)
	}
	svc.leaving.firstWait = time.Millisecond
	srv := httptest.NewServer(newServer(svc))
	t.Cleanup(func() { srv.Close(); svc.close() })
	return svc, srv, buf
}

// transferCall runs call c1 to a transfer: transcription started on the
// first fetch (transcribe tr), the caller's request heard, the second fetch
// announces the transfer and the third hands it out.
func transferCall(t *testing.T, srv *httptest.Server, tr string) {
	t.Helper()
	fetch := srv.URL + "/voipbin/fetch?to=%2B14155550000"
	if _, body := post(t, fetch, `{"activeflow_id":"`+vid("af1")+`","reference_id":"`+vid("c1")+`"}`); !strings.Contains(body, "transcribe_start") {
		t.Fatalf("first fetch: %s", body)
	}
	for _, ev := range []string{
		`{"type":"transcribe_created","data":{"id":"` + tr + `","reference_type":"call","reference_id":"` + vid("c1") + `","language":"en-US","direction":"in"}}`,
		`{"type":"transcript_created","data":{"id":"0f2a4b6c-1234-4d5e-8f90-000000000001","transcribe_id":"` + tr + `","direction":"in","message":"I would like a quote for your enterprise plan"}}`,
	} {
		if status, body := post(t, srv.URL+"/voipbin/events", ev); status != http.StatusOK {
			t.Fatalf("event: %d %s", status, body)
		}
	}
	_, body := post(t, fetch, `{"activeflow_id":"`+vid("af1")+`","reference_id":"`+vid("c1")+`"}`)
	if !strings.Contains(body, "Routing you to Sales") {
		t.Fatalf("second fetch does not announce the transfer: %s", body)
	}
	// The transfer itself comes with the fetch after its announcement.
	if _, body = post(t, fetch, `{"activeflow_id":"`+vid("af1")+`","reference_id":"`+vid("c1")+`"}`); !strings.Contains(body, `"connect"`) &&
		!strings.Contains(body, "/voipbin/handoff?") { // with an access key, a transfer is a handoff
		t.Fatalf("third fetch does not transfer: %s", body)
	}
}

// storeAppends is how many inbox appends the store has served, as /metrics says.
func storeAppends(t *testing.T, base string) string {
	t.Helper()
	for _, line := range strings.Split(scrape(t, base), "\n") {
		if v, ok := strings.CutPrefix(line, `switchboard_store_operation_duration_seconds_count{operation="append"} `); ok {
			return v
		}
	}
	return "0"
}

// wordsAfterTransfer is what the caller tells the agent: not ours to keep.
const wordsAfterTransfer = `{"type":"transcript_created","data":{"id":"0f2a4b6c-1234-4d5e-8f90-000000000002","transcribe_id":"%s","direction":"in","message":"my card number is 4111 1111 1111 1111"}}`

// TestTranscriptionStopsWhenTheCallLeaves: with an access key, a transfer
// stops the call's transcription through VoIPBin's REST API; words that
// still arrive are answered 200 and kept nowhere, neither in the call's
// inbox nor in the logs.
func TestTranscriptionStopsWhenTheCallLeaves(t *testing.T) {
	api := voipbintest.NewREST(t)
	tr := api.Transcribing()
	svc, srv, logs := startWatched(t, Config{AccessKey: voipbintest.AccessKey, APIURL: api.URL})
	transferCall(t, srv, tr)
	for deadline := time.Now().Add(5 * time.Second); api.Status(tr) != "done"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("transcribe %s not stopped (refused %v)", tr, api.Refused())
		}
	}
	// The stand-in marks the stop done before the service has counted it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		page := scrape(t, srv.URL)
		if strings.Contains(page, `switchboard_transcribe_stops_total{result="ok"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stop is not counted:\n%s", grepLines(page, "transcribe_stops"))
		}
	}
	// VoIPBin retries transcribe_created, and a transcription may start late:
	// neither links anything to a call that has left us.
	late := api.Transcribing()
	for _, ev := range []string{transcribeCreated(tr, vid("c1")), transcribeCreated(late, vid("c1"))} {
		if status, body := post(t, srv.URL+"/voipbin/events", ev); status != http.StatusOK {
			t.Errorf("transcribe_created after the transfer: %d %s, want 200", status, body)
		}
	}
	for _, session := range []string{tr, late} {
		if link, err := svc.store.Resolve(context.Background(), session); err == nil && link != "" {
			t.Errorf("transcription %s linked to %s after the call left us", session, link)
		}
	}
	appends := storeAppends(t, srv.URL)
	for _, session := range []string{tr, late} {
		if status, body := post(t, srv.URL+"/voipbin/events", strings.Replace(wordsAfterTransfer, "%s", session, 1)); status != http.StatusOK && session == tr {
			t.Errorf("words after the transfer: %d %s, want 200 (a 5xx would have VoIPBin send them again)", status, body)
		}
	}
	if got := storeAppends(t, srv.URL); got != appends {
		t.Errorf("words after the transfer were appended to an inbox (%s appends, was %s)", got, appends)
	}
	_, inbox, err := svc.store.Load(context.Background(), vid("c1"))
	if err != nil || len(inbox) != 0 {
		t.Errorf("the call's inbox holds %v (%v): words after the transfer were kept", inbox, err)
	}
	// The words, not "4111" alone, which a loopback port number may hold.
	if strings.Contains(logs.String(), "card number") || strings.Contains(logs.String(), "4111 1111") {
		t.Errorf("words after the transfer reached the logs:\n%s", logs.String())
	}
}

// TestTranscriptionWithoutAccessKey: without a key nothing is stopped (serve
// warns once at start: TestServeRefusesOpenRoutes), and the words after the
// transfer are still kept nowhere.
func TestTranscriptionWithoutAccessKey(t *testing.T) {
	api := voipbintest.NewREST(t)
	tr := api.Transcribing()
	svc, srv, logs := startWatched(t, Config{})
	transferCall(t, srv, tr)
	if status, _ := post(t, srv.URL+"/voipbin/events", strings.Replace(wordsAfterTransfer, "%s", tr, 1)); status != http.StatusOK {
		t.Errorf("words after the transfer: %d, want 200", status)
	}
	if _, inbox, _ := svc.store.Load(context.Background(), vid("c1")); len(inbox) != 0 || strings.Contains(logs.String(), "card number") || strings.Contains(logs.String(), "4111 1111") {
		t.Errorf("words after the transfer were kept: inbox %v", inbox)
	}
	svc.leaving.wait(context.Background())
	if len(api.Writes) != 0 || api.Status(tr) != "progressing" {
		t.Errorf("without a key nothing is stopped: writes %v", api.Writes)
	}
}

// TestTranscriptionStopRetries: a stop that meets a 5xx is tried again with a
// growing wait, and counted ok once it goes through; one refused with a 4xx
// is not tried again, and is counted failed and logged. Neither delays the
// fetch answer: the transfer was answered before.
func TestTranscriptionStopRetries(t *testing.T) {
	for _, tt := range []struct {
		name     string
		statuses []int
		attempts int32
		result   string
	}{
		{"a 503, then through", []int{503, 503, 200}, 3, "ok"},
		{"always down", []int{503, 503, 503, 503, 503}, stopAttempts, "failed"},
		{"refused", []int{404, 200}, 1, "failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := attempts.Add(1)
				if r.URL.Path != "/v1.0/transcribes/0f2a4b6c-1234-4d5e-8f90-000000000009/stop" || r.URL.Query().Get("accesskey") != "key" {
					t.Errorf("stop sent as %s %s", r.Method, r.URL)
				}
				w.WriteHeader(tt.statuses[n-1])
				_, _ = w.Write([]byte(`{}`))
			}))
			defer api.Close()
			svc, srv, logs := startWatched(t, Config{AccessKey: "key", APIURL: api.URL})
			transferCall(t, srv, "0f2a4b6c-1234-4d5e-8f90-000000000009")
			svc.leaving.wait(context.Background())
			if got := attempts.Load(); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
			if page := scrape(t, srv.URL); !strings.Contains(page, `switchboard_transcribe_stops_total{result="`+tt.result+`"} 1`) {
				t.Errorf("not counted %s:\n%s", tt.result, grepLines(page, "transcribe_stops"))
			}
			if failed := strings.Contains(logs.String(), "could not stop a transcription"); failed != (tt.result == "failed") {
				t.Errorf("failure logged: %v, want %v", failed, tt.result == "failed")
			}
		})
	}
}

// TestTranscriptionAfterHangup: a caller who hangs up ends the call; VoIPBin
// stops its transcription itself, so nothing is sent, and a late transcript is
// taken and kept nowhere all the same.
func TestTranscriptionAfterHangup(t *testing.T) {
	api := voipbintest.NewREST(t)
	tr := api.Transcribing()
	svc, srv, _ := startWatched(t, Config{AccessKey: voipbintest.AccessKey, APIURL: api.URL})
	fetch := srv.URL + "/voipbin/fetch?to=%2B14155550000"
	post(t, fetch, `{"activeflow_id":"`+vid("af1")+`","reference_id":"`+vid("c1")+`"}`)
	for _, ev := range []string{
		`{"type":"transcribe_created","data":{"id":"` + tr + `","reference_type":"call","reference_id":"` + vid("c1") + `","language":"en-US","direction":"in"}}`,
		`{"type":"call_hangup","data":{"id":"` + vid("c1") + `","hangup_reason":"normal"}}`,
	} {
		if status, body := post(t, srv.URL+"/voipbin/events", ev); status != http.StatusOK {
			t.Fatalf("event: %d %s", status, body)
		}
	}
	if _, body := post(t, fetch, `{"activeflow_id":"`+vid("af1")+`","reference_id":"`+vid("c1")+`"}`); !strings.Contains(body, `"hangup"`) {
		t.Fatalf("the fetch after the hangup: %s", body)
	}
	appends := storeAppends(t, srv.URL)
	if status, _ := post(t, srv.URL+"/voipbin/events", strings.Replace(wordsAfterTransfer, "%s", tr, 1)); status != http.StatusOK {
		t.Errorf("words after the hangup: %d, want 200", status)
	}
	if got := storeAppends(t, srv.URL); got != appends {
		t.Errorf("words after the hangup were appended (%s appends, was %s)", got, appends)
	}
	svc.leaving.wait(context.Background())
	if len(api.Writes) != 0 {
		t.Errorf("a hung-up call's transcription is VoIPBin's to stop: %v", api.Writes)
	}
}

// transferWith runs call i to a transfer with transcription tr.
func transferWith(t *testing.T, srv *httptest.Server, i int, tr string) {
	t.Helper()
	call := vid(fmt.Sprint("transfer-", i))
	fetch := srv.URL + "/voipbin/fetch?to=%2B14155550000"
	post(t, fetch, `{"activeflow_id":"`+vid("af")+`","reference_id":"`+call+`"}`)
	for _, ev := range []string{transcribeCreated(tr, call), transcriptEvent(fmt.Sprint("transfer-ts-", i), tr, "I would like a quote for your enterprise plan")} {
		if status, body := post(t, srv.URL+"/voipbin/events", ev); status != http.StatusOK {
			t.Fatalf("event: %d %s", status, body)
		}
	}
	if body := fetchTransfer(t, fetch, `{"activeflow_id":"`+vid("af")+`","reference_id":"`+call+`"}`); !strings.Contains(body, `"connect"`) && !strings.Contains(body, "/voipbin/handoff") {
		t.Fatalf("no transfer: %s", body)
	}
}

// fetchTransfer fetches as VoIPBin does after a transfer's announcement
// (talk, then fetch): the transfer itself comes with the second answer.
func fetchTransfer(t *testing.T, fetch, req string) string {
	t.Helper()
	_, body := post(t, fetch, req)
	if strings.Contains(body, "Routing you to") && !strings.Contains(body, `"connect"`) {
		_, body = post(t, fetch, req)
	}
	return body
}

// TestStopFailureSaidAgainAfterRecovery: once a stop goes through, the next
// failure of a kind is news and is logged at ERROR again.
func TestStopFailureSaidAgainAfterRecovery(t *testing.T) {
	statuses := []int{401, 200, 401}
	var n atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(statuses[min(int(n.Add(1))-1, len(statuses)-1)])
		_, _ = w.Write([]byte(`{}`))
	}))
	defer api.Close()
	svc, srv, logs := startWatched(t, Config{AccessKey: "key", APIURL: api.URL})
	for i := range statuses {
		transferWith(t, srv, i, vid(fmt.Sprint("tr-recover-", i)))
		svc.leaving.wait(context.Background())
	}
	if got := strings.Count(logs.String(), `"level":"ERROR"`); got != 2 {
		t.Errorf("%d ERROR lines for a refusal, a success and a refusal; want 2:\n%s", got, logs.String())
	}
}

// TestRevokedAccessKeySaidLoudly: a stop refused 401 (a revoked or expired
// access key) is not retried; the first is logged at ERROR naming the key,
// later ones at WARN, and every one is counted where an alert can watch it.
func TestRevokedAccessKeySaidLoudly(t *testing.T) {
	api := voipbintest.NewREST(t)
	svc, srv, logs := startWatched(t, Config{AccessKey: "revoked-key", APIURL: api.URL})
	for i := range 2 {
		call, tr := vid(fmt.Sprint("revoked-", i)), api.Transcribing()
		fetch := srv.URL + "/voipbin/fetch?to=%2B14155550000"
		post(t, fetch, `{"activeflow_id":"`+vid("af")+`","reference_id":"`+call+`"}`)
		for _, ev := range []string{transcribeCreated(tr, call), transcriptEvent(fmt.Sprint("revoked-ts-", i), tr, "I would like a quote for your enterprise plan")} {
			if status, body := post(t, srv.URL+"/voipbin/events", ev); status != http.StatusOK {
				t.Fatalf("event: %d %s", status, body)
			}
		}
		if body := fetchTransfer(t, fetch, `{"activeflow_id":"`+vid("af")+`","reference_id":"`+call+`"}`); !strings.Contains(body, `"connect"`) && !strings.Contains(body, "/voipbin/handoff") {
			t.Fatalf("no transfer: %s", body)
		}
	}
	svc.leaving.wait(context.Background()) // the stops, logged and counted
	if page := scrape(t, srv.URL); !strings.Contains(page, `switchboard_voipbin_api_errors_total{kind="unauthorized"} 2`) {
		t.Fatalf("two refused stops not counted:\n%s", grepLines(page, "voipbin_api_errors"))
	}
	var errors, warns int
	for _, l := range logs.lines(t) {
		if l["kind"] != "unauthorized" {
			continue
		}
		switch l["level"] {
		case "ERROR":
			errors++
			if !strings.Contains(fmt.Sprint(l["msg"]), "VOIPBIN_ACCESSKEY") {
				t.Errorf("the error does not name the key: %v", l)
			}
		case "WARN":
			warns++
		}
		if strings.Contains(fmt.Sprint(l), "revoked-key") {
			t.Errorf("the key itself is in the log: %v", l)
		}
	}
	if errors != 1 || warns != 1 || len(api.Refused()) != 2 {
		t.Errorf("%d ERROR and %d WARN lines for 2 refused stops (%d requests refused); want 1 and 1, each stop tried once", errors, warns, len(api.Refused()))
	}
}
