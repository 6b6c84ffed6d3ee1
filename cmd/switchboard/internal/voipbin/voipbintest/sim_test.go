package voipbintest

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// No golden files here; -update is accepted so that go test ./... -update
// runs over every package.
var _ = flag.Bool("update", false, "no golden files here")

// scripted is a stand-in Switchboard: each fetch gets the next scripted
// answer; it records the fetch URLs it saw and answers events with the
// scripted statuses (200 when none are left).
type scripted struct {
	mu      sync.Mutex
	answers [][]map[string]any
	fetched []string
	events  []int
	seen    int
	// log is every event type and fetch, in the order they arrived; posted
	// is every event's body.
	log    []string
	posted []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/voipbin/events" {
		s.seen++
		var ev struct{ Type string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &ev)
		s.log, s.posted = append(s.log, ev.Type), append(s.posted, string(body))
		status := http.StatusOK
		if len(s.events) > 0 {
			status, s.events = s.events[0], s.events[1:]
		}
		w.WriteHeader(status)
		return
	}
	s.fetched = append(s.fetched, r.URL.RequestURI())
	s.log = append(s.log, "fetch")
	var acts []map[string]any
	if len(s.answers) > 0 {
		acts, s.answers = s.answers[0], s.answers[1:]
	}
	for _, a := range acts {
		a["id"] = uuid.NewString()
	}
	json.NewEncoder(w).Encode(acts)
}

func act(typ string, opt map[string]any) map[string]any {
	return map[string]any{"type": typ, "option": opt}
}

func play(t *testing.T, srv *scripted, opt Options, steps ...Step) (*Result, string) {
	t.Helper()
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	opt.Bases = []string{h.URL}
	opt.CallID = cmpDefault(opt.CallID, "call-1")
	opt.RetryPause = time.Millisecond
	res, err := Run(context.Background(), opt, steps)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, strings.Join(res.Transcript, "\n"))
	}
	return res, strings.Join(res.Transcript, "\n")
}

func cmpDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

var fetchNext = act("fetch", map[string]any{"event_url": "http://x/voipbin/fetch?t=&d=${voipbin.call.digits}", "event_method": "POST"})

func TestSubstitutionAtExecution(t *testing.T) {
	srv := &scripted{answers: [][]map[string]any{{
		act("variable_set", map[string]any{"key": "who", "value": "${voipbin.call.source.target}"}),
		act("talk", map[string]any{"text": "from ${who} to ${voipbin.call.destination.target}, unset [${nope}]"}),
		act("connect", map[string]any{
			"source":       map[string]any{"type": "tel", "target": "${voipbin.call.destination.target}"},
			"destinations": []any{map[string]any{"type": "tel", "target": "+14155550100"}},
		}),
	}}}
	res, tr := play(t, srv, Options{Caller: "+14155550123", Dialled: "+14155550000"})
	if !strings.Contains(tr, "talk (): from +14155550123 to +14155550000, unset []") {
		t.Errorf("variables not substituted at execution:\n%s", tr)
	}
	if res.Connected != "+14155550100" || res.CallerID != "+14155550000" {
		t.Errorf("nested source not substituted: connected %q caller ID %q\n%s", res.Connected, res.CallerID, tr)
	}
	if res.Actions != 2+3+1 {
		t.Errorf("actions = %d, want 6 (answer, fetch, 3 of ours, confbridge_join)", res.Actions)
	}
}

