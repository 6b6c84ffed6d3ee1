package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

func post(t *testing.T, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestEvents(t *testing.T) {
	const secret = "s3cret"
	srv := startServer(t, settings{Secret: secret})
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
	log, err := settings{LogLevel: "info", LogFormat: "json"}.logger(buf)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := build(context.Background(), settings{FetchToken: "tok"}, log)
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
	srv := startServer(t, settings{FetchToken: testToken, ConfigFile: "../../testdata/modes/keypad.json"})
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

// TestRun drives the binary's run as main does: it serves on a free port,
// answers health checks and stops when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	getenv := func(k string) string {
		return map[string]string{"SWITCHBOARD_FETCH_TOKEN": "tok"}[k]
	}
	go func() { errc <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, getenv, pw, io.Discard) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "switchboard listening on "))
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %d", path, resp.StatusCode)
		}
	}
	if got, _ := post(t, "http://"+addr+"/voipbin/fetch?t=tok", `{"reference_id":"`+vid("c1")+`"}`); got != http.StatusOK {
		t.Errorf("fetch = %d", got)
	}
	var out strings.Builder
	if err := run(ctx, []string{"simulate", "--url", "http://" + addr, "--say", "billing please"}, getenv, &out, io.Discard); err != nil {
		t.Errorf("simulate: %v", err)
	}
	if !strings.Contains(out.String(), `connected="+14155550102"`) {
		t.Errorf("simulate should show the call routed to billing:\n%s", out.String())
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	file := t.TempDir() + "/bad.json"
	if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"sales": "555"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"serve", "--config", file, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a phone number") || !strings.Contains(err.Error(), "fallback: missing") {
		t.Fatalf("want every problem named, got %v", err)
	}
}

func TestModelConnsSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want int
		bad  bool
	}{
		{"default", "", nil, 0, false},
		{"from the environment", "64", nil, 64, false},
		{"flag wins", "64", []string{"--model-conns", "8"}, 8, false},
		{"not a number", "many", nil, 0, true},
		{"zero", "0", nil, 0, true},
		{"negative flag", "", []string{"--model-conns", "-1"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return map[string]string{"SWITCHBOARD_MODEL_CONNS": tc.env}[k] }
			s, err := parseSettings(tc.args, getenv, io.Discard, io.Discard)
			if tc.bad {
				if err == nil {
					t.Fatalf("settings %+v accepted, want an error", s)
				}
				return
			}
			if err != nil || s.ModelConns != tc.want {
				t.Errorf("ModelConns = %d, %v; want %d", s.ModelConns, err, tc.want)
			}
		})
	}
}

