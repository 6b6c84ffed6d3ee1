package eval

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// Store is what a phone call played through the router needs: its calls, and
// an inbox for the caller's words.
type Store interface {
	flow.Calls
	flow.Inbox
}

// EntryDigits is what an evaluated caller types at a hybrid mode's keypad
// entry: an account number, which only reaches the audit record.
const EntryDigits = "123456789012"

// DialledFor returns the number to dial to reach mode in cfg: "" (any number)
// for the default mode, else the first number mapped to it.
func DialledFor(cfg *flow.Config, mode string) (string, error) {
	r := &cfg.Routing
	if _, ok := r.Modes[mode]; !ok {
		return "", fmt.Errorf("mode %q is not configured (have %s)", mode, strings.Join(modeNames(r), ", "))
	}
	if mode == r.DefaultMode {
		return "", nil
	}
	var numbers []string
	for n, m := range r.Numbers {
		if m == mode {
			numbers = append(numbers, n)
		}
	}
	if len(numbers) == 0 {
		return "", fmt.Errorf("mode %q answers no number and is not the default", mode)
	}
	slices.Sort(numbers)
	return numbers[0], nil
}

func modeNames(r *flow.Routing) []string {
	var names []string
	for n := range r.Modes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// PlayCall plays one conversation as a phone call to dialled, through the
// same turns VoIPBin drives: each fetch answered by the router, the caller's
// next words delivered as a transcript before the fetch that follows a pause.
// The caller answers the mode's keypad steps as a cooperative caller would:
// the key of the conversation's language, an account number at an entry, and
// in a keypad tree the shortest key path to the labelled department (the
// operator key when the tree has none). At the fallback keypad menu they press
// nothing. A call handed back to the customer's flow counts as routed to the
// department it names. The call starts at at (zero: now).
func PlayCall(ctx context.Context, cfg *flow.Config, st Store, local, model flow.Classifier, callID, dialled string, c Conversation, at time.Time) Outcome {
	var tokens *counter
	if model != nil {
		tokens = &counter{Classifier: model}
		model = tokens
	}
	r := newRouter(cfg, st, local, model, at)
	_, mode := cfg.Routing.Mode(dialled)
	out := Outcome{Conversation: c, Got: Clarify}
	start := time.Now()
	turn := flow.Turn{CallID: callID, Channel: flow.Voice, Dialled: dialled}
	var keys []string // keypad tree keys still to press
	if mode.Keypad != nil {
		keys = mode.Keypad.KeysTo(c.Department)
		if keys == nil {
			keys = []string{flow.KeyOperator}
		}
	}
	next, sessions, events := 0, 0, 0
	for range 60 { // VoIPBin's action limit ends a call long before
		acts := r.Next(ctx, turn).Actions
		turn.HasDigits, turn.Digits = false, ""
		if dept, ok := routedTo(acts); ok {
			out.Got = dept
			break
		}
		call, _, err := st.Load(ctx, callID)
		if err != nil || len(acts) == 0 || call.Left() { // an announced transfer comes with the next fetch
			break
		}
		fed, waits := false, false
		for _, a := range acts {
			switch a.Kind {
			case flow.ActTranscribe:
				sessions++
				st.Append(ctx, callID, fmt.Sprint("session-", sessions), flow.Input{Session: fmt.Sprint("s", sessions), Lang: a.Language})
			case flow.ActMenu:
				turn.HasDigits = true
				switch call.State {
				case flow.StateLanguage:
					turn.Digits = strconv.Itoa(max(slices.Index(mode.Languages, c.Language), 0) + 1)
				case flow.StateEntry:
					turn.Digits = EntryDigits
				case flow.StateKeypad:
					if len(keys) > 0 {
						turn.Digits, keys = keys[0], keys[1:]
					}
				}
			case flow.ActListen:
				if a.Millis == 0 {
					continue // the next fetch comes at once
				}
				waits = true
				if next == len(c.Turns) {
					continue
				}
				// Each transcription hears the caller (one per language when
				// the call detects its language).
				for s := 1; s <= max(sessions, 1); s++ {
					events++
					st.Append(ctx, callID, fmt.Sprint("words-", events), flow.Input{Text: c.Turns[next], Session: fmt.Sprint("s", s)})
					// As the service does on each transcript_created: decide
					// now, for the next fetch to hand out.
					r.Next(ctx, flow.Turn{CallID: callID, Channel: flow.Voice, OnWords: true})
				}
				next++
				fed = true
			}
		}
		out.Played, out.Asked = next, call.Clarifications
		if waits && !fed {
			break // asked again with nothing left to say: still clarifying
		}
	}
	return out.finish(ctx, st, callID, start, tokens)
}

// routedTo returns the department a turn's answer sends the caller to: a
// transfer, or the department handed back to the customer's flow.
func routedTo(acts []flow.Action) (string, bool) {
	for _, a := range acts {
		switch {
		case a.Kind == flow.ActConnect:
			return a.Department, true
		case a.Kind == flow.ActSet && a.Variable == flow.VarDepartment:
			return a.Value, true
		}
	}
	return "", false
}
