package service

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// TestLanguageTagAsWritten: VoIPBin reports a transcription's language as it
// reads the tag (bin-transcribe-manager getBCP47LanguageCode: es-es is
// es-ES). A config written with es-es still takes the caller's Spanish
// words, as the same config written with es-ES does: a number that detects
// Spanish or English, Spanish first, hears the caller and routes them.
func TestLanguageTagAsWritten(t *testing.T) {
	multilingual, err := os.ReadFile("../../../../testdata/modes/multilingual.json")
	if err != nil {
		t.Fatal(err)
	}
	spanishFirst := bytes.Replace(multilingual, []byte(`"detect-by-speech": {"languages": ["en-US", "es-ES"]`),
		[]byte(`"detect-by-speech": {"languages": ["es-ES", "en-US"]`), 1)
	if bytes.Equal(spanishFirst, multilingual) {
		t.Fatal("modes/multilingual.json changed: its detect-by-speech mode is not where this test looks")
	}
	lower := bytes.ReplaceAll(bytes.ReplaceAll(spanishFirst, []byte(`"es-ES"`), []byte(`"es-es"`)), []byte(`"en-US"`), []byte(`"en-us"`))
	const said = "hola buenas tardes, necesito ayuda con mi contraseña porque no puedo entrar"
	for _, tt := range []struct {
		name   string
		config []byte
	}{{"es-ES", spanishFirst}, {"es-es", lower}} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "routing.json")
			if err := os.WriteFile(file, tt.config, 0o644); err != nil {
				t.Fatal(err)
			}
			svc, srv := startService(t, Config{FetchToken: testToken, ConfigFile: file})
			res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: "spanish", Bases: []string{srv.URL}, Token: testToken},
				[]voipbintest.Step{{Say: said}})
			transcript := strings.Join(res.Transcript, "\n")
			if err != nil {
				t.Fatalf("%v\n%s", err, transcript)
			}
			c, _, err := svc.store.Load(t.Context(), voipbintest.WireID("spanish"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(c.Turns, said) || c.Language != "es-ES" || res.Connected != "+14155550101" {
				t.Errorf("language %q, heard %q, connected %q; want es-ES, the caller's words, support:\n%s", c.Language, c.Turns, res.Connected, transcript)
			}
		})
	}
}

// TestFetchLanguageAsWritten: the number's language on the fetch URL
// (provision --lang) is read as VoIPBin reads tags: ?lang=es-es greets in
// the config's es-ES.
func TestFetchLanguageAsWritten(t *testing.T) {
	srv := startServer(t, Config{ConfigFile: "../../../../testdata/modes/multilingual.json"})
	for _, lang := range []string{"es-ES", "es-es", "ES-ES"} {
		_, body := post(t, srv.URL+"/voipbin/fetch?lang="+lang, `{"reference_id":"`+uuid.NewString()+`"}`)
		if !strings.Contains(body, `"text":"Gracias por llamar`) || strings.Contains(body, `"language":"en-US"`) {
			t.Errorf("?lang=%s greets %s, want Spanish only", lang, body)
		}
	}
}
