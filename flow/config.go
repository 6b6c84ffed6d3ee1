package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the platform that a config may not exceed.
const (
	MaxBudgetMS = 2500 // a caller left longer in silence wonders whether the line dropped
	MaxActions  = 98   // VoIPBin's 100 actions per call, with a margin of 2
)

// Reserved department names. Every routing table has both.
const (
	Fallback  = "fallback"  // the human desk that catches whatever we cannot route
	Emergency = "emergency" // on-call, reached at once through the priority lane
)

// Config is the routing table and the dialogue settings: everything an operator
// changes without a deploy. Its JSON form is the seed article's configuration
// template, extended; the template itself loads unchanged.
type Config struct {
	Routing Routing `json:"routing"`
}

// Routing is the body of a Config.
type Routing struct {
	// Departments maps a department's name (the classifier's label) to where it is.
	// A bare string is a phone number, as in the seed's template.
	Departments map[string]*Department `json:"departments"`
	// PrioritySignals are the words and phrases that page on-call at once
	// (the rule is in priority.go).
	PrioritySignals []string       `json:"priority_signals"`
	LLM             LLM            `json:"llm"`
	Fallback        FallbackPolicy `json:"fallback"`
	Dialog          Dialog         `json:"dialog"`
	// Language is the default language of the call, a BCP-47 tag such as en-US.
	Language string `json:"language,omitempty"`
	// Texts holds what the caller hears, by language.
	Texts map[string]*Texts `json:"texts,omitempty"`
	// CallerID is the caller ID of transfers to phone numbers; a department's own
	// wins. Empty: the number the caller dialled (see CallerIDFor).
	CallerID string `json:"caller_id,omitempty"`
	// Modes are the ways a number can be answered, by name; Numbers maps a
	// dialled number (E.164) to its mode, and DefaultMode answers every other
	// number. Without modes every number is a conversation that transfers.
	Modes       map[string]*Mode  `json:"modes,omitempty"`
	Numbers     map[string]string `json:"numbers,omitempty"`
	DefaultMode string            `json:"default_mode,omitempty"`
	// Hours are the business's opening hours, kept by every department
	// without its own but the emergency line; nil: always open (see hours.go).
	Hours *Hours `json:"hours,omitempty"`
	// Person says where callers who ask for a person go, and what they say
	// to (person.go); nil: the fallback desk, on the default phrases.
	Person *Person `json:"person,omitempty"`
	// Handoff is how a caller is handed to a department when VoIPBin's REST
	// API is configured (see handoff.go).
	Handoff HandoffDefaults `json:"handoff,omitzero"`
	// Messages lets a caller who reaches nobody leave a message (message.go);
	// Returning recognises callers who call again (returning.go).
	Messages  *Messages  `json:"messages,omitempty"`
	Returning *Returning `json:"returning,omitempty"`

	signals [][]string            // PrioritySignals as words, for matching
	person  map[string][][]string // person phrases as words, by language key (person.go)
}

// Department is one place a caller can be transferred to. Exactly one of
// Number, SIP, Extension, Agent and Queue says where it is.
type Department struct {
	Number    string `json:"number,omitempty"`    // a phone number, +14155550100
	SIP       string `json:"sip,omitempty"`       // a SIP URI, sales@pbx.example.com
	Extension string `json:"extension,omitempty"` // a VoIPBin extension
	Agent     string `json:"agent,omitempty"`     // a VoIPBin agent's id
	Queue     string `json:"queue,omitempty"`     // a VoIPBin queue's id
	// CallerID is the caller ID of transfers to this department (see Routing.CallerID).
	CallerID    string   `json:"caller_id,omitempty"`
	Label       string   `json:"label,omitempty"`       // what the caller hears: "Billing & Accounts"
	Description string   `json:"description,omitempty"` // what it handles, for the prompt and the local classifier
	Keywords    []string `json:"keywords,omitempty"`
	Examples    []string `json:"examples,omitempty"`
	Digit       string   `json:"digit,omitempty"` // keypad key in the menu
	// Labels holds the label in other languages, by BCP-47 tag.
	Labels map[string]string `json:"labels,omitempty"`
	// Hours are the department's own opening hours, and AfterHours the
	// department its callers go to while it is closed (default: the fallback
	// desk). See hours.go.
	Hours      *Hours `json:"hours,omitempty"`
	AfterHours string `json:"after_hours,omitempty"`
	// WaitFlow describes a queue department's wait flow (see QueueWaitMS).
	WaitFlow *WaitFlow `json:"wait_flow,omitempty"`
	// MaxWaitSeconds is the longest a caller waits in a queue department's
	// queue before going on (default QueueWaitMS): the queue's own
	// wait_timeout in VoIPBin must be at most this (see queue.go).
	MaxWaitSeconds int `json:"max_wait_seconds,omitempty"`
	// Handoff overrides the routing table's handoff settings (see handoff.go).
	Handoff *DepartmentHandoff `json:"handoff,omitempty"`
}

