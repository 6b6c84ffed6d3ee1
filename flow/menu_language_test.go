package flow_test

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/flow"
	"github.com/switchboard/switchboard/store"
)

// TestMenuLanguageWarnings: check warns where a keypad prompt's words are
// another language than the voice that reads it, and refuses a menu
// language without texts.
func TestMenuLanguageWarnings(t *testing.T) {
	cfg := loadConfig(t, "../testdata/modes/keypad-bilingual.json")
	if w := cfg.Routing.Warnings(); len(w) > 0 {
		t.Errorf("the bilingual tree draws warnings: %v", w)
	}
	menus := cfg.Routing.Modes["keypad"].Keypad.Menus
	menus["espanol"].Language = ""
	menus["main"].AlsoSay[0].Language = "en-US"
	got := strings.Join(cfg.Routing.Warnings(), "\n")
	for _, want := range []string{"menus.espanol.prompt", "menus.main.also_say[0]"} {
		if !strings.Contains(got, want+": ") || !strings.Contains(got, "reads as es-ES but is spoken as en-US") {
			t.Errorf("no warning for %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "menus.main.prompt") {
		t.Errorf("the English prompt is warned about:\n%s", got)
	}
	menus["espanol"].Language = "fr-FR"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "menus.espanol.language") {
		t.Errorf("a menu language without texts: err = %v", err)
	}
}

// TestMenuPromptVoice: a menu's prompt is read in its own language's voice.
func TestMenuPromptVoice(t *testing.T) {
	m := flow.Menu{Prompt: "Para ventas, oprima 1.", Language: "es-ES", Prompts: map[string]string{"fr-FR": "Pour les ventes, tapez 1."}}
	for _, tt := range []struct{ caller, text, lang string }{
		{"en-US", "Para ventas, oprima 1.", "es-ES"},
		{"fr-FR", "Pour les ventes, tapez 1.", "fr-FR"},
	} {
		if text, lang := m.PromptIn(tt.caller, "en-US"); text != tt.text || lang != tt.lang {
			t.Errorf("PromptIn(%s) = %q in %s, want %q in %s", tt.caller, text, lang, tt.text, tt.lang)
		}
	}
	m.Language = ""
	if _, lang := m.PromptIn("es-ES", "en-US"); lang != "en-US" {
		t.Errorf("an undeclared prompt is read in %s, want the mode's en-US", lang)
	}
}

// TestDetectedLanguageWaitsForEveryTranscription: a call that detects its
// language decides when every transcription has delivered its words, so the
// Spanish caller is answered in Spanish; priority words do not wait.
func TestDetectedLanguageWaitsForEveryTranscription(t *testing.T) {
	cfg := loadConfig(t, "../testdata/modes/multilingual.json")
	start := func(t *testing.T) (*flow.Router, *flow.Events, *store.Memory) {
		mem := store.NewMemory(store.DefaultExpiry)
		r, ev := flow.NewRouter(cfg, mem, flow.NewLocal(cfg), nil, quiet), flow.NewEvents(mem, quiet)
		r.Next(t.Context(), flow.Turn{CallID: "d1", Channel: flow.Voice, Dialled: "+14155550000"})
		for session, lang := range map[string]string{"tr-en": "en-US", "tr-es": "es-ES"} {
			if err := ev.Transcribing(t.Context(), session, "d1", lang); err != nil {
				t.Fatal(err)
			}
		}
		return r, ev, mem
	}
	hear := func(t *testing.T, r *flow.Router, ev *flow.Events, id, session, text string) {
		if _, _, err := ev.Heard(t.Context(), flow.Heard{ID: id, Session: session, Speaker: flow.Caller, Text: text}); err != nil {
			t.Fatal(err)
		}
		r.Next(t.Context(), flow.Turn{CallID: "d1", Channel: flow.Voice, OnWords: true})
	}
	t.Run("spanish", func(t *testing.T) {
		r, ev, mem := start(t)
		hear(t, r, ev, "w1", "tr-en", "hola me cobraron dos veces la factura")
		if c, _, _ := mem.Load(t.Context(), "d1"); c.Ready != nil {
			t.Fatalf("decided on the English transcription alone: %+v", c.Ready)
		}
		hear(t, r, ev, "w2", "tr-es", "hola, me cobraron dos veces la factura")
		c, _, _ := mem.Load(t.Context(), "d1")
		if c.Language != "es-ES" || c.Department != "billing" || len(c.Ready) == 0 || c.Ready[0].Language != "es-ES" {
			t.Errorf("after both: %s to %q, ready %+v; want Billing, told in es-ES", c.Language, c.Department, c.Ready)
		}
	})
	t.Run("priority", func(t *testing.T) {
		r, ev, mem := start(t)
		hear(t, r, ev, "w1", "tr-en", "we have an outage")
		if c, _, _ := mem.Load(t.Context(), "d1"); c.Department != flow.Emergency {
			t.Errorf("priority words waited for the other transcription: %s, %q", c.State, c.Department)
		}
	})
	t.Run("spanish priority heard first in English", func(t *testing.T) {
		r, ev, mem := start(t)
		hear(t, r, ev, "w1", "tr-en", "es urgente, el servidor está caído")
		c, _, _ := mem.Load(t.Context(), "d1")
		if c.Department != flow.Emergency || c.Language != "es-ES" {
			t.Errorf("%s to %q in %s; want on-call at once, in es-ES", c.State, c.Department, c.Language)
		}
		hear(t, r, ev, "w2", "tr-es", "es urgente, el servidor está caído")
		if c, _, _ := mem.Load(t.Context(), "d1"); c.Department != flow.Emergency || len(c.Ready) == 0 || c.Ready[0].Language != "es-ES" {
			t.Errorf("after its own transcription: %s to %q, ready %+v; want on-call, told in es-ES", c.State, c.Department, c.Ready)
		}
	})
}

// TestEntryPromptVoice: an account-entry prompt without a translation is
// read in the mode's language, not the caller's.
func TestEntryPromptVoice(t *testing.T) {
	e := flow.Entry{Prompt: "Please enter your account number.", Prompts: map[string]string{"es-ES": "Marque su número de cuenta."}}
	if text, lang := e.PromptIn("es-ES", "en-US"); lang != "es-ES" || text != e.Prompts["es-ES"] {
		t.Errorf("es-ES caller: %q in %s", text, lang)
	}
	if _, lang := e.PromptIn("fr-FR", "en-US"); lang != "en-US" {
		t.Errorf("untranslated prompt read in %s, want en-US", lang)
	}
}
