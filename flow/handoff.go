package flow

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// A handoff hands a routed caller to a person who can say no: the caller
// waits on hold while one destination after another is rung, each for its
// ring time; the person who answers hears who is calling and why, and takes
// the call with a key. Whoever does not answer, is busy, fails or declines
// passes the caller on, to the department's next destination and then the
// fallback desk's. This file holds the domain half: what is configured, what
// is remembered between requests, and what people hear. The service does
// the platform's half (cmd/switchboard/handoff.go).

// Ring times, in seconds.
const (
	DefaultRingSeconds = 22
	// MinRingSeconds leaves a person time to reach the phone; MaxRingSeconds
	// is VoIPBin's own dial timeout, which ends every outgoing call that
	// rings longer.
	MinRingSeconds = 5
	MaxRingSeconds = 60
	// AcceptSeconds is how long the person who answered has to press the
	// accept key once the whisper has been said.
	AcceptSeconds = 5
	// AcceptKey takes the call.
	AcceptKey = "1"
)

// HandoffDefaults are the routing table's handoff settings, which each
// department may override.
type HandoffDefaults struct {
	// RingSeconds is how long one destination rings before the caller goes
	// on (default DefaultRingSeconds).
	RingSeconds int `json:"ring_seconds,omitempty"`
	// Whisper, on by default, tells the person who answers who is calling and
	// why, and lets them take the call with a key; off, answering takes it.
	Whisper *bool `json:"whisper,omitempty"`
	// Texts holds what the caller and the person answering hear, by language.
	Texts map[string]*HandoffTexts `json:"texts,omitempty"`
}

// DepartmentHandoff is one department's handoff settings.
type DepartmentHandoff struct {
	// Then lists where to try next, in order, when the department's own
	// destination does not take the call: phone numbers (+14155550111) or
	// SIP URIs (desk2@pbx.example.com).
	Then        []string `json:"then,omitempty"`
	RingSeconds int      `json:"ring_seconds,omitempty"`
	Whisper     *bool    `json:"whisper,omitempty"`
	// Language is the language the department's people are spoken to in
	// (default: the routing table's language).
	Language string `json:"language,omitempty"`
}

// HandoffTexts are what a handoff says.
type HandoffTexts struct {
	// Whisper is said to the person who answers: "{caller}" is replaced by
	// the caller's number, said digit group by digit group, "{reason}" by
	// what the call is about.
	Whisper string `json:"whisper,omitempty"`
	// Next is said to the caller when a destination did not take the call
	// and another is tried; Gone to the person who accepted a caller who had
	// just hung up.
	Next string `json:"next,omitempty"`
	Gone string `json:"gone,omitempty"`
	// Hold is said to the caller every few seconds while a destination
	// rings, so that they never wait in silence.
	Hold string `json:"hold,omitempty"`
	// Unknown stands for a caller whose number is withheld, Unsaid for a
	// reason the caller never gave.
	Unknown string `json:"unknown,omitempty"`
	Unsaid  string `json:"unsaid,omitempty"`
}

// defaultHandoffTexts are the built-in texts, by primary language subtag.
var defaultHandoffTexts = map[string]HandoffTexts{
	"en": {
		Whisper: "Call from {caller}, about {reason}. Press 1 to take it.",
		Next:    "Sorry, they could not take your call. Trying someone else, please hold.",
		Gone:    "Sorry, the caller has hung up.",
		Hold:    "Still trying, please hold.",
		Unknown: "a withheld number",
		Unsaid:  "something they did not say",
	},
	"es": {
		Whisper: "Llamada de {caller}, sobre {reason}. Pulse 1 para atenderla.",
		Next:    "Lo siento, no han podido atender su llamada. Probamos con otra persona, espere por favor.",
		Gone:    "Lo siento, la persona que llamaba ha colgado.",
		Hold:    "Seguimos intentándolo, espere por favor.",
		Unknown: "un número oculto",
		Unsaid:  "algo que no ha dicho",
	},
}

func (t *HandoffTexts) fill(d HandoffTexts) {
	for _, f := range []struct {
		v *string
		d string
	}{
		{&t.Whisper, d.Whisper}, {&t.Next, d.Next}, {&t.Gone, d.Gone}, {&t.Hold, d.Hold}, {&t.Unknown, d.Unknown}, {&t.Unsaid, d.Unsaid},
	} {
		if *f.v == "" {
			*f.v = f.d
		}
	}
}