func TestKeys(t *testing.T) {
	menu := []map[string]any{
		act("digits_receive", map[string]any{"duration": 5000, "length": 1}),
		fetchNext,
	}
	t.Run("a key pressed during a talk answers the next digits_receive at once", func(t *testing.T) {
		srv := &scripted{answers: [][]map[string]any{
			append([]map[string]any{act("talk", map[string]any{"text": "hello"})}, menu...),
			{act("hangup", nil)},
		}}
		_, tr := play(t, srv, Options{}, Step{Press: "5", During: "talk"}, Step{Press: "1"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=5" || !strings.Contains(tr, "returns at once") {
			t.Errorf("fetched %v, want d=5 at once\n%s", srv.fetched, tr)
		}
	})
	entry := func(handle string) [][]map[string]any {
		talk := map[string]any{"text": "Enter your account number, then press pound."}
		switch handle {
		case "async":
			talk["async"] = true
		case "":
		default:
			talk["digits_handle"] = handle
		}
		return [][]map[string]any{
			{act("talk", talk), act("digits_receive", map[string]any{"duration": 5000, "length": 12, "key": "#"}), fetchNext},
			{act("hangup", nil)},
		}
	}
	t.Run("keys typed during a talk overwrite each other: the last one is left", func(t *testing.T) {
		srv := &scripted{answers: entry("")}
		play(t, srv, Options{}, Step{Press: "88123456#", During: "talk"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=" {
			t.Errorf("fetched %v, want d= (only \"#\" was left, which starts the fragment)", srv.fetched)
		}
	})
	t.Run("digits_handle next: one key ends the talk and is kept", func(t *testing.T) {
		srv := &scripted{answers: entry("next")}
		_, tr := play(t, srv, Options{}, Step{Press: "8", During: "talk"}, Step{Press: "8123456#"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=88123456" {
			t.Errorf("fetched %v, want d=88123456\n%s", srv.fetched, tr)
		}
	})
	t.Run("digits_handle next: keys typed quickly stop the call", func(t *testing.T) {
		// Each key forces the next action with the talk's id; the second,
		// on another ARI worker before the first moved the call on, is
		// refused by flow-manager, which stops the flow.
		h := httptest.NewServer(&scripted{answers: entry("next")})
		defer h.Close()
		res, err := Run(context.Background(), Options{CallID: "c", Bases: []string{h.URL}}, []Step{{Press: "88", During: "talk"}})
		if err == nil || !strings.Contains(strings.Join(res.Transcript, "\n"), "VOIPBIN STOPS THE CALL") {
			t.Errorf("two keys during a digits_handle next talk were taken: %v\n%s", err, strings.Join(res.Transcript, "\n"))
		}
	})
	t.Run("an async talk: the digits_receive after it collects every key typed during it", func(t *testing.T) {
		srv := &scripted{answers: entry("async")}
		_, tr := play(t, srv, Options{}, Step{Press: "88123456#", During: "talk"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=88123456" {
			t.Errorf("fetched %v, want d=88123456\n%s", srv.fetched, tr)
		}
	})
	t.Run("keys come at typing speed: those after a digits_receive's time are not in it", func(t *testing.T) {
		srv := &scripted{answers: [][]map[string]any{
			{act("digits_receive", map[string]any{"duration": 1000, "length": 12, "key": "#"}), fetchNext},
			{act("hangup", nil)},
		}}
		_, tr := play(t, srv, Options{}, Step{Press: "123456789012"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=12345" {
			t.Errorf("fetched %v, want d=12345: 5 keys in 1 s at 200 ms a key\n%s", srv.fetched, tr)
		}
	})
	t.Run("variable_set clears them", func(t *testing.T) {
		srv := &scripted{answers: [][]map[string]any{
			append([]map[string]any{act("talk", map[string]any{"text": "hello"}),
				act("variable_set", map[string]any{"key": "voipbin.call.digits", "value": ""})}, menu...),
			{act("hangup", nil)},
		}}
		play(t, srv, Options{}, Step{Press: "5", During: "talk"}, Step{Press: "1"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=1" {
			t.Errorf("fetched %v, want d=1", srv.fetched)
		}
	})
	t.Run("a new press overwrites", func(t *testing.T) {
		srv := &scripted{answers: [][]map[string]any{
			append([]map[string]any{act("talk", map[string]any{"text": "a"}), act("sleep", map[string]any{"duration": 100})}, menu...),
			{act("hangup", nil)},
		}}
		play(t, srv, Options{}, Step{Press: "5", During: "talk"}, Step{Press: "78", During: "sleep"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=8" {
			t.Errorf("fetched %v, want d=8", srv.fetched)
		}
	})
	t.Run("# starts the URL's fragment", func(t *testing.T) {
		srv := &scripted{answers: [][]map[string]any{
			{act("digits_receive", map[string]any{"duration": 5000, "length": 1, "key": "#"}), fetchNext},
			{act("hangup", nil)},
		}}
		play(t, srv, Options{}, Step{Press: "#"})
		if srv.fetched[1] != "/voipbin/fetch?t=&d=" {
			t.Errorf("fetched %v, want an empty d", srv.fetched)
		}
	})
}

func TestCallerID(t *testing.T) {
	connect := func(source map[string]any) [][]map[string]any {
		opt := map[string]any{"destinations": []any{map[string]any{"type": "tel", "target": "+14155550100"}}}
		if source != nil {
			opt["source"] = source
		}
		return [][]map[string]any{{act("connect", opt)}}
	}
	tel := func(n string) map[string]any { return map[string]any{"type": "tel", "target": n} }
	tests := []struct {
		name   string
		source map[string]any
		opt    Options
		want   string // caller ID shown; "" the call failed
	}{
		{"no source, no default outgoing number", nil, Options{}, ""},
		{"no source, default outgoing number", nil, Options{DefaultOutgoing: "+14155550999"}, "+14155550999"},
		{"the dialled number", tel("${voipbin.call.destination.target}"), Options{Dialled: "+14155550000"}, "+14155550000"},
		{"a virtual dialled number", tel("${voipbin.call.destination.target}"), Options{Dialled: "+899100200300"}, ""},
		{"a number the account does not own", tel("+14155550777"), Options{}, ""},
		{"an owned number", tel("+14155550777"), Options{Owned: []string{"+14155550777"}}, "+14155550777"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, tr := play(t, &scripted{answers: connect(tt.source)}, tt.opt)
			if res.CallerID != tt.want {
				t.Errorf("caller ID %q, want %q\n%s", res.CallerID, tt.want, tr)
			}
			if failed := strings.Contains(tr, "CALL FAILED"); failed != (tt.want == "") || failed != (res.Connected == "") {
				t.Errorf("failed=%v connected=%q, want failed=%v\n%s", failed, res.Connected, tt.want == "", tr)
			}
		})
	}
}

func TestEventRetries(t *testing.T) {
	t.Run("503 twice, then stored", func(t *testing.T) {
		srv := &scripted{events: []int{503, 503}, answers: [][]map[string]any{{act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}), act("hangup", nil)}}}
		_, tr := play(t, srv, Options{})
		if srv.seen != 3 || strings.Contains(tr, "LOST") {
			t.Errorf("attempts = %d, want 3 and the event kept\n%s", srv.seen, tr)
		}
	})
	t.Run("lost after 3 attempts", func(t *testing.T) {
		srv := &scripted{events: []int{500, 502, 503, 200}, answers: [][]map[string]any{{act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}), act("hangup", nil)}}}
		_, tr := play(t, srv, Options{})
		if srv.seen != 3 || !strings.Contains(tr, "LOST after 3 attempts") {
			t.Errorf("attempts = %d, want 3 then lost\n%s", srv.seen, tr)
		}
	})
}

func TestUnknownActionsCountAndLimit(t *testing.T) {
	var many []map[string]any
	for range 99 {
		many = append(many, act("no_such_action", nil))
	}
	srv := &scripted{answers: [][]map[string]any{many}}
	h := httptest.NewServer(srv)
	defer h.Close()
	res, err := Run(context.Background(), Options{CallID: "c", Bases: []string{h.URL}}, nil)
	if err == nil || res.Actions != 101 || !strings.Contains(strings.Join(res.Transcript, "\n"), "skipped (still counted)") {
		t.Errorf("99 unknown actions after answer and fetch: err %v, actions %d; want the call dropped at 101", err, res.Actions)
	}
}

func TestBadStepRefused(t *testing.T) {
	if _, err := Run(context.Background(), Options{Bases: []string{"http://127.0.0.1:1"}}, []Step{{Press: "1", During: "greeting"}}); err == nil {
		t.Error("a step during an unknown moment must be refused, not ignored")
	}
}

// numberFlowFor is a customer's flow around a fetch: a branch on the variable
// the fetched actions set, each branch its own talk and hangup.
func numberFlowFor(t *testing.T) []json.RawMessage {
	t.Helper()
	acts := []map[string]any{
		{"id": "a0000000-0000-4000-8000-000000000001", "type": "answer"},
		{"id": "a0000000-0000-4000-8000-000000000002", "type": "fetch", "option": map[string]any{
			"event_url": "https://customer.example/voipbin/fetch?t=&to=${voipbin.call.destination.target}", "event_method": "POST"}},
		{"id": "a0000000-0000-4000-8000-000000000003", "type": "branch", "option": map[string]any{
			"variable": "dept", "default_target_id": "a0000000-0000-4000-8000-000000000006",
			"target_ids": map[string]string{"sales": "a0000000-0000-4000-8000-000000000004"}}},
		{"id": "a0000000-0000-4000-8000-000000000004", "type": "talk", "option": map[string]any{"text": "sales [${dept}] ${where}"}},
		{"id": "a0000000-0000-4000-8000-000000000005", "type": "hangup"},
		{"id": "a0000000-0000-4000-8000-000000000006", "type": "talk", "option": map[string]any{"text": "reception"}},
		{"id": "a0000000-0000-4000-8000-000000000007", "type": "hangup"},
	}
	raws := make([]json.RawMessage, len(acts))
	for i, a := range acts {
		raws[i], _ = json.Marshal(a)
	}
	return raws
}

// TestFetchedActionsReturnToTheFlow: what a fetch returns runs as a frame on
// top of the number's flow, nested fetches included; when it ends, the flow
// goes on after its fetch, and branch jumps on the variable it then resets.
func TestFetchedActionsReturnToTheFlow(t *testing.T) {
	tests := []struct {
		name, dept, want string
	}{
		{"a branch target", "sales", "talk (): sales [] +14155550100"},
		{"the default target", "marketing", "talk (): reception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{answers: [][]map[string]any{
				{act("talk", map[string]any{"text": "one moment"}), fetchNext},
				{act("variable_set", map[string]any{"key": "dept", "value": tt.dept}),
					act("variable_set", map[string]any{"key": "where", "value": "+14155550100"})},
			}}
			res, transcript := play(t, srv, Options{Flow: numberFlowFor(t), Dialled: "+14155550000"})
			if !strings.Contains(transcript, "(the fetched actions ended: the number's flow goes on after its fetch)\n  branch on dept=\""+tt.dept+"\"\n  "+tt.want) {
				t.Errorf("the flow did not go on after its fetch to %q:\n%s", tt.want, transcript)
			}
			if srv.fetched[0] != "/voipbin/fetch?t=&to=+14155550000" {
				t.Errorf("first fetch %q, want the flow's own URL, substituted", srv.fetched[0])
			}
			// answer, fetch, talk, fetch, 2 variable_set, branch, talk, hangup
			if res.Actions != 9 || res.Fetches != 2 {
				t.Errorf("actions %d, fetches %d; want 9 and 2", res.Actions, res.Fetches)
			}
		})
	}
}

