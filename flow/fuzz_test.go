package flow

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"
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

// FuzzIsPriority checks the priority lane against a plain reading of its
// rule: a signal word matches as a whole word, in any case, nowhere else.
func FuzzIsPriority(f *testing.F) {
	for _, s := range [][2]string{
		{"down", "the site is down"}, {"down", "I want to download it"}, {"down", "countdown"},
		{"outage", "OUTAGE!"}, {"production", "production-site"}, {"down", "down_time"}, {"critical", ""},
		{"urgent", "ur\xffgent"}, {"ſ", "s"}, {"k", "\u212a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, signal, text string) {
		c := Config{Routing: Routing{PrioritySignals: []string{signal}}}
		c.setDefaults() // must not panic, whatever the signal
		got := c.Routing.IsPriority(text)
		if !asciiWord(signal) || !isASCII(text) {
			return // the reading below is exact for ASCII only
		}
		if want := hasWord(strings.ToLower(text), strings.ToLower(signal)); got != want {
			t.Fatalf("IsPriority(%q) with signal %q = %v, want %v", text, signal, got, want)
		}
		if !c.Routing.IsPriority(text + " " + signal + ".") {
			t.Fatalf("signal %q not heard at the end of %q", signal, text)
		}
	})
}

// asciiWord reports whether s is one word of ASCII letters, digits and underscores.
func asciiWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !isWordByte(byte(r)) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] > unicode.MaxASCII {
			return false
		}
	}
	return true
}

func isWordByte(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// hasWord reports whether word occurs in text with no word character on either side.
func hasWord(text, word string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isWordByte(text[start-1])) && (end == len(text) || !isWordByte(text[end])) {
			return true
		}
		i = start + 1
	}
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
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("a priority signal that is not UTF-8: err = %v, want it named", err)
	}
}
