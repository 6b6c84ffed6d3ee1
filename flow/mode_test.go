package flow

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// withTree is a valid config around a keypad tree given as JSON.
func withTree(tree string) string {
	return `{"routing": {
		"departments": {"sales": "+14155550100", "support": "+14155550101", "billing": "+14155550102",
			"fallback": "+14155550199", "emergency": "+14155550911"},
		"default_mode": "tree",
		"modes": {"tree": {"kind": "keypad", "keypad": ` + tree + `}}}}`
}

func TestKeypadValidation(t *testing.T) {
	tests := []struct {
		name string
		tree string
		want []string // substrings, one per expected problem; none means valid
	}{
		{"two levels", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "1", "department": "sales"}, {"key": "2", "menu": "help"}]},
			"help": {"prompt": "p", "options": [{"key": "1", "department": "support"}, {"key": "2", "department": "billing"}]}}}`, nil},
		{"one submenu offered from two menus is no loop", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "1", "menu": "a"}, {"key": "2", "menu": "shared"}]},
			"a": {"prompt": "p", "options": [{"key": "1", "menu": "shared"}]},
			"shared": {"prompt": "p", "options": [{"key": "1", "department": "billing"}]}}}`, nil},
		{"duplicate key", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "1", "department": "sales"}, {"key": "1", "department": "support"}]}}}`,
			[]string{`menus.main key "1": duplicate key`}},
		{"loop", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "1", "menu": "a"}]},
			"a": {"prompt": "p", "options": [{"key": "1", "menu": "b"}]},
			"b": {"prompt": "p", "options": [{"key": "1", "menu": "a"}, {"key": "2", "department": "sales"}]}}}`,
			[]string{"loop: main -> a -> b -> a"}},
		{"a menu that loops onto itself", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "1", "menu": "main"}]}}}`,
			[]string{"loop: main -> main"}},
		{"unreachable menu and its leaves", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "1", "department": "sales"}]},
			"orphan": {"prompt": "p", "options": [{"key": "1", "department": "billing"}]}}}`,
			[]string{`menus.orphan: unreachable from "main"`}},
		{"leaves behind reserved keys are unreachable", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "0", "department": "sales"}, {"key": "9", "department": "support"},
				{"key": "*", "department": "billing"}, {"key": "#", "department": "billing"}, {"key": "12", "department": "billing"}]}}}`,
			[]string{`key "0": unreachable, the key is reserved`, `key "9": unreachable, the key is reserved`,
				`key "*": unreachable, the key is reserved`, `key "#": unreachable, a menu key is one of 1-8`,
				`key "12": unreachable, a menu key is one of 1-8`}},
		{"leaf and menu names must exist", `{"start": "main", "menus": {
			"main": {"prompt": "p", "options": [{"key": "1", "department": "marketing"}, {"key": "2", "menu": "nowhere"},
				{"key": "3"}, {"key": "4", "department": "sales", "menu": "nowhere"}]}}}`,
			[]string{`department "marketing" is not configured`, `menu "nowhere" is not configured`,
				`key "3": want a department or a menu`, `key "4": want a department or a menu`}},
		{"start, prompt, options, timeout and retries", `{"start": "top", "menus": {
			"main": {"prompt": "", "options": [], "timeout_ms": 10, "retries": 9}}}`,
			[]string{`start: "top" is not a menu`}},
		{"empty menu", `{"start": "main", "menus": {
			"main": {"prompt": " ", "options": [], "timeout_ms": 10, "retries": -1}}}`,
			[]string{"main.prompt: empty", "main.options: none", "main.timeout_ms: 10", "main.retries: -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(withTree(tt.tree)))
			checkProblems(t, err, tt.want)
		})
	}
}

// checkProblems checks a config error names exactly the wanted problems
// (substrings, one per problem); no wanted problem means a valid config.
func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want problems %q, got a valid config", want)
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", got, len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing problem %q in:\n%s", w, err)
		}
	}
}

func TestKeypadPress(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(withTree(`{"start": "main", "menus": {
		"main": {"prompt": "p", "options": [{"key": "1", "department": "sales"}, {"key": "2", "menu": "help"}]},
		"help": {"prompt": "p", "options": [{"key": "1", "menu": "deep"}, {"key": "2", "department": "billing"}], "retries": 1},
		"deep": {"prompt": "p", "options": [{"key": "1", "department": "support"}], "retries": 0}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Routing.Modes["tree"].Keypad
	tests := []struct {
		name  string
		path  []string
		tries int
		key   string
		want  KeypadStep
	}{
		{"leaf", []string{"main"}, 0, "1", KeypadStep{Department: "sales", Reason: "keypad"}},
		{"no path yet is the start", nil, 0, "1", KeypadStep{Department: "sales", Reason: "keypad"}},
		{"submenu", []string{"main"}, 1, "2", KeypadStep{Path: []string{"main", "help"}}},
		{"third level", []string{"main", "help"}, 0, "1", KeypadStep{Path: []string{"main", "help", "deep"}}},
		{"repeat keeps the tries", []string{"main", "help"}, 1, "*", KeypadStep{Path: []string{"main", "help"}, Tries: 1}},
		{"back", []string{"main", "help", "deep"}, 0, "9", KeypadStep{Path: []string{"main", "help"}}},
		{"back at the top repeats it", []string{"main"}, 0, "9", KeypadStep{Path: []string{"main"}}},
		{"operator from anywhere", []string{"main", "help", "deep"}, 0, "0", KeypadStep{Department: "fallback", Reason: "operator"}},
		{"wrong key", []string{"main"}, 0, "7", KeypadStep{Path: []string{"main"}, Tries: 1, Notice: NoticeInvalid}},
		{"no key", []string{"main"}, 1, "", KeypadStep{Path: []string{"main"}, Tries: 2, Notice: NoticeTimeout}},
		{"out of retries after a wrong key", []string{"main"}, 2, "7", KeypadStep{Department: "fallback", Reason: "keypad-invalid"}},
		{"out of retries after no key", []string{"main", "help"}, 1, "", KeypadStep{Department: "fallback", Reason: "keypad-timeout"}},
		{"no retries at all", []string{"main", "help", "deep"}, 0, "", KeypadStep{Department: "fallback", Reason: "keypad-timeout"}},
		{"a menu dropped by a new config restarts at the top", []string{"main", "gone"}, 0, "1", KeypadStep{Department: "sales", Reason: "keypad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := k.Press(tt.path, tt.tries, tt.key, Fallback)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Press(%v, %d, %q) (-want +got):\n%s", tt.path, tt.tries, tt.key, diff)
			}
		})
	}
}