// TestTalkVoIPBinsTTSRefuses: a talk whose text is not SSML even inside
// <speak> is skipped, as VoIPBin's TTS does: nothing is heard and nothing
// can happen during it.
func TestTalkVoIPBinsTTSRefuses(t *testing.T) {
	srv := &scripted{answers: [][]map[string]any{{
		act("talk", map[string]any{"text": "3 for Billing & Accounts", "language": "en-US"}),
		act("talk", map[string]any{"text": "3 for Billing &amp; Accounts", "language": "en-US"}),
		act("hangup", nil),
	}}}
	_, tr := play(t, srv, Options{}, Step{Hangup: true, During: "talk"})
	if !strings.Contains(tr, "SKIPPED, the caller hears nothing") || !strings.Contains(tr, "talk (en-US): 3 for Billing & Accounts\ncaller hangs up (during the talk)") {
		t.Errorf("the bare & was spoken, or the escaped one was not:\n%s", tr)
	}
}

// TestConnectDestinations: VoIPBin finds an extension's phones by
// target_name and an agent by its id; without them, or to an address type it
// does not connect, the connect fails and the caller is hung up.
func TestConnectDestinations(t *testing.T) {
	tests := []struct {
		name string
		to   map[string]any
		ok   bool
	}{
		{"extension with target_name", map[string]any{"type": "extension", "target": "2001", "target_name": "2001"}, true},
		{"extension without target_name", map[string]any{"type": "extension", "target": "2001"}, false},
		{"agent by id", map[string]any{"type": "agent", "target": "3e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"}, true},
		{"agent by name", map[string]any{"type": "agent", "target": "alice"}, false},
		{"sip", map[string]any{"type": "sip", "target": "sales@pbx.example.com"}, true},
		{"an address type VoIPBin does not connect", map[string]any{"type": "queue", "target": "x"}, false},
		{"a misspelt option field", map[string]any{"type": "extension", "target": "2001", "targetname": "2001"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{answers: [][]map[string]any{{act("connect", map[string]any{
				"source":       map[string]any{"type": "tel", "target": "${voipbin.call.destination.target}"},
				"destinations": []any{tt.to},
			})}}}
			h := httptest.NewServer(srv)
			defer h.Close()
			res, err := Run(context.Background(), Options{CallID: "c", Bases: []string{h.URL}}, nil)
			if got := err == nil && res.Connected != ""; got != tt.ok {
				t.Errorf("connected %q (err %v), want ok %v\n%s", res.Connected, err, tt.ok, strings.Join(res.Transcript, "\n"))
			}
		})
	}
}