// setHandoffDefaults fills in the handoff settings left out.
func (r *Routing) setHandoffDefaults() {
	h := &r.Handoff
	if h.RingSeconds == 0 {
		h.RingSeconds = DefaultRingSeconds
	}
	if h.Texts == nil {
		h.Texts = map[string]*HandoffTexts{}
	}
	for lang := range r.Texts { // every language callers are spoken to has handoff texts
		if _, ok := h.Texts[lang]; !ok {
			h.Texts[lang] = &HandoffTexts{}
		}
	}
	if h.Texts[r.Language] == nil {
		h.Texts[r.Language] = &HandoffTexts{}
	}
	english := defaultHandoffTexts["en"]
	for lang, t := range h.Texts {
		if t == nil { // validateHandoffs reports it
			continue
		}
		primary, _, _ := strings.Cut(lang, "-")
		if d, ok := defaultHandoffTexts[strings.ToLower(primary)]; ok {
			t.fill(d)
		}
		t.fill(english)
	}
}

// validateHandoffs reports what is wrong with the handoff settings.
func (r *Routing) validateHandoffs(bad func(string, ...any)) {
	ring := func(at string, s int) {
		if s != 0 && (s < MinRingSeconds || s > MaxRingSeconds) {
			bad("%s.ring_seconds: %d; must be %d..%d: VoIPBin ends every outgoing call that rings %d s", at, s, MinRingSeconds, MaxRingSeconds, MaxRingSeconds)
		}
	}
	ring("routing.handoff", r.Handoff.RingSeconds)
	for lang, t := range r.Handoff.Texts {
		if t == nil {
			bad("routing.handoff.texts.%s: empty", lang)
			continue
		}
		if !strings.Contains(t.Whisper, AcceptKey) {
			bad("routing.handoff.texts.%s.whisper: must tell the person answering to press %s", lang, AcceptKey)
		}
	}
	for _, name := range r.DepartmentNames(true) {
		d := r.Departments[name]
		if d == nil || d.Handoff == nil {
			continue
		}
		at := "routing.departments." + name + ".handoff"
		ring(at, d.Handoff.RingSeconds)
		if d.Queue != "" {
			bad("%s: a queue department keeps its callers in the queue; remove it", at)
		}
		for i, to := range d.Handoff.Then {
			if _, ok := handoffDestination(to); !ok {
				bad("%s.then[%d]: %q is neither a phone number VoIPBin dials (+14155550111) nor a SIP URI (desk@pbx.example.com)", at, i, to)
			}
		}
		if l := d.Handoff.Language; l != "" && r.Handoff.Texts[l] == nil {
			bad("%s.language: %q has no texts (routing.texts or routing.handoff.texts)", at, l)
		}
	}
}

// handoffDestination reads one entry of a department's "then" list.
func handoffDestination(s string) (Destination, bool) {
	switch {
	case telNumber.MatchString(s):
		return Destination{Kind: ToTel, Target: s}, true
	case sipURI.MatchString(s):
		return Destination{Kind: ToSIP, Target: s}, true
	}
	return Destination{}, false
}

// HandoffTarget is one destination a handoff tries.
type HandoffTarget struct {
	Dept        string      // the department it belongs to
	To          Destination // where it rings
	CallerID    string      // shown to it ("": the number the caller dialled)
	RingSeconds int
	Whisper     bool
	Language    string // what the person answering is spoken to in
}

// HandoffTargets lists, in order, where a caller routed to dept is rung:
// the department's own destination and its "then" list, then the fallback
// desk's. A queue department has none: its callers wait in its queue.
func (r *Routing) HandoffTargets(dept string) []HandoffTarget {
	var out []HandoffTarget
	for _, name := range []string{dept, r.Fallback.Destination} {
		d, ok := r.Department(name)
		if !ok || d.Queue != "" || len(out) > 0 && name == dept {
			continue
		}
		h := d.Handoff
		if h == nil {
			h = &DepartmentHandoff{}
		}
		t := HandoffTarget{Dept: name, CallerID: r.CallerIDFor(d), RingSeconds: h.RingSeconds, Whisper: true, Language: h.Language}
		if t.RingSeconds == 0 {
			t.RingSeconds = r.Handoff.RingSeconds
		}
		if w := h.Whisper; w != nil {
			t.Whisper = *w
		} else if w := r.Handoff.Whisper; w != nil {
			t.Whisper = *w
		}
		if t.Language == "" {
			t.Language = r.Language
		}
		t.To = d.Destination()
		out = append(out, t)
		for _, s := range h.Then {
			if to, ok := handoffDestination(s); ok {
				t.To = to
				out = append(out, t)
			}
		}
		if name == r.Fallback.Destination {
			break
		}
	}
	return out
}

