package voipbin

import (
	"strings"
	"testing"
)

// TestCheckSpeakable pins VoIPBin's TTS check (bin-tts-manager ttshandler
// normalizeText): the text, or else the text inside <speak>, must parse as
// strict XML up to the end of its first element.
func TestCheckSpeakable(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
	}{
		{"Routing you to Sales.", true},
		{"Routing you to Billing & Accounts.", false},
		{"Routing you to Billing &amp; Accounts.", true},
		{"3 for Accounts & Login", false},
		{"a < b", false},
		{"a > b", true}, // XML character data may hold a bare ">"
		{"caf&eacute;", false},
		{"non&nbsp;breaking", false},
		{"it&#39;s", true},
		{"bell\x07", false},
		{"<speak>Hello</speak>", true},
		{"<speak><break", false},
		{"<><", false},
		{"<b>x</b> & after", true}, // only the first element is read
		{"", true},
		{"]]>", false},
	}
	for _, tt := range tests {
		err := CheckSpeakable(tt.text)
		if got := err == nil; got != tt.ok {
			t.Errorf("CheckSpeakable(%q) = %v, want ok %v", tt.text, err, tt.ok)
		}
	}
}

// TestSpeakable: whatever a config holds, the escaped text passes VoIPBin's
// check and is heard as written.
func TestSpeakable(t *testing.T) {
	for _, words := range []string{
		"Billing & Accounts", "Accounts & Login", "<speak>", "a <b> c", "]]>", "&amp;", "Tom's \"quotes\"",
		"Facturación y Cuentas", "tab\there", "bell\x07 rings", "broken \xff utf-8", "",
	} {
		text := Speakable(words)
		if err := CheckSpeakable(text); err != nil {
			t.Errorf("Speakable(%q) = %q: %v", words, text, err)
		}
		want := strings.NewReplacer("\x07", "", "\xff", "").Replace(words)
		if got := Spoken(text); got != want {
			t.Errorf("Spoken(Speakable(%q)) = %q, want %q", words, got, want)
		}
	}
}

func FuzzSpeakable(f *testing.F) {
	f.Add("Billing & Accounts")
	f.Add("<speak><break")
	f.Fuzz(func(t *testing.T, words string) {
		if text := Speakable(words); CheckSpeakable(text) != nil {
			t.Fatalf("Speakable(%q) = %q, which VoIPBin's TTS refuses", words, text)
		}
	})
}
