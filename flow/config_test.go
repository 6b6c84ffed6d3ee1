package flow

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// seedTemplate is the seed article's configuration template, verbatim but for
// its priority signals: the article's one-word list pages on-call for
// ordinary callers ("can you slow down, I want a quote"), so our copy carries
// incident phrases. The article's own list still loads (TestSeedTemplateLoads).
var seedTemplate = func() string {
	b, err := os.ReadFile("testdata/seed-template.json")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// seedSignals is the seed article's own priority_signals line.
const seedSignals = `"priority_signals": ["urgent", "outage", "down", "emergency", "critical", "production"],`

func TestSeedTemplateLoads(t *testing.T) {
	verbatim := regexp.MustCompile(`"priority_signals": \[[^\]]*\],`).ReplaceAllLiteralString(seedTemplate, seedSignals)
	if !strings.Contains(verbatim, seedSignals) {
		t.Fatal("no priority_signals line in our copy of the template")
	}
	if _, err := ParseConfig(strings.NewReader(verbatim)); err != nil {
		t.Fatalf("the seed's template, with its own priority signals, must load as it is: %v", err)
	}
	cfg, err := ParseConfig(strings.NewReader(seedTemplate))
	if err != nil {
		t.Fatalf("our copy of the seed's template must load: %v", err)
	}
	got := cfg.Routing.DepartmentNames(false)
	want := []string{"billing", "emergency", "sales", "support"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if d, _ := cfg.Routing.Department("billing"); d.Number != "+14155550102" || d.Label != "Billing & Accounts" {
		t.Errorf("billing = %+v", d)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // substrings of the error, one per problem; none means valid
	}{
		{"example", string(ExampleJSON()), nil},
		{"seed template", seedTemplate, nil},
		{"empty", `{"routing": {}}`, []string{"none configured", "departments.fallback: missing", "departments.emergency: missing", `destination: "fallback"`}},
		{"bad numbers and digits named together",
			`{"routing": {"departments": {
				"sales": {"number": "555-0100", "digit": "1"},
				"support": {"number": "+14155550101", "digit": "1"},
				"billing": {"number": "+14155550102", "digit": "12"},
				"fallback": "+14155550199", "emergency": "+0911"}}}`,
			[]string{`sales.number: "555-0100" is not a phone number`, `digit: "1" is already`, `billing.digit: "12" is not a single keypad digit`, `emergency.number: "+0911"`}},
		{"language tags VoIPBin cannot read",
			`{"routing": {"language": "english", "texts": {"english": {}, "klingon": {}},
				"departments": {"fallback": {"number": "+14155550199", "labels": {"xx-YY": "Recepcion"}}, "emergency": "+14155550911"}}}`,
			[]string{`routing.language: "english" is no language tag VoIPBin can read`, `routing.texts: "klingon" is no language tag`,
				`routing.departments.fallback.labels: "xx-YY" is no language tag`}},
		{"one language written twice",
			`{"routing": {"texts": {"es-ES": {}, "es-es": {}}, "departments": {"fallback": "+14155550199", "emergency": "+14155550911"}}}`,
			[]string{`routing.texts: "es-es": VoIPBin writes it "es-ES", given already`}},
		{"unknown department name reserved",
			`{"routing": {"departments": {"unknown": "+14155550100", "fallback": "+14155550199", "emergency": "+14155550911"}}}`,
			[]string{"departments.unknown: reserved"}},
		{"label must be a word",
			`{"routing": {"departments": {"Tech Support": "+14155550100", "fallback": "+14155550199", "emergency": "+14155550911"}}}`,
			[]string{"lower-case letters only"}},
		{"fallback destination must exist",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "fallback": {"destination": "reception"}}}`,
			[]string{`destination: "reception" is not a configured department`}},
		{"temperature and budget",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "llm": {"temperature": 0.7, "budget_ms": 5000}}}`,
			[]string{"temperature: 0.7", "budget_ms: 5000"}},
		{"routing text needs the department",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "texts": {"en-US": {"routing": "Please hold."}}}}`,
			[]string{"texts.en-US.routing: must contain {department}"}},
		{"menu template needs its options' digit and department",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"},
				"texts": {"en-US": {"menu": "Press {options}.", "menu_option": "{digit} for sales", "menu_last": "or {department}"}}}}`,
			[]string{"texts.en-US.menu_option: must contain {digit} and {department}", "texts.en-US.menu_last: must contain"}},
		{"every destination kind",
			`{"routing": {"departments": {
				"sales": {"queue": "7f3c2a10-5b1e-4c8a-9d2f-0a1b2c3d4e5f"},
				"support": {"sip": "sip:support@pbx.example.com", "caller_id": "+14155550150"},
				"billing": {"extension": "2001"},
				"fallback": {"agent": "3e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"},
				"emergency": "+14155550911"}, "caller_id": "+442071234567"}}`, nil},
		{"bad destinations",
			`{"routing": {"departments": {
				"sales": {"queue": "sales-queue"},
				"support": {"sip": "support"},
				"billing": {"extension": "20 01"},
				"fallback": {"agent": "bob"},
				"emergency": {"number": "+14155550911", "sip": "oncall@pbx.example.com"}}}}`,
			[]string{`sales.queue: "sales-queue" is not a VoIPBin id`, `support.sip: "support" is not a SIP URI`,
				`billing.extension: "20 01"`, `fallback.agent: "bob" is not a VoIPBin id`, "emergency: needs exactly one destination", "2 set"}},
		{"no destination",
			`{"routing": {"departments": {"sales": {"label": "Sales"}, "fallback": "+14155550199", "emergency": "+14155550911"}}}`,
			[]string{"sales: needs exactly one destination"}},
		{"virtual caller IDs refused",
			`{"routing": {"departments": {"sales": {"number": "+14155550100", "caller_id": "+899100200300"},
				"fallback": "+14155550199", "emergency": "+14155550911"}, "caller_id": "+899100200301"}}`,
			[]string{`sales.caller_id: "+899100200300" is a virtual +899 number`, `routing.caller_id: "+899100200301" is a virtual +899 number`}},
		{"caller ID must be a number",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "caller_id": "reception"}}`,
			[]string{`routing.caller_id: "reception" is not a phone number`}},
		{"budget above 2.5 s refused",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "llm": {"budget_ms": 2600}}}`,
			[]string{"budget_ms: 2600; must be 100..2500"}},
		{"budget of 2.5 s accepted",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "llm": {"budget_ms": 2500}}}`, nil},
		{"action limit above 98 refused",
			`{"routing": {"departments": {"fallback": "+14155550199", "emergency": "+14155550911"}, "dialog": {"max_actions": 99}}}`,
			[]string{"max_actions: 99; must be 20..98"}},
		{"unknown field", `{"routing": {"departmnts": {}}}`, []string{`line 1, column 14: unknown field "routing.departmnts"`}},
		{"unknown department field",
			`{"routing": {"departments": {"sales": {"numbr": "+14155550100"}, "fallback": "+14155550199", "emergency": "+14155550911"}}}`,
			[]string{`line 1, column 40: unknown field "routing.departments.sales.numbr"`}},
		{"syntax error with its line and column", "{\"routing\": {\n  \"departments\": {,}}}", []string{"line 2, column 19: invalid character ','"}},
		{"wrong type with its path", "{\"routing\": {\"llm\": {\"timeout_ms\": \"1200\"}}}", []string{"line 1, column 41: routing.llm.timeout_ms: want int, got a JSON string"}},
		{"cut short", "{\"routing\": {", []string{"line 1, column 14: the JSON ends too soon"}},
		{"unknown field in a list", `{"routing": {"modes": {"k": {"kind": "keypad", "keypad": {"start": "m", "menus": {"m": {"prompt": "p", "options": [{"key": "1", "departmnt": "sales"}]}}}}}}}`,
			[]string{`unknown field "routing.modes.k.keypad.menus.m.options[0].departmnt"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.json))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want errors %q, got none", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestLanguageTagsNormalized: VoIPBin reports the language of a