// TestQueue: queue_join fails at once without a wait flow; with one, each
// pass spends the wait flow's actions, a fetch_flow and an empty, inside the
// call's 100 actions.
func TestQueue(t *testing.T) {
	const id = "7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f"
	wait := []voipbin.Action{{Type: "talk", Option: voipbin.Talk("Please hold.", "en-US")}, {Type: "sleep", Option: voipbin.SleepOption{Duration: 29000}}}
	join := func() *scripted {
		return &scripted{answers: [][]map[string]any{{act("queue_join", map[string]any{"queue_id": id})}}}
	}
	run := func(queues map[string]Queue) (*Result, error) {
		h := httptest.NewServer(join())
		defer h.Close()
		return Run(context.Background(), Options{CallID: "c", Bases: []string{h.URL}, Queues: queues}, nil)
	}
	t.Run("no wait flow: hung up at once", func(t *testing.T) {
		res, err := run(map[string]Queue{id: {}})
		if err != nil || res.Connected != "" || !strings.Contains(strings.Join(res.Transcript, "\n"), "CALL FAILED") {
			t.Errorf("connected %q, err %v\n%s", res.Connected, err, strings.Join(res.Transcript, "\n"))
		}
	})
	t.Run("an agent answers after 5 minutes", func(t *testing.T) {
		res, err := run(map[string]Queue{id: {WaitFlow: wait, AnswerAfter: 5 * time.Minute}})
		if err != nil || res.Connected != "queue "+id {
			t.Fatalf("connected %q, err %v", res.Connected, err)
		}
		if want := 2 + 1 + 10*4 + 1; res.Actions != want { // answer, fetch, queue_join, 10 passes of 4, confbridge_join
			t.Errorf("actions = %d, want %d", res.Actions, want)
		}
	})
	t.Run("the wait_timeout passes first: the flow goes on after the queue_join", func(t *testing.T) {
		h := httptest.NewServer(&scripted{answers: [][]map[string]any{
			{act("queue_join", map[string]any{"queue_id": id}), act("talk", map[string]any{"text": "Nobody could take your call.", "language": "en-US"}), act("hangup", map[string]any{"reason": "normal"})}}})
		defer h.Close()
		res, err := Run(context.Background(), Options{CallID: "c", Bases: []string{h.URL},
			Queues: map[string]Queue{id: {WaitFlow: wait, AnswerAfter: 5 * time.Minute, WaitTimeout: 2 * time.Minute}}}, nil)
		transcript := strings.Join(res.Transcript, "\n")
		if err != nil || res.Connected != "" || !strings.Contains(transcript, "wait_timeout passes") || !strings.Contains(transcript, "Nobody could take your call.") {
			t.Errorf("connected %q, err %v: want the caller out of the queue at 2 min and the flow going on\n%s", res.Connected, err, transcript)
		}
		if want := 2 + 1 + 4*4 + 2; res.Actions != want { // answer, fetch, queue_join, 4 passes of 4, talk, hangup
			t.Errorf("actions = %d, want %d\n%s", res.Actions, want, transcript)
		}
	})
	t.Run("an agent answers before the wait_timeout", func(t *testing.T) {
		res, err := run(map[string]Queue{id: {WaitFlow: wait, AnswerAfter: time.Minute, WaitTimeout: 2 * time.Minute}})
		if err != nil || res.Connected != "queue "+id {
			t.Errorf("connected %q, err %v", res.Connected, err)
		}
	})
	t.Run("nobody answers: cut off when the actions run out", func(t *testing.T) {
		res, err := run(map[string]Queue{id: {WaitFlow: wait}})
		if err == nil || res.Connected != "" {
			t.Errorf("connected %q, err %v: want the call dropped", res.Connected, err)
		}
	})
}

