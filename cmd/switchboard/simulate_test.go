package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

// TestSimulateScript replays a conversation file in process and shows, under
// each fetch, the machine's move, the classifier's answer, why and how long.
func TestSimulateScript(t *testing.T) {
	var out strings.Builder
	err := runSimulate(context.Background(), []string{"--script", "../../testdata/conversations/voipbin-vague-then-billing.json"},
		func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Logf("\n%s", got)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^# A greeting is too vague`),
		regexp.MustCompile(`(?m)^fetch 1: new -> listening \| [0-9.]+ ms$`),
		regexp.MustCompile(`(?m)^fetch 2: listening -> clarifying \| unsure [0-9.]+ \| why: not sure yet, clarification 1 \| [0-9.]+ ms$`),
		regexp.MustCompile(`(?m)^fetch [0-9]+: clarifying -> transferred \| billing [0-9.]+ \| why: local -> billing \| [0-9.]+ ms$`),
		regexp.MustCompile(`result: connected="\+14155550102"`),
	} {
		if !want.MatchString(got) {
			t.Errorf("output does not match %s", want)
		}
	}
}

// TestSimulateTalk is a person at the keyboard: words, a silent pause, words
// that stay vague, and a key at the menu.
func TestSimulateTalk(t *testing.T) {
	tests := []struct {
		name, input, connected, why string
	}{
		{"words", "hello\n\nI was charged twice on my invoice\n", "+14155550102", "why: local -> billing"},
		{"keypad", "hmm\nerm\nwell\n#2\n", "+14155550101", "why: keypad -> support"},
		{"a bare key at the menu", "hmm\nerm\nwell\n2\n", "+14155550101", "why: keypad -> support"},
		{"hang up", "", "", "caller hangs up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := runSimulate(context.Background(), nil, func(string) string { return "" }, strings.NewReader(tt.input), &out, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if !strings.Contains(got, `connected="`+tt.connected+`"`) || !strings.Contains(got, tt.why) {
				t.Errorf("want connected %q and %q:\n%s", tt.connected, tt.why, got)
			}
			if tt.name == "words" && !strings.Contains(got, "caller is silent") {
				t.Errorf("an empty line should be silence:\n%s", got)
			}
		})
	}
}

func TestSimulateRefusesWebhookScript(t *testing.T) {
	err := runSimulate(context.Background(), []string{"--script", "../../testdata/conversations/webhook-multi-turn.json"},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a phone call") {
		t.Errorf("got %v", err)
	}
}