// transcription as it reads the tag (es-es as es-ES); a config written with
// es-es is read in that form everywhere a tag appears, so its tags match.
func TestLanguageTagsNormalized(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(`{"routing": {"language": "en-us",
		"texts": {"en-us": {}, "es-es": {"reception": "Le paso con recepción."}},
		"departments": {"fallback": {"number": "+14155550199", "labels": {"es-es": "Recepción"}}, "emergency": "+14155550911"},
		"modes": {"two": {"languages": ["en-us", "es-es"], "language_by": "speech"},
			"tree": {"kind": "keypad", "languages": ["es-es"], "keypad": {"start": "main", "menus": {"main": {"prompt": "Press 1.", "prompts": {"es-es": "Pulse 1."},
				"options": [{"key": "1", "department": "fallback"}]}}}}},
		"numbers": {"+14155550001": "two", "+14155550002": "tree"}, "default_mode": "two"}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Routing
	if r.Language != "en-US" {
		t.Errorf("language %q, want en-US", r.Language)
	}
	if got := sortedKeys(r.Texts); !slices.Equal(got, []string{"en-US", "es-ES"}) {
		t.Errorf("texts in %v, want [en-US es-ES]", got)
	}
	if got := r.Texts["es-ES"].Reception; got != "Le paso con recepción." {
		t.Errorf("es-ES reception %q: the texts written under es-es are lost", got)
	}
	if got := r.Departments["fallback"].LabelIn("es-ES"); got != "Recepción" {
		t.Errorf("fallback label in es-ES %q", got)
	}
	if got := r.Modes["two"].Languages; !slices.Equal(got, []string{"en-US", "es-ES"}) {
		t.Errorf("mode languages %v, want [en-US es-ES]", got)
	}
	if got, _ := r.Modes["tree"].Keypad.Menus["main"].PromptIn("es-ES", "en-US"); got != "Pulse 1." {
		t.Errorf("menu prompt in es-ES %q", got)
	}
}

// TestUnknownFieldsAllAtOnce: a config with several slips names each one on
// its own line, with the field it most likely meant, in one go.
func TestUnknownFieldsAllAtOnce(t *testing.T) {
	config := `{"routing": {
  "departments": {
    "orders": {"number": "+14155550100",
               "lable": "Orders"},
    "fallback": "+14155550199",
    "emergency": {"numbr": "+14155550911"}
  },
  "priority_signal": ["crash"],
  "dialog": {"max_clarification": 1, "whatever": true},
  "texts": {"en-US": {"greting": "Hello"}}
}}`
	_, err := ParseConfig(strings.NewReader(config))
	if err == nil {
		t.Fatal("want errors")
	}
	want := []string{
		`line 4, column 16: unknown field "routing.departments.orders.lable" (did you mean "label"?)`,
		`line 6, column 19: unknown field "routing.departments.emergency.numbr" (did you mean "number"?)`,
		`line 8, column 3: unknown field "routing.priority_signal" (did you mean "priority_signals"?)`,
		`line 9, column 14: unknown field "routing.dialog.max_clarification" (did you mean "max_clarifications"?)`,
		`line 9, column 38: unknown field "routing.dialog.whatever"`,
		`line 10, column 23: unknown field "routing.texts.en-US.greting" (did you mean "greeting"?)`,
	}
	got := strings.Split(err.Error(), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(seedTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Routing.LLM.BudgetMS; got != 2000 {
		t.Errorf("default budget_ms = %d, want 2000", got)
	}
	if got := cfg.Routing.CallerIDFor(cfg.Routing.Departments["sales"]); got != "" {
		t.Errorf("default caller ID = %q, want \"\" (the number the caller dialled)", got)
	}
	if got := ExampleConfig().Routing.LLM.BudgetMS; got != 2000 {
		t.Errorf("the example's budget_ms = %d, want 2000", got)
	}
}

func TestIsPriority(t *testing.T) {
	r := ExampleConfig().Routing
	tests := []struct {
		words string
		want  bool
	}{
		{"our site is down", true},
		{"OUR SITE IS DOWN", true},
		{"the servers are\tdown!", true},
		{"we have an outage in production", true},
		{"it's an emergency!", true},
		{"it's urgent!", false}, // not a signal of the example's
		{"this is an emergency.", true},
		{"I can't download my invoice", false},
		{"the countdown timer is wrong", false},
		{"can you slow down", false},
		{"downgrade my plan", false},
		{"critically acclaimed", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.words, func(t *testing.T) {
			if got := r.IsPriority(tt.words); got != tt.want {
				t.Errorf("IsPriority(%q) = %v, want %v", tt.words, got, tt.want)
			}
		})
	}
}

// TestPriorityWordsInEveryScript: a signal is a whole word whatever its
// letters: accented at either end, in another script, in decomposed form.
func TestPriorityWordsInEveryScript(t *testing.T) {
	c := Config{Routing: Routing{PrioritySignals: []string{"überlastet", "écroulé", "down", "авария", "e\u0301chec total"}}}
	c.setDefaults()
	for words, want := range map[string]bool{
		"alles ist Überlastet":        true,
		"le site s'est écroulé.":      true,
		"ÉCROULÉ":                     true,
		"überlastetes Netz":           false,
		"downé":                       false,
		"édown":                       false,
		"у нас авария":                true,
		"аварийный":                   false,
		"un e\u0301chec total, hélas": true,
		"e\u0301checs totaux":         false,
	} {
		if got := c.Routing.IsPriority(words); got != want {
			t.Errorf("IsPriority(%q) = %v, want %v", words, got, want)
		}
	}
}

// TestPrioritySignalMustBeWords: check refuses a signal that is not a word or
// phrase, and accepts the seed article's own one-word list.
func TestPrioritySignalMustBeWords(t *testing.T) {
	for _, s := range []string{"down!", "c++", "log-in", "out*age", " ", "ur\xffgent", "\ufffd"} {
		c := ExampleConfig()
		c.Routing.PrioritySignals = []string{s}
		c.setDefaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "routing.priority_signals") {
			t.Errorf("signal %q: err = %v, want it refused", s, err)
		}
	}
	c := ExampleConfig()
	c.Routing.PrioritySignals = []string{"urgent", "outage", "down", "emergency", "critical", "production", "production is  down", "überlastet"}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("words and phrases refused: %v", err)
	}
}

func TestMultiWordPrioritySignal(t *testing.T) {
	cfg := ExampleConfig()
	cfg.Routing.PrioritySignals = []string{"stolen card", "fraud"}
	cfg.setDefaults()
	for words, want := range map[string]bool{
		"my stolen  card": true, "I think there is FRAUD on it": true, "stolen cards": false, "a card was stolen": false,
	} {
		if got := cfg.Routing.IsPriority(words); got != want {
			t.Errorf("IsPriority(%q) = %v, want %v", words, got, want)
		}
	}
}

// TestDiagram keeps testdata/flow.mmd and the README's diagram equal to the
// machine's own rendering.
func TestDiagram(t *testing.T) {
	got, err := Diagram()
	if err != nil {
		t.Fatal(err)
	}
	const golden = "../testdata/flow.mmd"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("diagram differs from %s (-want +got):\n%s", golden, diff)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```mermaid\n"+got+"```") {
		t.Errorf("flow/README.md does not show the current diagram; paste testdata/flow.mmd into its mermaid block:\n%s", got)
	}
}
