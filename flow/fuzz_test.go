package flow

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// FuzzParseConfig: whatever an operator writes, the loader answers with a
// config that validates or with an error that says why; it never panics, and
// a config it accepts is one the router can run on.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(seedTemplate))
	f.Add(exampleJSON)
	f.Add([]byte(`{"routing":{"departments":{"":"+14155550100","fallback":"+14155550199","emergency":"+14155550911"}}}`))
	f.Add([]byte(`{"routing":{"departments":{"fallback":null,"emergency":"+14155550911"},"texts":{"en-US":null}}}`))
	f.Add([]byte(withHours(`{"timezone":"America/New_York","weekly":{"fri":["22:00-02:00"],"sun":["00:00-24:00"]},"holidays":["2026-12-25"]}`,
		`"sales":{"number":"+14155550100","after_hours":"support","hours":{"weekly":{"sat":["10:00-14:00"]},"holidays":[]}},"support":"+14155550101"`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(bytes.NewReader(data))
		if err != nil {
			if cfg != nil || err.Error() == "" {
				t.Fatalf("ParseConfig failed with a config (%v) or without saying why (%q)", cfg != nil, err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted a config that does not validate: %v", err)
		}
		r := &cfg.Routing
		for _, name := range []string{Fallback, Emergency, r.Fallback.Destination} {
			if d, ok := r.Department(name); !ok || d.Number == "" || d.Label == "" {
				t.Fatalf("accepted a config without a usable %q department", name)
			}
		}
		if r.TextsFor(r.Language) == nil || r.TextsFor("xx-XX") == nil {
			t.Fatalf("accepted a config with no texts for its language %q", r.Language)
		}
		r.IsPriority("the site is down")
		for _, name := range r.DepartmentNames(true) {
			r.Reach(name, time.Now())
		}
		r.DescribeHours(time.Now())
		if _, err := NewLocal(cfg).Classify(t.Context(), []string{"I have a question about my bill"}); err != nil {
			t.Fatalf("local classifier on an accepted config: %v", err)
		}
	})
}

// FuzzIsPriority checks the priority lane against an independent reading of
// its rule, a regular expression over Unicode classes: a signal's words
// match in any case, in order, with no letter, digit or mark on either side
// and only other characters between them.
func FuzzIsPriority(f *testing.F) {
	for _, s := range [][2]string{
		{"down", "the site is down"}, {"down", "I want to download it"}, {"down", "countdown"},
		{"outage", "OUTAGE!"}, {"production", "production-site"}, {"down", "down_time"}, {"critical", ""},
		{"urgent", "ur\xffgent"}, {"ſ", "s"}, {"k", "\u212a"}, {"überlastet", "Alles überlastet."},
		{"écroulé", "écroulés"}, {"down", "downé"}, {"is down", "it is, down"}, {"e\u0301", "e\u0301\u0301"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, signal, text string) {
		c := Config{Routing: Routing{PrioritySignals: []string{signal}}}
		c.setDefaults() // must not panic, whatever the signal
		got := c.Routing.IsPriority(text)
		if c.Validate() != nil && strings.Contains(c.Validate().Error(), "priority_signals") {
			if got {
				t.Fatalf("signal %q, which check refuses, matched %q", signal, text)
			}
			return
		}
		if want := oracle(signal).MatchString(text); got != want {
			t.Fatalf("IsPriority(%q) with signal %q = %v, want %v", text, signal, got, want)
		}
		if !c.Routing.IsPriority(text + " " + signal + ".") {
			t.Fatalf("signal %q not heard at the end of %q", signal, text)
		}
	})
}

// oracle is the priority rule for one signal as a regular expression.
func oracle(signal string) *regexp.Regexp {
	const other = `[^\pL\pN\pM]` // not part of a word
	quoted := strings.Fields(signal)
	for i, w := range quoted {
		quoted[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(`(?i)(?:^|` + other + `)(?:` + strings.Join(quoted, other+`+`) + `)(?:$|` + other + `)`)
}

// TestConfigLoaderNamesWhatPanicked: configs that once panicked in the loader
// are now reported, each problem by name.
func TestConfigLoaderNamesWhatPanicked(t *testing.T) {
	const rest = `"fallback":"+14155550199","emergency":"+14155550911"`
	for _, tt := range []struct{ name, config, want string }{
		{"department named empty", `{"routing":{"departments":{"":"+14155550100",` + rest + `}}}`, "routing.departments.: name must be lower-case"},
		{"null texts", `{"routing":{"departments":{` + rest + `},"texts":{"de-DE":null}}}`, "routing.texts.de-DE: empty"},
		{"null department", `{"routing":{"departments":{"sales":null,` + rest + `}}}`, "routing.departments.sales: empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	// JSON turns broken bytes into U+FFFD; a config built in code can still carry them.
	c := ExampleConfig()
	c.Routing.PrioritySignals = []string{"ur\xffgent"}
	c.setDefaults()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "not a word or phrase") {
		t.Errorf("a priority signal that is not UTF-8: err = %v, want it named", err)
	}
}