// TestAfterConnect: when the department hangs up, VoIPBin goes on with the
// action after the connect; a department that is busy or does not answer
// leaves the caller ringing, and nothing after the connect runs.
func TestAfterConnect(t *testing.T) {
	answers := func() [][]map[string]any {
		return [][]map[string]any{{
			act("connect", map[string]any{
				"source":       map[string]any{"type": "tel", "target": "${voipbin.call.destination.target}"},
				"destinations": []any{map[string]any{"type": "tel", "target": "+14155550100"}},
			}),
			act("talk", map[string]any{"text": "after the connect"}),
		}}
	}
	res, tr := play(t, &scripted{answers: answers()}, Options{})
	if res.Connected != "+14155550100" || !strings.Contains(tr, "talk (): after the connect") {
		t.Errorf("an ended conversation goes on after the connect:\n%s", tr)
	}
	srv := &scripted{answers: answers()}
	res, tr = play(t, srv, Options{Unanswered: []string{"+14155550100"}})
	if res.Connected != "" || strings.Contains(tr, "after the connect") || srv.seen != 1 {
		t.Errorf("an unanswered transfer ran on, or the caller's hangup was not sent (events %d):\n%s", srv.seen, tr)
	}
}

// TestFetchAnswerRefused: VoIPBin needs a 200 with a bare JSON array whose
// actions each have a fresh, non-zero UUID.
func TestFetchAnswerRefused(t *testing.T) {
	for name, answer := range map[string]func(w http.ResponseWriter){
		"not an array": func(w http.ResponseWriter) { w.Write([]byte(`{"actions": []}`)) },
		"no id":        func(w http.ResponseWriter) { w.Write([]byte(`[{"type": "hangup"}]`)) },
		"the nil id": func(w http.ResponseWriter) {
			w.Write([]byte(`[{"id": "00000000-0000-0000-0000-000000000000", "type": "hangup"}]`))
		},
		"a repeated id": func(w http.ResponseWriter) {
			id := uuid.NewString()
			w.Write([]byte(`[{"id": "` + id + `", "type": "talk"}, {"id": "` + id + `", "type": "hangup"}]`))
		},
		"a 500": func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) },
	} {
		t.Run(name, func(t *testing.T) {
			h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w) }))
			defer h.Close()
			if _, err := Run(context.Background(), Options{CallID: "c", Bases: []string{h.URL}}, nil); err == nil {
				t.Error("VoIPBin would stop this call; the simulator took it")
			}
		})
	}
}