// HandoffTextsFor returns the handoff texts in lang, or in the default language.
func (r *Routing) HandoffTextsFor(lang string) *HandoffTexts {
	if t := r.Handoff.Texts[lang]; t != nil {
		return t
	}
	return r.Handoff.Texts[r.Language]
}

// Whisper is what the person answering hears first: who is calling and why,
// in their own language, and how to take the call. reason is the model's one-line
// summary when there is one, else "" and the caller's own words are used.
func (r *Routing) Whisper(t HandoffTarget, caller, reason string, turns []string) string {
	texts := r.HandoffTextsFor(t.Language)
	who := SpeakableNumber(caller)
	if who == "" {
		who = texts.Unknown
	}
	if reason == "" {
		reason = Gist(turns)
	}
	if reason == "" {
		reason = texts.Unsaid
	}
	return strings.NewReplacer("{caller}", who, "{reason}", reason).Replace(texts.Whisper)
}

// gistWords bounds the caller's words repeated in a whisper: one breath.
const gistWords = 14

// markup is a tag, which is never said.
var markup = regexp.MustCompile(`<[^<>]*>`)

// Gist is the caller's reason in their own words, as safe to say as any
// text: the longest of their last two lines (the clearest, usually), with
// only letters, digits, commas, apostrophes, hyphens and question marks kept, at most gistWords words,
// without a trailing full stop (the whisper adds its own).
func Gist(turns []string) string {
	var best string
	for i := max(0, len(turns)-2); i < len(turns); i++ {
		if len(strings.Fields(turns[i])) >= len(strings.Fields(best)) {
			best = turns[i]
		}
	}
	best = markup.ReplaceAllString(best, " ")
	clean := strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune(" ,'-?", r):
			return r
		}
		return ' ' // markup, symbols and full stops would not be said right

	}, best)
	words := strings.Fields(clean)
	cut := len(words) > gistWords
	if cut {
		words = words[:gistWords]
	}
	s := strings.Trim(strings.Join(words, " "), " ,-?")
	if cut {
		s += "..."
	}
	return s
}

// SpeakableNumber writes a phone number the way a person reads it out, in
// digit groups: "+16505550123" becomes "+1 650 555 0123". Anything that is
// not a phone number (a SIP address, a withheld caller) gives "".
func SpeakableNumber(n string) string {
	if !telNumber.MatchString(n) {
		return ""
	}
	d := n[1:]
	if len(d) == 11 && d[0] == '1' { // North America: +1 NPA NXX XXXX
		return fmt.Sprintf("+1 %s %s %s", d[1:4], d[4:7], d[7:])
	}
	groups := []string{d[:2]} // most country codes outside +1 have two digits
	d = d[2:]
	for len(d) > 4 {
		groups, d = append(groups, d[:3]), d[3:]
	}
	return "+" + strings.Join(append(groups, d), " ")
}

// Handoff is a call's handoff in progress, kept with the call so that any
// replica can take the next event or fetch.
type Handoff struct {
	// Dept is the department the caller was routed to; Try indexes the
	// destination being rung in HandoffTargets(Dept).
	Dept string `json:"dept"`
	Try  int    `json:"try"`
	// Phase is where the try is: Preparing (its conference is being made
	// and its destination dialled), Ringing, Answered (the person picked up
	// and hears the whisper), Accepted (they took the call), or Done.
	Phase string `json:"phase"`
	// PrepMS is when the try's preparation was taken on (Unix ms): it names
	// the preparation, and one older than its lease may be taken over.
	PrepMS int64 `json:"prep,omitempty"`
	// Joined is set once a fetch answer put the caller in the try's
	// conference: a later fetch of theirs means the conference went.
	Joined bool `json:"joined,omitempty"`
	// NoConference is set when no conference could be made to hold the
	// caller: nothing more can be tried, the caller is connected plainly.
	NoConference bool `json:"noconf,omitempty"`
	// Conference holds the caller, and Leg is the call to the person rung.
	Conference string `json:"conf,omitempty"`
	Leg        string `json:"leg,omitempty"`
	// RangMS is when the leg started ringing, DueMS when its ring time ends (Unix ms).
	RangMS int64 `json:"rang,omitempty"`
	DueMS  int64 `json:"due,omitempty"`
	// Outcome is how the last try ended (see the Outcome constants).
	Outcome string `json:"out,omitempty"`
	// Caller is the caller's number, for the whisper, and Summary the
	// model's one-line reason for the call ("": the caller's own words).
	Caller  string `json:"from,omitempty"`
	Summary string `json:"sum,omitempty"`
	// Actions counts the call's VoIPBin actions, against its limit.
	Actions int `json:"acts"`
}

