package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// handoffConversation is one scripted handoff in testdata/conversations/handoff:
// a call, how each person rung behaves, and what the caller and they must hear.
type handoffConversation struct {
	About  string `json:"about"`
	Config string `json:"config"`
	// People says how each destination behaves (voipbintest.Person*); the
	// rest accept.
	People  map[string]string  `json:"people,omitempty"`
	Steps   []voipbintest.Step `json:"steps"`
	ToHuman []string           `json:"to_human,omitempty"`
	// LoseEvents loses every event of the legs.
	LoseEvents bool            `json:"lose_events,omitempty"`
	Expect     json.RawMessage `json:"expect"`
}

// handoffExpectation is what a conversation's caller and the people rung must get.
type handoffExpectation struct {
	// Reaches is who the caller talks to in the end ("": nobody, they hung up).
	Reaches string `json:"reaches"`
	// Language is the language of everything the caller hears.
	Language string `json:"language"`
	// MaxActions bounds the VoIPBin actions the caller's call runs.
	MaxActions int `json:"max_actions"`
	// Hears and NeverHears are texts said on the call, to the caller or to
	// a person rung.
	Hears      []string `json:"hears"`
	NeverHears []string `json:"never_hears,omitempty"`
}

func parseHandoffConversation(b []byte) (handoffConversation, handoffExpectation, error) {
	var conv handoffConversation
	var exp handoffExpectation
	strict := func(b []byte, v any) error {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return err
		}
		if dec.More() {
			return errors.New("trailing data")
		}
		return nil
	}
	if err := strict(b, &conv); err != nil {
		return conv, exp, err
	}
	switch {
	case conv.About == "":
		return conv, exp, errors.New(`"about": missing`)
	case len(conv.Steps) == 0:
		return conv, exp, errors.New(`"steps": none`)
	case len(conv.Expect) == 0:
		return conv, exp, errors.New(`"expect": missing; say what the caller and the people rung must get`)
	}
	if err := strict(conv.Expect, &exp); err != nil {
		return conv, exp, fmt.Errorf("expect: %w", err)
	}
	if exp.Language == "" || exp.MaxActions == 0 || len(exp.Hears) == 0 {
		return conv, exp, errors.New(`expect: "language", "max_actions" and "hears" are required`)
	}
	for target, p := range conv.People {
		if !slices.Contains([]string{voipbintest.PersonAccepts, voipbintest.PersonUnanswered, voipbintest.PersonBusy, voipbintest.PersonFails,
			voipbintest.PersonDeclines, voipbintest.PersonSilent, voipbintest.PersonHangsUp}, p) {
			return conv, exp, fmt.Errorf("people.%s: %q is no way a person behaves", target, p)
		}
	}
	return conv, exp, nil
}

var queuedAt = regexp.MustCompile(`queued=[0-9]+`)

var said = regexp.MustCompile(`^\s*(?:talk|hears) \(([^)]*)\)[^:]*: (.*)$`)

// TestHandoffConversations plays every handoff conversation through the
// strict stand-ins, against its golden transcript and its expectations:
// nobody is stranded (no conference or call left, the caller reaches who
// they should), and every person who answers hears the caller's reason first.
func TestHandoffConversations(t *testing.T) {
	files, err := filepath.Glob("../../../../testdata/conversations/handoff/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no handoff conversations: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			conv, exp, err := parseHandoffConversation(b)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			bench := newHandoffBench(t, conv.Config, conv.People)
			bench.rest.LoseEvents = conv.LoseEvents
			res, transcript := bench.callWith(t, "handoff-"+name, conv.ToHuman, conv.Steps...)
			transcript = queuedAt.ReplaceAllString(transcript, "queued=MS") // when the caller joined a queue, by the clock
			got := "# " + conv.About + "\n" + transcript + "\n" + res.Summary() + "\n"
			if *update {
				if err := os.WriteFile(goldenFile(file), []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if diff := cmp.Diff(readGolden(t, file), got); diff != "" {
				t.Errorf("transcript differs from its golden file (-want +got):\n%s", diff)
			}
			if res.Connected != exp.Reaches {
				t.Errorf("the caller reached %q, want %q", res.Connected, exp.Reaches)
			}
			if res.Actions > exp.MaxActions {
				t.Errorf("%d VoIPBin actions, want at most %d", res.Actions, exp.MaxActions)
			}
			if len(res.Unplayed) > 0 {
				t.Errorf("steps never played: %+v", res.Unplayed)
			}
			var heard []string
			inLeg := false
			for _, line := range res.Transcript {
				inLeg = inLeg || strings.HasPrefix(line, "leg to ")
				m := said.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				heard = append(heard, m[2])
				if !inLeg && m[1] != exp.Language {
					t.Errorf("the caller hears %q in %s, want %s", m[2], m[1], exp.Language)
				}
			}
			all := strings.Join(heard, "\n")
			for _, h := range exp.Hears {
				if !strings.Contains(all, h) {
					t.Errorf("nobody heard %q; what was said:\n%s", h, all)
				}
			}
			for _, h := range exp.NeverHears {
				if strings.Contains(all, h) {
					t.Errorf("%q was said; it must never be:\n%s", h, all)
				}
			}
			// Whoever answered heard who is calling and why before taking the call.
			if exp.Reaches != "" && strings.Contains(transcript, "leg to "+exp.Reaches+":") {
				leg := transcript[strings.Index(transcript, "leg to "+exp.Reaches+":"):]
				if w, j := strings.Index(leg, "hears ("), strings.Index(leg, "joins the caller's conference"); j >= 0 && w < 0 && !strings.Contains(conv.About, "whisper off") {
					t.Errorf("%s took the call without hearing the whisper first:\n%s", exp.Reaches, leg)
				}
			}
		})
	}
}

func TestHandoffConversationFilesAreStrict(t *testing.T) {
	ok := `{"about":"x","config":"c","steps":[{"say":"hi"}],"expect":{"reaches":"+1","language":"en-US","max_actions":24,"hears":["a"]}}`
	if _, _, err := parseHandoffConversation([]byte(ok)); err != nil {
		t.Fatalf("a valid conversation: %v", err)
	}
	for _, tt := range []struct{ name, file, want string }{
		{"no expect", strings.Replace(ok, `,"expect":{"reaches":"+1","language":"en-US","max_actions":24,"hears":["a"]}`, "", 1), "expect"},
		{"misspelt handoffExpectation", strings.Replace(ok, `"hears"`, `"heard"`, 1), "heard"},
		{"nothing to hear", strings.Replace(ok, `"hears":["a"]`, `"hears":[]`, 1), "required"},
		{"unknown person", strings.Replace(ok, `"steps"`, `"people":{"+1":"asleep"},"steps"`, 1), "asleep"},
		{"misspelt field", strings.Replace(ok, `"steps"`, `"stpes"`, 1), "stpes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := parseHandoffConversation([]byte(tt.file)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}