// TestMisspeltOptionRefused: VoIPBin ignores an option field it does not
// know, so a misspelt one silently does nothing there; the simulator refuses it.
func TestMisspeltOptionRefused(t *testing.T) {
	srv := &scripted{answers: [][]map[string]any{{act("talk", map[string]any{"text": "hi", "digits_handel": "next"}), act("hangup", nil)}}}
	h := httptest.NewServer(srv)
	defer h.Close()
	if _, err := Run(context.Background(), Options{CallID: "c", Bases: []string{h.URL}}, nil); err == nil || !strings.Contains(err.Error(), "digits_handel") {
		t.Errorf("a misspelt option field was taken: %v", err)
	}
}

// TestTranscriptionOutlivesTheTransfer: VoIPBin's transcription runs until
// the call ends, so after a transfer the caller's talk with the human
// (ToHuman) still reaches the webhook as transcripts; the script's own steps
// left stay unplayed.
func TestTranscriptionOutlivesTheTransfer(t *testing.T) {
	srv := &scripted{answers: [][]map[string]any{{
		act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}),
		act("connect", map[string]any{"source": map[string]any{"type": "tel", "target": DefaultDialled},
			"destinations": []any{map[string]any{"type": "tel", "target": "+14155550100"}}}),
	}}}
	res, out := play(t, srv, Options{ToHuman: []string{"hello, I was put through"}}, Step{Say: "left unsaid"}, Step{Hangup: true}, Step{Say: "never"})
	if res.Connected != "+14155550100" {
		t.Fatalf("not connected:\n%s", out)
	}
	// transcribe_created, then the ToHuman talk: its speech events and its transcript.
	if slices.Index(srv.log, "transcript_created") < 0 || strings.Count(strings.Join(srv.log, " "), "transcript_created") != 1 || strings.Contains(out, "left unsaid") ||
		!strings.Contains(out, "caller (to the human, still transcribed): hello, I was put through") || strings.Contains(out, "never") {
		t.Errorf("events %v:\n%s", srv.log, out)
	}
	if len(res.Unplayed) == 0 {
		t.Errorf("the steps left after the transfer were not reported unplayed:\n%s", out)
	}
	// A refusal of those words is Switchboard's fault, as for any event.
	srv = &scripted{answers: srv.answers, events: []int{200, 400}}
	srv.answers = [][]map[string]any{{
		act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}),
		act("connect", map[string]any{"source": map[string]any{"type": "tel", "target": DefaultDialled},
			"destinations": []any{map[string]any{"type": "tel", "target": "+14155550100"}}}),
	}}
	h := httptest.NewServer(srv)
	defer h.Close()
	if _, err := Run(context.Background(), Options{CallID: "c2", Bases: []string{h.URL}, ToHuman: []string{"hi"}}, nil); err == nil {
		t.Error("a transcript after the transfer answered 400 must fail the call")
	}
}

// TestSpeechTimeline: the caller speaks for a while from a moment into the
// pause, and VoIPBin's streaming recognizer reports it as it goes: speech
// started with the first interim result, interims, then speech ended and the
// final words. Events due after a pause ends are delivered in a later pause,
// not before the fetch that follows it.
func TestSpeechTimeline(t *testing.T) {
	pause := func(ms int) []map[string]any {
		return []map[string]any{act("sleep", map[string]any{"duration": ms}), fetchNext}
	}
	srv := &scripted{answers: [][]map[string]any{
		{act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}), act("sleep", map[string]any{"duration": 1500}), fetchNext},
		pause(500), pause(500), pause(500),
		{act("hangup", nil)},
	}}
	// 300 ms in, the caller speaks for 2000 ms: interims at 700, 1200, 1700
	// and 2200 ms, the final result 300 ms after the end, at 2600 ms.
	play(t, srv, Options{}, Step{Say: "my invoice is wrong", SpeakMS: 2000})
	want := []string{"fetch", "transcribe_created",
		"transcribe_speech_started", "transcribe_speech_interim", "transcribe_speech_interim", "fetch", // by 1500 ms
		"transcribe_speech_interim", "fetch", // by 2000
		"transcribe_speech_interim", "fetch", // by 2500
		"transcribe_speech_ended", "transcript_created", "fetch"} // by 3000
	if diff := cmp.Diff(want, srv.log); diff != "" {
		t.Errorf("events and fetches (-want +got):\n%s", diff)
	}
}

