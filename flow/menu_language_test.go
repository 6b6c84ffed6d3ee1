package flow_test

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/flow"
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