// The phases of a handoff's try.
const (
	PhasePreparing = "preparing"
	PhaseRinging   = "ringing"
	PhaseAnswered  = "answered"
	PhaseAccepted  = "accepted"
	PhaseDone      = "done"
)

// How a try ends.
const (
	OutcomeAnswered   = "answered"   // the person took the call
	OutcomeUnanswered = "unanswered" // nobody answered within the ring time
	OutcomeBusy       = "busy"
	OutcomeDeclined   = "declined" // answered, then said no (a wrong key, none, or hung up)
	OutcomeFailed     = "failed"   // the platform could not place the call
	OutcomeCallerLeft = "caller_left"
)

// A Timer is a moment in a call's life kept in Timers, so that any replica
// acts on it when it comes: in a try's ring time, a word to the caller on
// hold (Hold) or its end (RingEnd), for the leg rung for Call; after a
// message whose recording silence ended, the goodbye (MessageEnd) and the
// hangup after it (HangUp), Leg naming the recording.
type Timer struct {
	Call string `json:"c"`
	Leg  string `json:"l"`
	Kind string `json:"k"`
	AtMS int64  `json:"at"`
}

// The kinds of Timer.
const (
	TimerHold       = "hold"
	TimerRingEnd    = "ring_end"
	TimerMessageEnd = "message_end"
	TimerHangUp     = "hang_up"
)

// Timers keeps the handoffs' timers, shared by every replica. Errors are the store's.
type Timers interface {
	// Set stores t, due at t.AtMS; setting it again changes nothing.
	Set(ctx context.Context, t Timer) error
	// Claim takes a timer due by now that nobody holds, holding it until
	// now+lease: a replica that dies holding it lets it go then.
	Claim(ctx context.Context, now time.Time, lease time.Duration) (Timer, bool, error)
	// Done forgets t.
	Done(ctx context.Context, t Timer) error
}

// Open reports whether a try is under way: rung or answered, not yet decided.
func (h *Handoff) Open() bool {
	return h != nil && (h.Phase == PhaseRinging || h.Phase == PhaseAnswered)
}

// LegOutcome is how a try ends when its leg hangs up with VoIPBin's
// hangup_reason while it is in phase (bin-call-manager models/call
// calculateHangupReasonDirectionOutgoing).
func LegOutcome(phase, hangupReason string) string {
	if phase == PhaseAnswered {
		return OutcomeDeclined // they picked up and put the phone down
	}
	switch hangupReason {
	case "busy":
		return OutcomeBusy
	case "noanswer", "dialout", "cancel", "timeout":
		return OutcomeUnanswered
	case "normal":
		return OutcomeDeclined // rejected while it rang
	}
	return OutcomeFailed
}

// DescribeHandoffs says, for `switchboard check`, where each department's
// callers are rung in turn when VoIPBin's REST API is configured.
func (r *Routing) DescribeHandoffs() []string {
	var out []string
	for _, name := range r.DepartmentNames(true) {
		ts := r.HandoffTargets(name)
		if d := r.Departments[name]; d.Queue != "" {
			out = append(out, fmt.Sprintf("%-10s waits in its queue (no handoff)", name))
			continue
		}
		var steps []string
		for _, t := range ts {
			w := "whisper"
			if !t.Whisper {
				w = "no whisper"
			}
			steps = append(steps, fmt.Sprintf("%s (%d s, %s)", t.To.Target, t.RingSeconds, w))
		}
		out = append(out, fmt.Sprintf("%-10s %s", name, strings.Join(steps, ", then ")))
	}
	return out
}

// HandoffRule says, under `switchboard check`'s handoffs, what they need.
const HandoffRule = "Handoffs: with VOIPBIN_ACCESSKEY, serve holds a routed caller on hold and rings the destinations above in\n" +
	"turn, each for its ring time; whoever answers hears who is calling and why and takes the call with 1. Without\n" +
	"it a transfer is a plain connect: a destination that is busy or does not answer leaves the caller ringing,\n" +
	"nobody moves them on, and the person answering hears nothing first.\n"
