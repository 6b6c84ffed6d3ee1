package flow

import (
	"strings"
	"testing"
)

// bikeShop is a config a newcomer writes from the README: their own
// departments and keywords, a Spanish greeting, every other text left out.
const bikeShop = `{"routing": {
  "departments": {
    "orders":  {"number": "+14155550100", "label": "Orders", "labels": {"es-ES": "Pedidos"}, "digit": "1",
                "keywords": ["order", "buy", "purchase", "delivery"], "description": "Buying bikes and parts, orders and deliveries."},
    "repairs": {"number": "+14155550101", "label": "Repairs", "labels": {"es-ES": "Taller"}, "digit": "2",
                "keywords": ["repair", "service", "puncture", "brakes"], "description": "Servicing and repairs in the workshop."},
    "accounts": {"number": "+14155550102", "label": "Accounts", "digit": "3",
                "keywords": ["invoice", "refund", "payment"], "description": "Invoices, refunds and payments."},
    "fallback": {"number": "+14155550199", "label": "Reception", "digit": "0"},
    "emergency": {"number": "+14155550911", "label": "On-call"}
  },
  "priority_signals": ["accident", "injured", "stolen"],
  "texts": {"es-ES": {"greeting": "Gracias por llamar a la tienda de bicicletas. ¿En qué podemos ayudarle?"}}
}}`

// TestTextsFromTheExample: a language without all its texts takes the
// example's in that language (a Spanish caller never hears English), and
// what is left, in a language the example lacks, is named text by text.
func TestTextsFromTheExample(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(bikeShop))
	if err != nil {
		t.Fatal(err)
	}
	es := cfg.Routing.Texts["es-ES"]
	if !strings.HasPrefix(es.Greeting, "Gracias por llamar a la tienda") {
		t.Errorf("the config's own greeting was replaced: %q", es.Greeting)
	}
	ex, _ := exampleTextsFor("es-ES")
	for _, f := range textFields(es) {
		if f.empty() {
			if f.name != "choose_language" {
				t.Errorf("es-ES.%s: empty", f.name)
			}
			continue
		}
		for _, s := range f.sentences() {
			for _, english := range []string{"Please", "Sorry", "Routing", "Connecting", "One moment", "closed"} {
				if strings.Contains(s[1], english) {
					t.Errorf("a Spanish caller hears English: es-ES.%s = %q", s[0], s[1])
				}
			}
		}
	}
	if es.Urgent != ex.Urgent || !es.inherited["urgent"] || es.inherited["greeting"] {
		t.Errorf("es-ES.urgent %q (inherited %v), want the example's %q; greeting inherited %v", es.Urgent, es.inherited["urgent"], ex.Urgent, es.inherited["greeting"])
	}
	// Mexican Spanish takes the example's Spanish too.
	mx := strings.Replace(bikeShop, `"es-ES": {"greeting"`, `"es-MX": {"greeting"`, 1)
	cfg, err = ParseConfig(strings.NewReader(mx))
	if err != nil || cfg.Routing.Texts["es-MX"].Reception != ex.Reception {
		t.Errorf("es-MX: err %v, reception %q, want the example's es-ES", err, cfg.Routing.Texts["es-MX"].Reception)
	}
	// A language the example has no texts in: every text still missing is named.
	de := strings.Replace(bikeShop, `"es-ES": {"greeting"`, `"de-DE": {"greeting"`, 1)
	_, err = ParseConfig(strings.NewReader(de))
	want := "routing.texts.de-DE: clarify, still_there, routing, urgent, menu, menu_option, menu_last, reception, acknowledge, keypad_invalid, keypad_timeout missing"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "de-DE.routing: must contain") {
		t.Errorf("de-DE with a greeting only: err %v, want %q, said once", err, want)
	}
	// A number offering languages by key: each says its own offer.
	byKey := strings.Replace(bikeShop, `"texts":`, `"modes": {"m": {"languages": ["en-US", "es-ES"], "language_by": "keypad"}}, "texts":`, 1)
	_, err = ParseConfig(strings.NewReader(byKey))
	if err == nil || !strings.Contains(err.Error(), "routing.texts.en-US: choose_language missing") || !strings.Contains(err.Error(), "routing.texts.es-ES: choose_language missing") {
		t.Errorf("languages by key without choose_language: err %v, want it named for each", err)
	}
	// A number serving a language the config has no texts for at all.
	modes := strings.Replace(bikeShop, `"texts":`, `"modes": {"m": {"languages": ["en-US", "es-ES", "fr-FR"], "language_by": "keypad"}}, "texts":`, 1)
	_, err = ParseConfig(strings.NewReader(modes))
	if err == nil || !strings.Contains(err.Error(), "routing.texts.fr-FR: greeting, clarify") || strings.Contains(err.Error(), "routing.texts.es-ES: greeting") {
		t.Errorf("a mode serving fr-FR without texts: err %v, want fr-FR's texts named missing, es-ES from the example", err)
	}
}

// TestTextWarnings: texts inherited from the example that speak of the
// example's business are named, with the words; the config's own texts and
// the example's general ones are not.
func TestTextWarnings(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(bikeShop))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.Routing.TextWarnings(), "\n")
	t.Logf("\n%s", got)
	for _, want := range []string{
		`routing.texts.en-US.urgent, from the example, names ["engineering"]`,
		`routing.texts.en-US.clarify[1], from the example, names ["technical" "problem" "bill"]`,
		`routing.texts.es-ES.urgent, from the example, names ["guardia" "ingeniería"]`,
		`routing.texts.es-ES.clarify[1], from the example, names ["técnico" "factura"]`,
		// The bike shop's reception has no Spanish name: the example's is named.
		`routing.texts.es-ES.reception, from the example, names ["recepción"], which this config's departments do not: ` +
			`callers hear "Le paso con nuestra recepción."; write your own, or give the departments labels.es-ES`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %s", want)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 5 {
		t.Errorf("%d warnings, want 5", n)
	}
	// Writing the text silences its warning, whatever its words.
	own := strings.Replace(bikeShop, `"texts": {`, `"texts": {"en-US": {"urgent": "Putting you through to our on-call mechanic: no engineering degree needed."}, `, 1)
	cfg, err = ParseConfig(strings.NewReader(own))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Routing.TextWarnings(), "\n"); strings.Contains(got, "en-US.urgent") {
		t.Errorf("the config's own urgent text is warned about:\n%s", got)
	}
	// The example's own business: nothing to warn about.
	if got := ExampleConfig().Routing.TextWarnings(); len(got) > 0 {
		t.Errorf("the example warns about itself:\n%s", strings.Join(got, "\n"))
	}
}

// TestDescribeTexts: check lists every sentence per language, marks the
// example's, and says each department's name as the caller hears it.
func TestDescribeTexts(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(bikeShop))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.Routing.DescribeTexts(), "\n")
	for _, want := range []string{
		"en-US (the default):",
		"  clarify[1]       I want to get you to the right person. Is this about a purchase, a technical problem, or a bill?  (example)",
		"es-ES:",
		"  greeting         Gracias por llamar a la tienda de bicicletas. ¿En qué podemos ayudarle?\n",
		`accounts "Accounts" (no labels.es-ES)`,
		`orders "Pedidos"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
}
