package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/testkit"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

func post(t *testing.T, url, body string, header ...string) (int, string) {
	return testkit.Post(t, url, body, header...)
}

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestEvents(t *testing.T) {
	const secret = "s3cret"
	srv := startServer(t, Config{Secret: secret})
	events := srv.URL + "/voipbin/events"
	created := `{"type":"transcribe_created","data":{"id":"` + vid("tr1") + `","reference_type":"call","reference_id":"` + vid("c1") + `","direction":"in"}}`
	transcript := `{"type":"transcript_created","data":{"id":"` + vid("ts1") + `","transcribe_id":"` + vid("tr1") + `","direction":"in","message":"hi"}}`
	tests := []struct {
		name, body, sig string
		want            int
	}{
		{"unsigned", created, "", http.StatusUnauthorized},
		{"wrong signature", created, sign("other", created), http.StatusUnauthorized},
		{"empty MAC", created, "sha256=", http.StatusUnauthorized},
		{"truncated MAC", created, sign(secret, created)[:len("sha256=")+32], http.StatusUnauthorized},
		{"one byte of the MAC", created, sign(secret, created)[:len("sha256=")+2], http.StatusUnauthorized},
		{"MAC without its prefix", created, strings.TrimPrefix(sign(secret, created), "sha256="), http.StatusUnauthorized},
		{"MAC of another body", created, sign(secret, transcript), http.StatusUnauthorized},
		{"transcript before its session is known: retry later", transcript, sign(secret, transcript), http.StatusServiceUnavailable},
		{"transcribe_created", created, sign(secret, created), http.StatusOK},
		{"transcript", transcript, sign(secret, transcript), http.StatusOK},
		{"duplicate transcript", transcript, sign(secret, transcript), http.StatusOK},
		{"our own voice is ignored", `{"type":"transcript_created","data":{"id":"` + vid("ts2") + `","transcribe_id":"` + vid("tr1") + `","direction":"out","message":"Thank you"}}`, "", http.StatusOK},
		{"other events accepted", `{"type":"activeflow_updated","data":{"id":"` + vid("x") + `"}}`, "", http.StatusOK},
		{"an event without data", `{"type":"activeflow_deleted"}`, "", http.StatusOK},
		{"transcribe_created without a reference type is a call's", `{"type":"transcribe_created","data":{"id":"` + vid("tr-n") + `","reference_id":"` + vid("c-n") + `"}}`, "", http.StatusOK},
		{"its words find the call", `{"type":"transcript_created","data":{"id":"` + vid("ts-n") + `","transcribe_id":"` + vid("tr-n") + `","direction":"in","message":"hello"}}`, "", http.StatusOK},
		{"not JSON", `{"type":`, "", http.StatusBadRequest},
		{"no type", `{"data":{}}`, "", http.StatusBadRequest},
		{"transcript without transcribe id", `{"type":"transcript_created","data":{"id":"` + vid("ts3") + `","direction":"in","message":"x"}}`, "", http.StatusBadRequest},
		{"hangup without call id", `{"type":"call_hangup","data":{}}`, "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.sig
			if sig == "" && tt.want != http.StatusUnauthorized {
				sig = sign(secret, tt.body)
			}
			got, body := post(t, events, tt.body, "X-VoIPBIN-Signature", sig)
			if got != tt.want {
				t.Errorf("status = %d, want %d (%s)", got, tt.want, body)
			}
		})
	}
	// The transcript arrived twice but is one turn: the call greets, then
	// clarifies "hi" once. It came before the call could decide (before its
	// first fetch): the fetch after the greeting starts the decision and
	// pauses, a later one asks.
	fetch := srv.URL + "/voipbin/fetch"
	var firsts []string
	for range 4 {
		_, body := post(t, fetch, `{"activeflow_id":"`+vid("af1")+`","reference_id":"`+vid("c1")+`"}`)
		var acts []struct {
			Type   string
			Option struct{ Text string }
		}
		if err := json.Unmarshal([]byte(body), &acts); err != nil || len(acts) == 0 {
			t.Fatalf("fetch: %s", body)
		}
		firsts = append(firsts, acts[0].Type+" "+acts[0].Option.Text)
		if acts[0].Type == "talk" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(firsts) < 3 || firsts[0] != "transcribe_start " || firsts[1] != "sleep " || !strings.HasPrefix(firsts[len(firsts)-1], "talk Sorry") {
		t.Fatalf("fetches began with %q; want the greeting, a pause, then the clarifying question", firsts)
	}
}