func TestWebhookToken(t *testing.T) {
	srv := startServer(t, settings{WebhookToken: "hook-secret"})
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

// TestServeRefusesOpenRoutes: with REDIS_URL set (production), serve names
// every credential left unset and refuses to start unless told --insecure.
func TestServeRefusesOpenRoutes(t *testing.T) {
	all := map[string]string{
		"REDIS_URL":                 "redis://127.0.0.1:1/0", // never reached: serve stops first, or does not need it to start
		"SWITCHBOARD_FETCH_TOKEN":   "f",
		"VOIPBIN_WEBHOOK_SECRET":    "s",
		"SWITCHBOARD_WEBHOOK_TOKEN": "w",
		"SWITCHBOARD_PUBLIC_URL":    "https://switchboard.example.com",
	}
	without := func(names ...string) func(string) string {
		return func(k string) string {
			for _, n := range names {
				if k == n {
					return ""
				}
			}
			return all[k]
		}
	}
	for _, tt := range []struct {
		name    string
		getenv  func(string) string
		missing []string
	}{
		{"fetch token", without("SWITCHBOARD_FETCH_TOKEN"), []string{"SWITCHBOARD_FETCH_TOKEN"}},
		{"webhook secret", without("VOIPBIN_WEBHOOK_SECRET"), []string{"VOIPBIN_WEBHOOK_SECRET"}},
		{"webhook token", without("SWITCHBOARD_WEBHOOK_TOKEN"), []string{"SWITCHBOARD_WEBHOOK_TOKEN"}},
		// Else the Host header of each fetch would say where VoIPBin fetches next.
		{"public URL", without("SWITCHBOARD_PUBLIC_URL"), []string{"SWITCHBOARD_PUBLIC_URL"}},
		{"all three", without("SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN"),
			[]string{"SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A serve that does not refuse is stopped, so the test fails rather than waits.
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, tt.getenv, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "refusing to start") || !strings.Contains(err.Error(), "--insecure") {
				t.Fatalf("err = %v, want a refusal that mentions --insecure", err)
			}
			for _, name := range tt.missing {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("refusal does not name %s: %v", name, err)
				}
			}
		})
	}
	starts := func(t *testing.T, args []string, getenv func(string) string) string {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pr, pw := io.Pipe()
		var logs strings.Builder
		errc := make(chan error, 1)
		go func() {
			errc <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, pw, &logs)
		}()
		go func() { _, _ = bufio.NewReader(pr).ReadString('\n'); cancel(); _, _ = io.Copy(io.Discard, pr) }()
		if err := <-errc; err != nil {
			t.Errorf("serve %v: %v, want it to start", args, err)
		}
		return logs.String()
	}
	t.Run("insecure starts", func(t *testing.T) {
		starts(t, []string{"--insecure"}, without("SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN"))
	})
	t.Run("every credential set starts", func(t *testing.T) { starts(t, nil, without()) })
	t.Run("no Redis starts with warnings", func(t *testing.T) {
		logs := starts(t, nil, func(string) string { return "" })
		warnings := regexp.MustCompile(`(?m)^.*WARN.*$`).FindAllString(logs, -1)
		if len(warnings) != 4 {
			t.Errorf("want four warnings, the open routes, the fetch URL from the Host header, the memory store and the transcription left running, one line each:\n%s", logs)
		}
		if !regexp.MustCompile(`SWITCHBOARD_PUBLIC_URL is not set: .*Host header`).MatchString(logs) {
			t.Errorf("the warning for SWITCHBOARD_PUBLIC_URL does not name its risk, the fetch URL taken from the Host header:\n%s", logs)
		}
		for _, name := range []string{"SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN", "REDIS_URL", "VOIPBIN_ACCESSKEY", "SWITCHBOARD_PUBLIC_URL"} {
			if !strings.Contains(logs, name) {
				t.Errorf("no warning about %s in:\n%s", name, logs)
			}
		}
	})
}

// TestServeRefusesBlankCredentials: a credential of whitespace only is as
// good as none and is refused, named, whether Redis is set or not.
func TestServeRefusesBlankCredentials(t *testing.T) {
	for _, name := range []string{"SWITCHBOARD_FETCH_TOKEN", "VOIPBIN_WEBHOOK_SECRET", "SWITCHBOARD_WEBHOOK_TOKEN", "VOIPBIN_ACCESSKEY", "OPENAI_API_KEY"} {
		getenv := func(k string) string {
			if k == name {
				return " \t "
			}
			return ""
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--insecure"}, getenv, io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "blank") {
			t.Errorf("%s of whitespace: %v, want a refusal naming it", name, err)
		}
	}
}

// TestServeWarnsOfOpenDebugAddresses: the profiler and /metrics have no
// authentication; on an address other than loopback serve starts, and says
// so (read from its start-up warnings: a test listens on loopback only).
func TestServeWarnsOfOpenDebugAddresses(t *testing.T) {
	warnings := func(debug, metrics string) string {
		var b strings.Builder
		warnOpen(slog.New(slog.NewTextHandler(&b, nil)), settings{DebugAddr: debug, MetricsAddr: metrics})
		return b.String()
	}
	open := warnings(":6060", "0.0.0.0:9090")
	for _, want := range []string{"--debug-addr :6060 is not a loopback address", "--metrics-addr 0.0.0.0:9090 is not a loopback address"} {
		if !strings.Contains(open, want) {
			t.Errorf("no warning %q in:\n%s", want, open)
		}
	}
	for _, addrs := range [][2]string{{"127.0.0.1:6060", "localhost:9090"}, {"[::1]:6060", ""}} {
		if closed := warnings(addrs[0], addrs[1]); strings.Contains(closed, "loopback") {
			t.Errorf("a loopback address is warned about:\n%s", closed)
		}
	}
}

// TestCheckExplainsCallerID: `switchboard check` says what caller ID each
// transfer shows and that virtual +899 numbers are never accepted.
func TestCheckExplainsCallerID(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"check", "--config", "../../testdata/routing-caller-id.json"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config ok", "virtual +899", "sales      tel       +14155550100", "caller ID +14155550160", "caller ID +14155550150"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	file := t.TempDir() + "/virtual.json"
	if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "caller_id": "+899100200300"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"check", "--config", file}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "never accepts as caller ID") {
		t.Errorf("a virtual caller ID must be refused with the reason, got %v", err)
	}
}