// TestSimulateNeverMisleadsInSilence: flags that would be ignored, or that
// contradict each other, are refused; a script the call ended before playing
// whole fails and names what was left.
func TestSimulateNeverMisleadsInSilence(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"--config with --url", []string{"--url", "http://127.0.0.1:1", "--config", "../../flow/example.json", "--say", "hi"}, "--config sets up the service simulate runs itself"},
		{"--log-level with --url", []string{"--url", "http://127.0.0.1:1", "--log-level", "debug", "--say", "hi"}, "--log-level sets up"},
		{"--script with --say", []string{"--script", "../../testdata/conversations/voipbin-vague-then-billing.json", "--say", "hi"}, "not both"},
		{"steps left when the call ended", []string{"--say", "I was charged twice on my invoice", "--say", "and another thing", "--press", "3"},
			`the call ended before 2 of the caller's steps were played: --say "and another thing", --press 3`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := runSimulate(t.Context(), tt.args, noEnv, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestSimulateFailsWhenNobodyAnswers: a call that ends with nobody on the
// line fails simulate, whether the caller was left waiting or everyone was
// closed (Christmas), so a script learns it from the exit status.
func TestSimulateFailsWhenNobodyAnswers(t *testing.T) {
	var out strings.Builder
	err := runSimulate(t.Context(), []string{"--config", hoursConfig, "--at", "2026-12-25T10:00", "--say", "my invoice shows a double charge this month"},
		func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "the caller reached nobody: everyone was closed") {
		t.Errorf("err = %v, want the caller reached nobody (everyone closed):\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `connected=""`) {
		t.Errorf("want connected=\"\" in the summary:\n%s", out.String())
	}
}

// TestSimulateAsksWhenAnswered: a person at the terminal is asked for the
// caller's next move only once their last words have an answer, and every
// line they type is played: words said, keys alone pressed, wherever the
// caller is, and the screen says so.
func TestSimulateAsksWhenAnswered(t *testing.T) {
	play := func(typed ...string) string {
		t.Helper()
		var out strings.Builder
		err := simulate(t.Context(), nil, noEnv, strings.NewReader(strings.Join(typed, "\n")+"\n"),
			terminal{prompt: true, echo: true}, &out, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("\n%s", out.String())
		return out.String()
	}
	// The invoice takes longer to say than the pause after the question:
	// the next fetches wait for it, and the caller is not asked meanwhile,
	// so "hello?" is never typed into a prompt that would drop it.
	got := play("hi", "I was charged twice on my invoice", "hello? are you there?")
	afterWords, answered := false, false
	for _, l := range strings.Split(got, "\n") {
		switch {
		case strings.HasPrefix(l, "caller says") || strings.HasPrefix(l, "caller presses ("):
			if afterWords && !answered {
				t.Errorf("prompted before the caller's words were answered: %q", l)
			}
			words := l[strings.Index(l, "> ")+2:]
			afterWords, answered = words != "" && !keypadKeys.MatchString(words), false
		case strings.HasPrefix(l, "  talk ("):
			answered = true
		}
		if strings.HasPrefix(l, "  moves: ") || strings.HasPrefix(l, "fetch /") || strings.HasPrefix(l, "caller: ") {
			t.Errorf("a move printed twice: %q", l)
		}
	}
	if !strings.Contains(got, "why: the caller is speaking") || strings.Count(got, "caller says (") != 2 || !strings.Contains(got, `connected="+14155550102"`) {
		t.Errorf("want the fetches waiting for the words, two prompts and billing:\n%s", got)
	}
	// A lone digit at a listening prompt is a key press, said on screen.
	if got := play("hi", "2"); !strings.Contains(got, "> 2\ncaller presses 2\n") {
		t.Errorf("a lone digit is not pressed:\n%s", got)
	}
}

// TestBikeShop is a newcomer's config written from the README: a bike shop
// with three departments, weekday and Saturday hours, Christmas closed, and
// Spanish callers. Priority words page on-call, requests reach their
// department, a Christmas call reaches nobody (and simulate says so), and a
// Spanish caller is routed by their Spanish words.
func TestBikeShop(t *testing.T) {
	const config = "../../testdata/routing-bike-shop.json"
	for _, tt := range []struct {
		name, at, say, connected, fails string
	}{
		{"priority words", "2026-12-07T10:00", "I had an accident on the bike I bought from you and I'm injured", "+14155550911", ""},
		{"repairs", "2026-12-07T10:00", "my brakes are squeaking and I need a service", "+14155550101", ""},
		{"accounts", "2026-12-07T10:00", "I was charged twice for my new helmet", "+14155550102", ""},
		{"orders on a Saturday", "2026-12-12T11:00", "I'd like to order a new road bike", "+14155550100", ""},
		{"Saturday evening", "2026-12-12T17:00", "I'd like to order a new road bike", "", "everyone was closed"},
		{"Christmas", "2026-12-25T10:00", "I'd like to order a new road bike", "", "everyone was closed"},
		{"on-call at Christmas", "2026-12-25T10:00", "there was an accident, someone is injured", "+14155550911", ""},
		{"a Spanish caller", "2026-12-07T10:00", "Hola, tengo un pinchazo y necesito reparar la rueda", "+14155550101", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := runSimulate(t.Context(), []string{"--config", config, "--at", tt.at, "--say", tt.say}, noEnv, strings.NewReader(""), &out, io.Discard)
			if tt.fails != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fails) {
					t.Errorf("err %v, want %q:\n%s", err, tt.fails, out.String())
				}
			} else if err != nil {
				t.Fatalf("%v:\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), `connected="`+tt.connected+`"`) {
				t.Errorf("want connected=%q:\n%s", tt.connected, out.String())
			}
		})
	}
	// Its texts are its own: check has nothing to warn about.
	var out strings.Builder
	if err := run(t.Context(), []string{"check", "--config", config}, noEnv, &out, io.Discard); err != nil || strings.Contains(out.String(), "WARNING") {
		t.Errorf("check: %v\n%s", err, out.String())
	}
}

// TestSimulateShowsBothLegs: simulate plays handoffs with --unanswered and
// --declines, and shows what the caller and each person rung heard.
func TestSimulateShowsBothLegs(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"simulate", "--config", "../../testdata/routing-handoff.json", "--unanswered", "+14155550102",
		"--declines", "+14155550112", "--say", "I was charged twice on my invoice"}, noEnv, &out, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"talk (en-US): Sorry, they could not take your call. Trying someone else, please hold.",
		"leg to +14155550102:\n  rings +14155550102, caller ID \"+14155550000\"\n  rings on until VoIPBin is told to hang up: cancelled",
		"leg to +14155550112:", "presses 2",
		"hears (en-US): Call from +1 415 555 0123, about I was charged twice on my invoice. Press 1 to take it.",
		`result: connected="+14155550199"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simulate lacks %q:\n%s", want, out.String())
		}
	}
}