// LabelIn returns what a caller speaking lang hears as the department's name.
func (d *Department) LabelIn(lang string) string {
	if l := d.Labels[lang]; l != "" {
		return l
	}
	return d.Label
}

// UnmarshalJSON accepts the seed's bare phone number as well as the full object.
func (d *Department) UnmarshalJSON(b []byte) error {
	var number string
	if err := json.Unmarshal(b, &number); err == nil {
		*d = Department{Number: number}
		return nil
	}
	type plain Department
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*d = Department(p)
	return nil
}

// LLM configures the OpenAI-compatible classifier and the time it may take.
type LLM struct {
	Model        string  `json:"model"`
	Temperature  float32 `json:"temperature"`
	MaxTokens    int     `json:"max_tokens"`
	TimeoutMS    int     `json:"timeout_ms"`
	SystemPrompt string  `json:"system_prompt,omitempty"`
	// BudgetMS bounds a decision on the caller's words, model included, from
	// the moment they arrived (and a seed webhook answer): the caller waits in
	// silence meanwhile; 2 s by default, never more than 2.5 s. A fetch never
	// waits on the model: it answers within FetchBudget.
	BudgetMS int `json:"budget_ms,omitempty"`
	// Retries is how many times a failed model call is tried again while budget remains.
	Retries int `json:"retries,omitempty"`
	// MinConfidence and MinMargin turn a probable answer into a clarifying question
	// (Rasa's FallbackClassifier threshold and ambiguity_threshold).
	MinConfidence float64 `json:"min_confidence,omitempty"`
	MinMargin     float64 `json:"min_margin,omitempty"`
	// Breaker opens after this many failures in a row and probes again after OpenMS.
	BreakerFailures int `json:"breaker_failures,omitempty"`
	BreakerOpenMS   int `json:"breaker_open_ms,omitempty"`
}

// FallbackPolicy is the seed's fallback block; Destination names the
// department that catches what cannot be routed. OnTimeout and OnError are
// accepted for the seed's sake but cannot be turned off: a call is never
// dropped, so a failing model always falls back (local classifier, menu, this desk).
type FallbackPolicy struct {
	OnTimeout   bool   `json:"on_timeout"`
	OnError     bool   `json:"on_error"`
	Destination string `json:"destination"`
}

// Dialog holds the turn-taking settings.
type Dialog struct {
	MaxClarifications int `json:"max_clarifications,omitempty"`
	MinWords          int `json:"min_words,omitempty"`  // fewer words than this is vague unless a department is named
	ListenMS          int `json:"listen_ms,omitempty"`  // one listening pause handed to VoIPBin
	SilenceMS         int `json:"silence_ms,omitempty"` // silence before "are you still there?"
	MenuMS            int `json:"menu_ms,omitempty"`    // time to press a key
	// AnswerMS is the first pause after a question: a short answer is in
	// within it, and a longer one has begun (VoIPBin's speech events say so).
	// QuickMS is the pause while the caller speaks or their words are being
	// decided: the answer is near, and comes with the next fetch.
	AnswerMS int `json:"answer_ms,omitempty"`
	QuickMS  int `json:"quick_ms,omitempty"`
	// MaxActions is how many VoIPBin actions a call may use, VoIPBin's own
	// (the flow's answer and fetch, the confbridge_join after a connect) included.
	MaxActions int `json:"max_actions,omitempty"`
	// AcknowledgeAfterMS: when the caller's words have waited longer than
	// this for their decision, a fetch says a short acknowledgement ("One
	// moment, please."), once, while it pauses.
	AcknowledgeAfterMS int `json:"acknowledge_after_ms,omitempty"`
}

