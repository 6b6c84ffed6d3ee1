package service

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// seedShape is a config in the seed template's shape: departments as bare
// numbers, so every text and label is a default.
const seedShape = `{"routing": {"departments": {"sales": "+14155550100", "support": "+14155550101",
"billing": "+14155550102", "fallback": "+14155550199", "emergency": "+14155550911"},
"llm": {"model": "gpt-4o-mini"}, "fallback": {"destination": "fallback"}}}`

// TestEveryShippedTextPassesTTS: every string of every shipped config (texts,
// labels, templates, whatever we could say) and every talk of the flow-step
// customer flow passes VoIPBin's TTS check once rendered as a talk; without
// escaping, "Billing & Accounts" would be silence.
func TestEveryShippedTextPassesTTS(t *testing.T) {
	files, _ := filepath.Glob("../../../../testdata/modes/*.json")
	more, _ := filepath.Glob("../../../../testdata/routing-*.json")
	files = append(append([]string{""}, files...), more...) // "": the embedded example config
	configs := map[string]*flow.Config{}
	for _, f := range files {
		cfg, err := LoadConfig(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		configs[cmpName(f)] = cfg
	}
	seed, err := flow.ParseConfig(strings.NewReader(seedShape))
	if err != nil {
		t.Fatal(err)
	}
	configs["seed template"] = seed
	for name, cfg := range configs {
		escaped := 0
		var texts []string
		walkStrings(reflect.ValueOf(cfg.Routing), &texts)
		for _, text := range texts {
			talk := voipbin.Render([]flow.Action{{Kind: flow.ActTalk, Text: text}}, voipbin.FetchURL{})[0].Option.(voipbin.TalkOption)
			if err := voipbin.CheckSpeakable(talk.Text); err != nil {
				t.Errorf("%s: %q would be silence: %v", name, text, err)
			}
			if voipbin.CheckSpeakable(text) != nil {
				escaped++
			}
		}
		for _, a := range voipbin.CustomerFlow(cfg, "https://h/voipbin/fetch?t=x") {
			if o, ok := a.Option.(voipbin.TalkOption); ok && voipbin.CheckSpeakable(o.Text) != nil {
				t.Errorf("%s: the customer flow's talk %q would be silence", name, o.Text)
			}
		}
		t.Logf("%s: %d strings, %d of them needing escape", name, len(texts), escaped)
	}
}

func cmpName(file string) string {
	if file == "" {
		return "example"
	}
	return filepath.Base(file)
}

// walkStrings collects every string in v: fields, map keys and values, slices.
func walkStrings(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		*out = append(*out, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), out)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(k, out)
			walkStrings(v.MapIndex(k), out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), out)
		}
	}
}