func TestKeysTo(t *testing.T) {
	k := loadModes(t, "keypad.json").Routing.Modes["keypad"].Keypad
	for dept, want := range map[string][]string{"sales": {"1"}, "accounts": {"2", "1"}, "support": {"2", "2"}, "emergency": nil} {
		if got := k.KeysTo(dept); !cmp.Equal(got, want) {
			t.Errorf("KeysTo(%s) = %q, want %q", dept, got, want)
		}
	}
}

func TestModeValidation(t *testing.T) {
	base := func(extra string) string {
		return `{"routing": {"departments": {"sales": "+14155550100", "fallback": "+14155550199", "emergency": "+14155550911"},
			"texts": {"en-US": {}, "es-ES": {}}, ` + extra + `}}`
	}
	tests := []struct {
		name  string
		extra string
		want  []string
	}{
		{"one mode is the default", `"modes": {"m": {"handoff": "flow-step"}}`, nil},
		{"numbers and modes", `"default_mode": "a", "numbers": {"+14155550300": "b", "4155550301": "a", "+14155550302": "c"},
			"modes": {"a": {}, "b": {"kind": "hybrid", "entry": {"prompt": "Your account number?"}}}`,
			[]string{`numbers: "4155550301" is not an E.164`, `numbers.+14155550302: mode "c" is not configured`}},
		{"default must exist", `"default_mode": "x", "modes": {"a": {}, "b": {}}`, []string{`default_mode: "x" is not a configured mode`}},
		{"kind, handoff and their parts", `"default_mode": "a", "modes": {"a": {"kind": "ivr", "handoff": "email"},
			"k": {"kind": "keypad"}, "h": {"kind": "hybrid"}, "e": {"entry": {"prompt": "x", "max_digits": 40}}}`,
			[]string{`a.kind: "ivr"`, `a.handoff: "email"`, "k.keypad: a keypad tree is needed", "h.entry: a keypad entry is needed",
				"e.entry: a keypad entry is needed", "e.entry.max_digits: 40"}},
		{"languages", `"default_mode": "a", "modes": {"a": {"languages": ["en-US", "fr-FR", "en-US"]},
			"b": {"languages": ["en-US", "es-ES"]}, "c": {"languages": ["en-US", "es-ES"], "language_by": "speech"}}`,
			[]string{`routing.texts.fr-FR: greeting, clarify, still_there, routing, urgent, menu, menu_option, menu_last, reception, acknowledge, keypad_invalid, keypad_timeout missing`, `a.languages: "en-US" twice`, `a.language_by: ""`, `b.language_by: ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(base(tt.extra)))
			checkProblems(t, err, tt.want)
		})
	}
}

func TestModeForNumber(t *testing.T) {
	cfg := loadModes(t, "multilingual.json")
	tests := []struct{ dialled, want string }{
		{"+14155550300", "choose-by-keypad"},
		{" 14155550300", "choose-by-keypad"}, // "+" arrived unencoded in the query string and became a space
		{"14155550300", "choose-by-keypad"},
		{"+14155550999", "detect-by-speech"},
		{"", "detect-by-speech"},
	}
	for _, tt := range tests {
		if got, _ := cfg.Routing.Mode(tt.dialled); got != tt.want {
			t.Errorf("Mode(%q) = %s, want %s", tt.dialled, got, tt.want)
		}
	}
	if name, m := ExampleConfig().Routing.Mode("+14155550300"); name != "conversation" || m.Kind != KindConversation || m.FlowStep() {
		t.Errorf("a config without modes: %s %+v, want a conversation that transfers", name, m)
	}
}

// TestShippedModes loads every config in testdata/modes: each must be valid
// and have the shape its README example promises.
func TestShippedModes(t *testing.T) {
	files, _ := filepath.Glob("../testdata/modes/*.json")
	if len(files) != 5 {
		t.Fatalf("want the 5 shipped mode configs, found %v", files)
	}
	if m := loadModes(t, "keypad-bilingual.json").Routing.Modes["keypad"].Keypad.Menus; m["espanol"].Language != "es-ES" || m["main"].AlsoSay[0].Language != "es-ES" {
		t.Errorf("keypad-bilingual.json: the Spanish branch lost its language: %+v", m)
	}
	keypad := loadModes(t, "keypad.json").Routing
	_, m := keypad.Mode("")
	k := m.Keypad
	leaves := map[string]string{}
	for _, path := range [][]string{{"1"}, {"2", "1"}, {"2", "2"}, {"3"}, {"0"}} {
		at := []string(nil)
		var step KeypadStep
		for _, key := range path {
			step = k.Press(at, 0, key, keypad.Fallback.Destination)
			at = step.Path
		}
		d, _ := keypad.Department(step.Department)
		leaves[strings.Join(path, " ")] = d.Label + " " + d.Number
	}
	want := map[string]string{"1": "Sales +14155550100", "2 1": "Accounts & Login +14155550121",
		"2 2": "Technical Support +14155550101", "3": "Billing +14155550102", "0": "Main Reception +14155550199"}
	if diff := cmp.Diff(want, leaves); diff != "" {
		t.Errorf("keypad.json leaves (-want +got):\n%s", diff)
	}
	if _, m := loadModes(t, "hybrid.json").Routing.Mode(""); m.Kind != KindHybrid || m.Entry.MaxDigits != 12 || !m.Audit ||
		m.Entry.Prompt != "Please enter your account number, then press pound." {
		t.Errorf("hybrid.json: %+v %+v", m, m.Entry)
	}
	if _, m := loadModes(t, "flow-step.json").Routing.Mode(""); !m.FlowStep() {
		t.Errorf("flow-step.json: %+v", m)
	}
}

func loadModes(t *testing.T, name string) *Config {
	t.Helper()
	f, err := os.Open(filepath.Join("../testdata/modes", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"123456789012", "XXXXXXXX9012"},
		{"4111 1111 1111 1234", "XXXX XXXX XXXX 1234"},
		{"my card is 4111-1111-1111-1234 thanks", "my card is XXXX-XXXX-XXXX-1234 thanks"},
		{"12345", "12345"}, // too short to identify anyone
		{"2", "2"},
		{"order 55 and account 99887766", "order 55 and account XXXX7766"},
		{"", ""},
		{"no digits here", "no digits here"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMaskEntry: keys pressed keep no digit of a long run, so that a date of
// birth keeps no year; a menu key stays as it is.
func TestMaskEntry(t *testing.T) {
	for in, want := range map[string]string{"01011980": "XXXXXXXX", "0012345678#": "XXXXXXXXXX#", "3": "3", "(none)": "(none)"} {
		if got := MaskEntry(in); got != want {
			t.Errorf("MaskEntry(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	both := []string{"en-US", "es-ES"}
	tests := []struct{ words, want string }{
		{"me han cobrado dos veces la factura", "es-ES"},
		{"hola buenos días necesito ayuda con mi contraseña", "es-ES"},
		{"Buenas tardes, quisiera información sobre los precios", "es-ES"},
		{"hi I was charged twice on my invoice", "en-US"},
		{"I need help with the login", "en-US"},
		{"factura", ""}, // a business word is no cue: the default language stays
		{"", ""},
		{"no", ""}, // both languages' word: a tie
	}
	for _, tt := range tests {
		// Both transcriptions heard the same words, as the simulator delivers them.
		if got := detectLanguage(map[string]string{"en-US": tt.words, "es-ES": tt.words}, both); got != tt.want {
			t.Errorf("detectLanguage(%q) = %q, want %q", tt.words, got, tt.want)
		}
	}
	// Each recognizer's own words: an English one mishears Spanish speech.
	misheard := map[string]string{"en-US": "oh la may on cobra though dose bases la factor", "es-ES": "hola, me han cobrado dos veces la factura"}
	if got := detectLanguage(misheard, both); got != "es-ES" {
		t.Errorf("detectLanguage(%v) = %q, want es-ES", misheard, got)
	}
	if !DetectsLanguage("es-MX") || DetectsLanguage("fr-FR") {
		t.Error("DetectsLanguage: es-MX has cues (es), fr-FR none")
	}
}

// TestSpanishRoutesLikeEnglish: with multilingual.json, a Spanish caller's
// request reaches the department its English twin reaches, by the local
// classifier or, for an emergency, the priority lane.
func TestSpanishRoutesLikeEnglish(t *testing.T) {
	cfg := loadModes(t, "multilingual.json")
	r := &cfg.Routing
	local := NewLocal(cfg)
	route := func(s string) string {
		if r.IsPriority(s) {
			return Emergency
		}
		v, err := local.Classify(context.Background(), []string{s})
		if err != nil || v.Confidence < r.LLM.MinConfidence || v.Confidence-v.RunnerUp < r.LLM.MinMargin {
			return ""
		}
		return v.Department
	}
	pairs := []struct{ es, en string }{
		{"me han cobrado dos veces la factura", "I was charged twice on my invoice"},
		{"quiero un reembolso del último pago", "I want a refund of my last payment"},
		{"quiero cambiar la tarjeta de crédito de mi cuenta", "I want to change the credit card on my account"},
		{"no puedo entrar, olvidé mi contraseña", "I can't log in, I forgot my password"},
		{"la aplicación no funciona y da un error", "the app is not working and shows an error"},
		{"quiero comprar veinte licencias más", "I want to buy twenty more licenses"},
		{"cuánto cuesta el plan empresarial", "how much does the enterprise plan cost"},
		{"el sistema está caído y es urgente", "the system is down and it is urgent"},
	}
	for _, p := range pairs {
		es, en := route(p.es), route(p.en)
		if en == "" || es != en {
			t.Errorf("%q -> %q, but %q -> %q", p.es, es, p.en, en)
		}
	}
}