// Texts is every sentence the caller hears, in one language. "{department}" in
// Routing is replaced by the department's label.
type Texts struct {
	Greeting   string   `json:"greeting,omitempty"`
	Clarify    []string `json:"clarify,omitempty"`
	StillThere string   `json:"still_there,omitempty"`
	Routing    string   `json:"routing,omitempty"`
	Urgent     string   `json:"urgent,omitempty"`
	// Menu is the keypad menu: "{options}" is replaced by the departments that
	// have a key, each as MenuOption ("{digit} for {department}"), joined by
	// ", ", the fallback desk last as MenuLast. Without "{options}" the menu is
	// said as it is written.
	Menu       string `json:"menu,omitempty"`
	MenuOption string `json:"menu_option,omitempty"`
	MenuLast   string `json:"menu_last,omitempty"`
	Reception  string `json:"reception,omitempty"`
	// Acknowledge is said before a classification that is expected to be slow.
	Acknowledge string `json:"acknowledge,omitempty"`
	// KeypadInvalid and KeypadTimeout are said before a keypad menu is played
	// again after a wrong key or none.
	KeypadInvalid string `json:"keypad_invalid,omitempty"`
	KeypadTimeout string `json:"keypad_timeout,omitempty"`
	// ChooseLanguage offers this language by key, said in this language:
	// "For English, press {key}." ({key} is replaced).
	ChooseLanguage string `json:"choose_language,omitempty"`
	// Closed is said when the chosen department is closed: "{department}" is
	// replaced by its label, "{other}" by where the caller goes instead.
	// ClosedAll is said, before the call ends, when nobody is open.
	Closed    string `json:"closed,omitempty"`
	ClosedAll string `json:"closed_all,omitempty"`
	// Instead is said when a caller's correction, heard while they were
	// told where they are routed, sends them to another department:
	// "{department}" is replaced by its label. Optional: without it they
	// hear the usual routing text.
	Instead string `json:"instead,omitempty"`

	inherited map[string]bool // the texts filled in from the example (texts.go)
}

// ParseConfig reads a JSON config, fills in defaults and validates it.
func ParseConfig(r io.Reader) (*Config, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := decodeStrict(b, &c); err != nil {
		return nil, err // each problem says where it is; the caller names the file
	}
	c.Routing.normalizeLanguages()
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	r := &c.Routing
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&r.LLM.MaxTokens, 5)
	def(&r.LLM.TimeoutMS, 3000)
	def(&r.LLM.BudgetMS, 2000)
	def(&r.LLM.BreakerFailures, 5)
	def(&r.LLM.BreakerOpenMS, 30000)
	if r.LLM.Model == "" {
		r.LLM.Model = "gpt-4o-mini"
	}
	if r.LLM.MinConfidence == 0 {
		r.LLM.MinConfidence = 0.3
	}
	if r.LLM.MinMargin == 0 {
		r.LLM.MinMargin = 0.1
	}
	if r.Fallback.Destination == "" {
		r.Fallback.Destination = Fallback
	}
	def(&r.Dialog.MaxClarifications, 2)
	def(&r.Dialog.MinWords, 5)
	def(&r.Dialog.ListenMS, 3000)
	def(&r.Dialog.SilenceMS, 8000)
	def(&r.Dialog.MenuMS, 5000)
	def(&r.Dialog.AnswerMS, 1700)
	def(&r.Dialog.QuickMS, 500)
	def(&r.Dialog.MaxActions, 90)
	def(&r.Dialog.AcknowledgeAfterMS, 800)
	if r.Language == "" {
		r.Language = "en-US"
	}
	if r.Texts == nil {
		r.Texts = map[string]*Texts{}
	}
	if r.Texts[r.Language] == nil {
		r.Texts[r.Language] = &Texts{}
	}
	for _, m := range r.Modes { // a language a number serves, without texts: the example's, or each one named missing
		for _, lang := range m.languages() {
			if _, ok := r.Texts[lang]; !ok {
				r.Texts[lang] = &Texts{}
			}
		}
	}
	for lang, t := range r.Texts {
		if t != nil { // Validate reports a language with null texts
			fillTexts(lang, t)
		}
	}
	for name, d := range r.Departments {
		if d == nil || name == "" { // Validate reports both
			continue
		}
		if d.Label == "" {
			d.Label = defaultLabels[name]
		}
		if d.Label == "" {
			first, size := utf8.DecodeRuneInString(name)
			d.Label = string(unicode.ToUpper(first)) + name[size:]
		}
	}
	r.signals = compileSignals(r.PrioritySignals)
	r.compilePerson()
	r.compileHours()
	r.setModeDefaults()
	r.setHandoffDefaults()
}