// TestTalkTakesTime: a talk plays before the action after it, 400 ms a
// word; a line the caller says meanwhile reaches the service first. An
// async talk takes no time.
func TestTalkTakesTime(t *testing.T) {
	talk := func(async bool) map[string]any {
		return act("talk", map[string]any{"text": "Routing you to Billing and Accounts. Please hold.", "language": "en-US", "async": async})
	}
	for _, tt := range []struct {
		async bool
		want  []string
	}{
		// The line's final words come at 300+1000+300 ms; the talk after
		// the 1200 ms sleep plays 8 words, 3200 ms.
		{false, []string{"fetch", "transcribe_created", "transcribe_speech_started", "transcribe_speech_interim", "transcribe_speech_interim",
			"fetch", "transcribe_speech_ended", "transcript_created", "fetch"}},
		{true, []string{"fetch", "transcribe_created", "transcribe_speech_started", "transcribe_speech_interim", "transcribe_speech_interim",
			"fetch", "fetch"}},
	} {
		srv := &scripted{answers: [][]map[string]any{
			{act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}), act("sleep", map[string]any{"duration": 1200}), fetchNext},
			{talk(tt.async), fetchNext},
			{act("hangup", nil)},
		}}
		play(t, srv, Options{}, Step{Say: "no wait", SpeakMS: 1000})
		if diff := cmp.Diff(tt.want, srv.log); diff != "" {
			t.Errorf("async %v: events and fetches (-want +got):\n%s", tt.async, diff)
		}
	}
}

// TestRealTimeWaits: in real time, the wait runs from the final words to the
// first answer that acts on them; pauses and the holding line do not end it.
func TestRealTimeWaits(t *testing.T) {
	srv := &scripted{answers: [][]map[string]any{
		{act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}), act("sleep", map[string]any{"duration": 1200}), fetchNext},
		{act("sleep", map[string]any{"duration": 100}), fetchNext},
		{act("talk", map[string]any{"text": "One moment, please."}), act("sleep", map[string]any{"duration": 100}), fetchNext},
		{act("talk", map[string]any{"text": "Routing you to Billing."}), act("sleep", map[string]any{"duration": 800}), fetchNext},
		{act("hangup", nil)},
	}}
	res, _ := play(t, srv, Options{RealTime: true, Holding: "One moment, please."}, Step{Say: "billing", SpeakMS: 600})
	// The words are final at 300+600+300 = 1200 ms; the routing line answers
	// them two pauses later, about 200 ms on.
	if len(res.Waits) != 1 || res.Waits[0] < 150*time.Millisecond || res.Waits[0] > 700*time.Millisecond {
		t.Errorf("waits %v, want one of about 200 ms", res.Waits)
	}
}

// TestCallerWaitsForAnAnswer: a caller who said something says more only
// after a talk has answered it, not in the pauses before.
func TestCallerWaitsForAnAnswer(t *testing.T) {
	srv := &scripted{answers: [][]map[string]any{
		{act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}), act("sleep", map[string]any{"duration": 2000}), fetchNext},
		{act("sleep", map[string]any{"duration": 500}), fetchNext},
		{act("talk", map[string]any{"text": "Tell me more."}), act("sleep", map[string]any{"duration": 2000}), fetchNext},
		{act("hangup", nil)},
	}}
	_, tr := play(t, srv, Options{}, Step{Say: "one", SpeakMS: 1000}, Step{Say: "two", SpeakMS: 1000})
	want := "  sleep 500\nfetch /voipbin/fetch?t=TOKEN&d=\n  talk (): Tell me more.\n  sleep 2000\ncaller: two"
	if !strings.Contains(tr, want) {
		t.Errorf("the caller spoke again before an answer:\n%s", tr)
	}
}