// TestFetchInput: past the token, a fetch is answered 200 with actions
// VoIPBin runs, whatever else it carries: VoIPBin hangs the caller up on any
// other answer (flow-manager actionHandleFetch). A body that names no call we
// can keep gets reception; a language, dialled number or keys that are none
// are left out (keys that are no keys are one wrong key). Each is logged with
// the field; only a wrong token is refused.
func TestFetchInput(t *testing.T) {
	buf := &syncBuffer{}
	log, err := jsonLog(buf, "info", false)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), Config{FetchToken: "tok"}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(svc))
	t.Cleanup(func() { srv.Close(); svc.close() })
	const reception = "+14155550199" // the example's fallback desk
	call := func() string {
		return `{"activeflow_id":"` + uuid.NewString() + `","reference_id":"` + uuid.NewString() + `"}`
	}
	tests := []struct {
		name, query, body string
		want              int
		reception         bool   // the answer connects the fallback desk at once
		logged            string // the field a logged problem names; "": none
	}{
		{"no token", "", call(), http.StatusUnauthorized, false, ""},
		{"wrong token", "?t=nope", call(), http.StatusUnauthorized, false, ""},
		{"not JSON", "?t=tok", `reference_id=c1`, 200, true, "body"},
		{"no call id", "?t=tok", `{}`, 200, true, "reference_id"},
		{"two values", "?t=tok", `{"reference_id":"` + vid("c1") + `"}{}`, 200, true, "body"},
		{"too large", "?t=tok", `{"reference_id":"` + strings.Repeat("x", 70<<10) + `"}`, 200, true, "body"},
		{"not UTF-8", "?t=tok", "{\"reference_id\":\"c\xff1\"}", 200, true, "body"},
		{"a 60 KB call id", "?t=tok", `{"reference_id":"` + strings.Repeat("a", 60<<10) + `"}`, 200, true, "reference_id"},
		{"a call id that is no UUID", "?t=tok", `{"reference_id":"call-1"}`, 200, true, "reference_id"},
		{"an upper-case UUID", "?t=tok", `{"reference_id":"` + strings.ToUpper(uuid.NewString()) + `"}`, 200, true, "reference_id"},
		{"a seed call", "?t=tok", `{"reference_id":"seed:` + uuid.NewString() + `"}`, 200, true, "reference_id"},
		{"a NUL in the id", "?t=tok", `{"reference_id":"` + uuid.NewString()[:35] + `\u0000"}`, 200, true, "reference_id"},
		{"a language that is no tag", "?t=tok&lang=en%00US", call(), 200, false, "lang"},
		{"a language of 36 bytes", "?t=tok&lang=" + strings.Repeat("a", 36), call(), 200, false, "lang"},
		{"a dialled number with a control character", "?t=tok&to=%2B1%07", call(), 200, false, "to"},
		{"keys that are no keys", "?t=tok&d=12%0a3", call(), 200, false, "d"},
		{"65 keys", "?t=tok&d=" + strings.Repeat("1", 65), call(), 200, false, "d"},
		{"keys A to D are keys", "?t=tok&d=ABCD", call(), 200, false, ""},
		{"keys, language and number", "?t=tok&lang=en-US&d=12%23*&to=%2B14155550000", call(), 200, false, ""},
		{"activeflow id only", "?t=tok", `{"activeflow_id":"` + uuid.NewString() + `"}`, 200, false, ""},
		{"ok", "?t=tok", call(), 200, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.reset()
			got, body := post(t, srv.URL+"/voipbin/fetch"+tt.query, tt.body)
			if got != tt.want {
				t.Fatalf("status = %d, want %d (%s)", got, tt.want, body)
			}
			if got != http.StatusOK {
				var p problem
				if err := json.Unmarshal([]byte(body), &p); err != nil || p.Error == "" {
					t.Errorf("a refusal must say why as JSON, got %s", body)
				}
				return
			}
			var acts []voipbin.Action
			if err := json.Unmarshal([]byte(body), &acts); err != nil || len(acts) == 0 {
				t.Fatalf("not a JSON array of actions: %s", body)
			}
			for _, a := range acts {
				if id, err := uuid.Parse(a.ID); err != nil || id == uuid.Nil {
					t.Errorf("action %s id %q is not a non-zero UUID", a.Type, a.ID)
				}
			}
			last := acts[len(acts)-1]
			if connects := last.Type == voipbin.TypeConnect && strings.Contains(body, `"target":"`+reception+`"`); connects != tt.reception {
				t.Errorf("connects reception: %v, want %v (%s)", connects, tt.reception, body)
			}
			if !tt.reception && !strings.Contains(body, `/voipbin/fetch?t=tok`) {
				t.Errorf("the next fetch must carry the token: %s", body)
			}
			if strings.Contains(body, "en%00US") || strings.Contains(body, "lang=aaaa") {
				t.Errorf("a language that is none is handed back in the next fetch URL: %s", body)
			}
			var problems []string
			for _, l := range buf.lines(t) {
				if p, ok := l["problems"].(string); ok {
					problems = append(problems, p)
				}
			}
			switch {
			case tt.logged == "" && len(problems) > 0:
				t.Errorf("logged problems %q, want none", problems)
			case tt.logged != "" && (len(problems) != 1 || !strings.HasPrefix(problems[0], tt.logged+":")):
				t.Errorf("logged problems %q, want one about %s", problems, tt.logged)
			case len(problems) == 1 && len(problems[0]) > 1000:
				t.Errorf("the logged problem echoes the input back: %d bytes", len(problems[0]))
			}
		})
	}
}