var defaultLabels = map[string]string{
	"sales": "Sales", "support": "Technical Support", "billing": "Billing & Accounts",
	Fallback: "Main Reception", Emergency: "On-call Engineering",
}

var defaultTexts = Texts{
	Greeting: "Thank you for calling. In a few words, how can we help you today?",
	Clarify: []string{
		"Sorry, could you tell me a little more about what you need?",
		"I want to get you to the right person. Is this about a purchase, a technical problem, or a bill?",
	},
	StillThere:    "Are you still there? Please tell me how we can help.",
	Routing:       "Routing you to {department}. Please hold.",
	Urgent:        "Acknowledging urgent request. Routing to on-call engineering immediately.",
	Reception:     "Connecting you to our main reception desk.",
	Acknowledge:   "One moment, please.",
	Menu:          "Please press {options}.",
	MenuOption:    "{digit} for {department}",
	MenuLast:      "or {digit} for {department}",
	KeypadInvalid: "Sorry, that is not an option.",
	KeypadTimeout: "Sorry, I did not hear a key.",
	Closed:        "{department} is closed now. Connecting you to {other}.",
	ClosedAll:     "We are closed now. Please call again during our opening hours. Goodbye.",
	Instead:       "Sorry, let me get you to {department} instead.",
}

func (t *Texts) fill(d Texts) {
	set := func(v *string, s string) {
		if *v == "" {
			*v = s
		}
	}
	set(&t.Greeting, d.Greeting)
	set(&t.StillThere, d.StillThere)
	set(&t.Routing, d.Routing)
	set(&t.Urgent, d.Urgent)
	set(&t.Reception, d.Reception)
	set(&t.Acknowledge, d.Acknowledge)
	set(&t.KeypadInvalid, d.KeypadInvalid)
	set(&t.KeypadTimeout, d.KeypadTimeout)
	set(&t.Menu, d.Menu)
	set(&t.MenuOption, d.MenuOption)
	set(&t.MenuLast, d.MenuLast)
	set(&t.Closed, d.Closed)
	set(&t.ClosedAll, d.ClosedAll)
	set(&t.Instead, d.Instead)
	if len(t.Clarify) == 0 {
		t.Clarify = d.Clarify
	}
}

var labelName = regexp.MustCompile(`^[a-z]+$`)