// TestCheckListsModes: `switchboard check` names each mode and the numbers it
// answers, and refuses a keypad tree with a loop.
func TestCheckListsModes(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"check", "--config", "../../testdata/modes/multilingual.json"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"mode choose-by-keypad: conversation, transfer, languages en-US/es-ES by keypad (+14155550300)",
		"mode detect-by-speech: conversation, transfer, languages en-US/es-ES by speech (every other number)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	file := t.TempDir() + "/loop.json"
	if err := os.WriteFile(file, []byte(`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"},
		"modes": {"tree": {"kind": "keypad", "keypad": {"start": "a", "menus": {
			"a": {"prompt": "p", "options": [{"key": "1", "menu": "b"}]},
			"b": {"prompt": "p", "options": [{"key": "1", "menu": "a"}]}}}}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"check", "--config", file}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loop: a -> b -> a") {
		t.Errorf("a keypad tree with a loop must be refused, got %v", err)
	}
}

// TestCheckQueueWait: `switchboard check` says how long a queued caller can
// wait, warns when a queue department's wait flow is not described, and
// refuses one whose wait leaves too few actions.
func TestCheckQueueWait(t *testing.T) {
	check := func(sales string) (string, error) {
		file := t.TempDir() + "/queue.json"
		body := `{"routing": {"departments": {"sales": ` + sales + `, "fallback": "+14155550199", "emergency": "+14155550911"}}}`
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err := run(context.Background(), []string{"check", "--config", file}, func(string) string { return "" }, &out, io.Discard)
		return out.String(), err
	}
	const queue = `"queue": "7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f"`
	out, err := check(`{` + queue + `}`)
	if err != nil || !strings.Contains(out, "WARNING queue sales: routing.departments.sales.wait_flow is not set") {
		t.Errorf("no warning for a queue without a described wait flow (%v):\n%s", err, out)
	}
	out, err = check(`{` + queue + `, "wait_flow": {"actions": 1, "loop_ms": 60000}}`)
	if err != nil || strings.Contains(out, "WARNING queue") || !strings.Contains(out, "about 5m0s of waiting") {
		t.Errorf("a described wait flow (%v):\n%s", err, out)
	}
	if _, err := check(`{` + queue + `, "wait_flow": {"actions": 2, "loop_ms": 5000}}`); err == nil || !strings.Contains(err.Error(), "make the wait flow's loop longer") {
		t.Errorf("a 5 s loop cannot last 5 minutes in 100 actions; got %v", err)
	}
	// The longest wait: check says what the queue's wait_timeout must be.
	out, err = check(`{` + queue + `, "wait_flow": {"actions": 1, "loop_ms": 60000}, "max_wait_seconds": 90}`)
	if err != nil || !strings.Contains(out, "after 1m30s (max_wait_seconds) the caller goes on to the fallback desk: set the queue's wait_timeout in VoIPBin to at most 90000 ms") {
		t.Errorf("a queue's longest wait (%v):\n%s", err, out)
	}
	for _, bad := range []string{`{` + queue + `, "max_wait_seconds": 5}`, `{` + queue + `, "max_wait_seconds": 3600}`, `{"number": "+14155550100", "max_wait_seconds": 60}`} {
		if _, err := check(bad); err == nil || !strings.Contains(err.Error(), "max_wait_seconds") {
			t.Errorf("%s: got %v, want max_wait_seconds refused", bad, err)
		}
	}
}

// TestPublicURLChecked: SWITCHBOARD_PUBLIC_URL is the base of every fetch
// URL VoIPBin is given, so it must be an absolute http(s) URL without query.
func TestPublicURLChecked(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://switchboard.example.com": true, "http://127.0.0.1:3000/base": true,
		"switchboard.example.com": false, "ftp://switchboard.example.com": false,
		"https://": false, "https://h/?t=1": false, "https://h/#x": false,
	} {
		_, err := parseSettings(nil, func(k string) string {
			return map[string]string{"SWITCHBOARD_PUBLIC_URL": url}[k]
		}, io.Discard, io.Discard)
		if (err == nil) != ok {
			t.Errorf("SWITCHBOARD_PUBLIC_URL=%q: err %v, want ok=%v", url, err, ok)
		}
	}
}