// TestEveryKeyIsAKey: VoIPBin keeps any DTMF key in voipbin.call.digits
// (call-manager digitsReceived), A to D too, and hangs up on a fetch answered
// with anything but actions. A caller in a keypad tree who presses A, or
// whose keys reach us garbled, hears that it is not an option and the menu
// again, and goes on to a department.
func TestEveryKeyIsAKey(t *testing.T) {
	srv := startServer(t, Config{FetchToken: testToken, ConfigFile: "../../../../testdata/modes/keypad.json"})
	res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "key-a", Bases: []string{srv.URL}, Token: testToken},
		[]voipbintest.Step{{Press: "A"}, {Press: "2"}, {Press: "1"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(res.Transcript, "\n"))
	}
	transcript := strings.Join(res.Transcript, "\n")
	if !strings.Contains(transcript, "Sorry, that is not an option.") {
		t.Errorf("the key A was not taken as a wrong key:\n%s", transcript)
	}
	if res.Connected != "+14155550121" {
		t.Errorf("connected %q after A, 2, 1, want accounts:\n%s", res.Connected, transcript)
	}

	// Keys that are none (a line break) are one wrong key, not "no key in time".
	id := `{"activeflow_id":"` + uuid.NewString() + `","reference_id":"` + uuid.NewString() + `"}`
	fetch := srv.URL + "/voipbin/fetch?t=" + testToken
	if s, body := post(t, fetch, id); s != http.StatusOK {
		t.Fatalf("first fetch = %d %s", s, body)
	}
	if s, body := post(t, fetch+"&d=1%0a", id); s != http.StatusOK || !strings.Contains(body, "Sorry, that is not an option.") {
		t.Errorf("keys with a line break = %d %s, want the menu again after the wrong-key notice", s, body)
	}
}

func TestWebhookToken(t *testing.T) {
	srv := startServer(t, Config{WebhookToken: "hook-secret"})
	body := `{"speech":{"results":[{"text":"I would like a quote for your enterprise plan"}]}}`
	for _, tt := range []struct {
		name, header string
		want         int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"token as a prefix", "Bearer hook-secretX", http.StatusUnauthorized},
		{"basic auth", "Basic aG9vay1zZWNyZXQ=", http.StatusUnauthorized},
		{"bare token", "hook-secret", http.StatusUnauthorized},
		{"right token", "Bearer hook-secret", http.StatusOK},
		{"scheme in lower case", "bearer hook-secret", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.header != "" {
				header = []string{"Authorization", tt.header}
			}
			got, resp := post(t, srv.URL+"/webhook/call-handler", body, header...)
			if got != tt.want {
				t.Fatalf("status = %d, want %d (%s)", got, tt.want, resp)
			}
			if got == http.StatusUnauthorized {
				var p problem
				if err := json.Unmarshal([]byte(resp), &p); err != nil || p.Error == "" {
					t.Errorf("a refusal must say why as JSON, got %s", resp)
				}
			} else if !strings.Contains(resp, `"transfer"`) {
				t.Errorf("an authorised request should be routed, got %s", resp)
			}
		})
	}
}