// Validate names every problem in the config at once. It changes nothing
// (ParseConfig fills in the defaults and compiles before it).
func (c *Config) Validate() error {
	r := &c.Routing
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(r.Departments) == 0 {
		bad("routing.departments: none configured")
	}
	for _, name := range []string{Fallback, Emergency} {
		if r.Departments[name] == nil {
			bad("routing.departments.%s: missing (every routing table needs it)", name)
		}
	}
	digits := map[string]string{}
	for _, name := range r.DepartmentNames(true) {
		d := r.Departments[name]
		if d == nil {
			bad("routing.departments.%s: empty", name)
			continue
		}
		if !labelName.MatchString(name) {
			bad("routing.departments.%s: name must be lower-case letters only (it is the classifier's label)", name)
		}
		if name == "unknown" {
			bad("routing.departments.unknown: reserved for the classifier's 'unsure'; use %q for the reception desk", Fallback)
		}
		if name == AskedPerson {
			bad("routing.departments.%s: reserved for the classifier's 'asks for a person'; see routing.person", AskedPerson)
		}
		for _, p := range append(d.destinationProblems(name), r.waitFlowProblems(name, d)...) {
			bad("%s", p)
		}
		if d.Digit != "" {
			if len(d.Digit) != 1 || !strings.Contains("0123456789", d.Digit) {
				bad("routing.departments.%s.digit: %q is not a single keypad digit 0-9", name, d.Digit)
			} else if other, dup := digits[d.Digit]; dup {
				bad("routing.departments.%s.digit: %q is already %s's", name, d.Digit, other)
			} else {
				digits[d.Digit] = name
			}
		}
	}
	if r.Departments[r.Fallback.Destination] == nil {
		bad("routing.fallback.destination: %q is not a configured department", r.Fallback.Destination)
	}
	if msg := callerIDProblem(r.CallerID); r.CallerID != "" && msg != "" {
		bad("routing.caller_id: %q %s", r.CallerID, msg)
	}
	for _, s := range r.PrioritySignals {
		if p := signalProblem(s); p != "" {
			bad("routing.priority_signals: %s", p)
		}
	}
	if r.LLM.Temperature != 0 {
		bad("routing.llm.temperature: %v; a router must be deterministic, use 0", r.LLM.Temperature)
	}
	if r.LLM.BudgetMS < 100 || r.LLM.BudgetMS > MaxBudgetMS {
		bad("routing.llm.budget_ms: %d; must be 100..%d: the caller waits in silence while their words are decided", r.LLM.BudgetMS, MaxBudgetMS)
	}
	if r.LLM.MinConfidence < 0 || r.LLM.MinConfidence > 1 || r.LLM.MinMargin < 0 || r.LLM.MinMargin > 1 {
		bad("routing.llm: min_confidence and min_margin must be within 0..1")
	}
	if r.LLM.Retries < 0 {
		bad("routing.llm.retries: must not be negative")
	}
	if r.Dialog.MaxActions < 20 || r.Dialog.MaxActions > MaxActions {
		bad("routing.dialog.max_actions: %d; must be 20..%d: VoIPBin runs at most 100 actions per call, its own included", r.Dialog.MaxActions, MaxActions)
	}
	if r.Dialog.ListenMS < 500 || r.Dialog.MenuMS < 1000 {
		bad("routing.dialog: listen_ms must be at least 500 and menu_ms at least 1000")
	}
	if r.Dialog.QuickMS < 200 || r.Dialog.QuickMS > r.Dialog.AnswerMS || r.Dialog.AnswerMS > r.Dialog.ListenMS {
		bad("routing.dialog: want 200 <= quick_ms (%d) <= answer_ms (%d) <= listen_ms (%d): every pause costs two VoIPBin actions",
			r.Dialog.QuickMS, r.Dialog.AnswerMS, r.Dialog.ListenMS)
	}
	if r.Texts[r.Language] == nil {
		bad("routing.texts: nothing for the default language %q", r.Language)
	}
	for _, p := range r.languageProblems() {
		bad("%s", p)
	}
	for lang, t := range r.Texts {
		if t == nil {
			bad("routing.texts.%s: empty", lang)
			continue
		}
		if t.Routing != "" && !strings.Contains(t.Routing, "{department}") { // missing: said once, below
			bad("routing.texts.%s.routing: must contain {department}", lang)
		}
		if strings.Contains(t.Menu, "{options}") {
			for _, f := range []struct{ name, text string }{{"menu_option", t.MenuOption}, {"menu_last", t.MenuLast}} {
				if !strings.Contains(f.text, "{digit}") || !strings.Contains(f.text, "{department}") {
					bad("routing.texts.%s.%s: must contain {digit} and {department}", lang, f.name)
				}
			}
		}
	}
	r.missingTextProblems(bad)
	r.validateModes(bad)
	r.validateHours(bad)
	for _, p := range r.personProblems() {
		bad("%s", p)
	}
	r.validateHandoffs(bad)
	r.validateMessages(bad)
	return errors.Join(errs...)
}

// DepartmentNames lists the configured departments in a stable order. Without
// reserved, the fallback desk is left out: it is not a classifier label.
func (r *Routing) DepartmentNames(reserved bool) []string {
	names := make([]string, 0, len(r.Departments))
	for name := range r.Departments {
		if !reserved && name == Fallback {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Department returns a configured department by name.
func (r *Routing) Department(name string) (*Department, bool) {
	d, ok := r.Departments[name]
	return d, ok && d != nil
}

// ByDigit returns the department behind a keypad key.
func (r *Routing) ByDigit(digit string) (string, bool) {
	for name, d := range r.Departments {
		if d != nil && d.Digit != "" && d.Digit == digit {
			return name, true
		}
	}
	return "", false
}

// TextsFor returns the caller's texts in lang, or in the default language.
func (r *Routing) TextsFor(lang string) *Texts {
	if t := r.Texts[lang]; t != nil {
		return t
	}
	return r.Texts[r.Language]
}