// TestTranscribeStartAsVoIPBin: VoIPBin reads a transcribe_start's language
// as BCP-47 (es-es is es-ES, an unreadable tag en-US) and reports that form;
// a second live transcription of the call in a language one is running in is
// refused (transcribe-manager startLive), and the flow goes on without it:
// no transcribe_created, and the caller's words reach only the first.
func TestTranscribeStartAsVoIPBin(t *testing.T) {
	start := func(lang string) map[string]any {
		return act("transcribe_start", map[string]any{"language": lang, "direction": "in"})
	}
	srv := &scripted{answers: [][]map[string]any{
		{start("es-es"), start("es-ES"), start("klingon"), start("en-US"), act("sleep", map[string]any{"duration": 5000}), fetchNext},
		{act("hangup", map[string]any{"reason": "normal"})},
	}}
	_, transcript := play(t, srv, Options{}, Step{Say: "hola"})
	var created, words []string
	for _, body := range srv.posted {
		var ev struct {
			Type string
			Data struct {
				Language     string
				TranscribeID string `json:"transcribe_id"`
			}
		}
		json.Unmarshal([]byte(body), &ev)
		switch ev.Type {
		case voipbin.EventTranscribeCreated:
			created = append(created, ev.Data.Language)
		case voipbin.EventTranscriptCreated:
			words = append(words, ev.Data.TranscribeID)
		}
	}
	if want := []string{"es-ES", "en-US"}; !slices.Equal(created, want) {
		t.Errorf("transcriptions created in %v, want %v (es-es as es-ES, then klingon as en-US; the second es-ES and en-US refused):\n%s", created, want, transcript)
	}
	if n := strings.Count(transcript, "transcribe_start REFUSED"); n != 2 {
		t.Errorf("%d starts refused, want 2:\n%s", n, transcript)
	}
	if len(words) != 2 {
		t.Errorf("the caller's words reached %d transcriptions, want the 2 running:\n%s", len(words), transcript)
	}
}

// TestJumbledSpeech: with Jumble the caller's speech events come as
// VoIPBin's webhook service may send them, each on its own goroutine: out of
// order, some twice, some never, on each transcription; the final words
// always come, once each. The call's Clock moves with its own clock.
func TestJumbledSpeech(t *testing.T) {
	var outOfOrder, lost, twice bool
	for seed := range uint64(50) {
		srv := &scripted{answers: [][]map[string]any{
			{act("transcribe_start", map[string]any{"language": "en-US", "direction": "in"}),
				act("transcribe_start", map[string]any{"language": "es-ES", "direction": "in"}),
				act("sleep", map[string]any{"duration": 8000}), fetchNext},
			{act("hangup", nil)},
		}}
		var events []string // type and transcription, in arrival order
		h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/voipbin/events" {
				var ev struct {
					Type string
					Data struct {
						TranscribeID string `json:"transcribe_id"`
					}
				}
				body, _ := io.ReadAll(r.Body)
				json.Unmarshal(body, &ev)
				if ev.Data.TranscribeID != "" {
					events = append(events, ev.Type+" "+ev.Data.TranscribeID)
				}
				r.Body = io.NopCloser(strings.NewReader(string(body)))
			}
			srv.ServeHTTP(w, r)
		}))
		clock := NewClock(time.Unix(0, 0))
		_, err := Run(context.Background(), Options{CallID: "jumble", Bases: []string{h.URL}, Jumble: rand.New(rand.NewPCG(seed, 1)), Clock: clock},
			[]Step{{Say: []string{"my child's tooth got knocked loose playing soccer", "yes"}[seed%2]}})
		h.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := clock.Now(); got != time.Unix(8, 0) {
			t.Errorf("seed %d: the clock says %v after an 8 s pause; want 8 s on", seed, got)
		}
		for _, tr := range []string{WireID("transcribe-" + WireID("jumble") + "-1"), WireID("transcribe-" + WireID("jumble") + "-2")} {
			var mine []string
			for _, e := range events {
				if typ, ok := strings.CutSuffix(e, " "+tr); ok {
					mine = append(mine, typ)
				}
			}
			if n := slices.Index(mine, "transcript_created"); n < 0 || slices.Index(mine[n+1:], "transcript_created") >= 0 {
				t.Fatalf("seed %d: transcription %s got %v; want its final words once", seed, tr, mine)
			}
			started, ended := slices.Index(mine, "transcribe_speech_started"), slices.Index(mine, "transcribe_speech_ended")
			outOfOrder = outOfOrder || started > ended && ended >= 0
			lost = lost || started < 0 || ended < 0
			twice = twice || strings.Count(strings.Join(mine, " "), "transcribe_speech_started") > 1
		}
	}
	if !outOfOrder || !lost || !twice {
		t.Errorf("over 50 calls: speech ended before it started %v, an event lost %v, one delivered twice %v; want each", outOfOrder, lost, twice)
	}
}
