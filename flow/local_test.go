package flow_test

import (
	"context"
	"testing"

	"github.com/switchboard/switchboard/flow"
)

// routes reports the department the router would take from v with the
// example config's thresholds, or "" for a clarifying question.
func routes(cfg *flow.Config, v flow.Verdict) string {
	llm := cfg.Routing.LLM
	if v.Department == "" || v.Confidence < llm.MinConfidence || v.Confidence-v.RunnerUp < llm.MinMargin {
		return ""
	}
	return v.Department
}

func TestLocalRoutesTheExampleConfig(t *testing.T) {
	cfg := flow.ExampleConfig()
	l := flow.NewLocal(cfg)
	tests := []struct {
		name  string
		turns []string
		want  string // "" means unsure: the caller is asked again
	}{
		{"quote", []string{"I'd like a quote for your enterprise plan"}, "sales"},
		{"double charge", []string{"my invoice shows a double charge"}, "billing"},
		{"crash", []string{"The app keeps crashing when I open it"}, "support"},
		{"named billing", []string{"billing please"}, "billing"},
		{"named sales", []string{"sales"}, "sales"},
		{"named support", []string{"technical support"}, "support"},
		{"greeting", []string{"hi"}, ""},
		{"greeting sir", []string{"hello sir"}, ""},
		{"vague question", []string{"I have a question"}, ""},
		{"hello", []string{"hello"}, ""},
		{"small talk", []string{"tell me a joke"}, ""},
		{"empty", nil, ""},
		{"only punctuation", []string{"?!"}, ""},
		{"synonym", []string{"I want to purchase more seats"}, "sales"},
		{"misspelt", []string{"I need a refnud for last month"}, "billing"},
		{"contraction", []string{"I can't log in"}, "support"},
		{"history", []string{"hello", "my name is Ann", "I was charged twice"}, "billing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := l.Classify(context.Background(), tt.turns)
			if err != nil {
				t.Fatal(err)
			}
			if got := routes(cfg, v); got != tt.want {
				t.Errorf("Classify(%q) routes to %q (%+v), want %q", tt.turns, got, v, tt.want)
			}
		})
	}
}

// TestLocalVerdictIsAProbability checks the calibration contract the router
// relies on: confidences are probabilities, the runner-up never beats the
// winner, and an unsure verdict names no department.
func TestLocalVerdictIsAProbability(t *testing.T) {
	l := flow.NewLocal(flow.ExampleConfig())
	for _, turn := range []string{"", "hi", "billing", "refund for a double charge on my invoice", "xyzzy plugh", "cost cost cost cost"} {
		t.Run(turn, func(t *testing.T) {
			v, _ := l.Classify(context.Background(), []string{turn})
			if v.Confidence < 0 || v.Confidence > 1 || v.RunnerUp < 0 || v.RunnerUp > v.Confidence {
				t.Errorf("Classify(%q) = %+v: want 0 <= RunnerUp <= Confidence <= 1", turn, v)
			}
		})
	}
}

// TestLocalWeakEvidenceIsUnsure: more evidence for one department never makes
// the classifier less sure of it.
func TestLocalMoreEvidenceIsSurer(t *testing.T) {
	l := flow.NewLocal(flow.ExampleConfig())
	one, _ := l.Classify(context.Background(), []string{"refund"})
	two, _ := l.Classify(context.Background(), []string{"refund for a double charge on my invoice"})
	if one.Department != "billing" || two.Department != "billing" || two.Confidence < one.Confidence {
		t.Errorf("refund: %+v; refund, charge and invoice: %+v; want billing, surer with more", one, two)
	}
}

func TestLocalLearnsFromConfigExamples(t *testing.T) {
	cfg := flow.ExampleConfig()
	sentence := []string{"my parrot ate the dongle"}
	before, _ := flow.NewLocal(cfg).Classify(context.Background(), sentence)
	cfg.Routing.Departments["support"].Examples = append(cfg.Routing.Departments["support"].Examples, "the parrot chewed through the dongle")
	after, _ := flow.NewLocal(cfg).Classify(context.Background(), sentence)
	if routes(cfg, before) != "" || routes(cfg, after) != "support" {
		t.Errorf("before the example: %+v (want unsure); after: %+v (want support)", before, after)
	}
}

func BenchmarkLocalClassify(b *testing.B) {
	l := flow.NewLocal(flow.ExampleConfig())
	turns := []string{"hello there", "I was charged twice on my last invoice and I'd like a refund please"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Classify(ctx, turns); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewLocal(b *testing.B) {
	cfg := flow.ExampleConfig()
	b.ReportAllocs()
	for b.Loop() {
		flow.NewLocal(cfg)
	}
}

// generalConfig names no product: what a caller wants to buy, or has lost,
// must be heard from general English, not from the config's word list.
func generalConfig(t *testing.T) *flow.Config {
	t.Helper()
	cfg := flow.ExampleConfig()
	d := cfg.Routing.Departments
	d["sales"].Description = "New customers: buying, ordering, signing up, applying or enrolling for something new, prices."
	d["sales"].Keywords, d["sales"].Examples = []string{"buy", "price"}, []string{"I want to buy something"}
	d["billing"].Description = "Money owed on an existing account: bills, payments, charges, balances, refunds."
	d["billing"].Keywords, d["billing"].Examples = []string{"bill", "payment"}, []string{"I have a question about my bill"}
	d["support"].Description = "Help for existing customers when something is not working, broken or late."
	d["support"].Keywords, d["support"].Examples = []string{"broken", "error"}, []string{"it does not work"}
	d["emergency"].Description = "Lost or stolen cards, fraud, accidents."
	d["emergency"].Keywords, d["emergency"].Examples = []string{"lost card", "stolen card", "fraud"}, []string{"I lost my card"}
	return cfg
}

func TestLocalHearsGeneralEnglish(t *testing.T) {
	cfg := generalConfig(t)
	l := flow.NewLocal(cfg)
	for _, c := range []struct {
		words string
		want  string
	}{
		{"I would like to apply for a credit card", "sales"},
		{"can I purchase a mattress from you", "sales"},
		{"I want to order two pillows", "sales"},
		{"somebody pilfered my wallet with my cards in it", "emergency"},
		{"I misplaced my card yesterday", "emergency"},
		{"I was overcharged on my last invoice", "billing"},
		{"the device malfunctioned after a week", "support"},
	} {
		v, err := l.Classify(context.Background(), []string{c.words})
		if err != nil {
			t.Fatal(err)
		}
		if got := routes(cfg, v); got != c.want {
			t.Errorf("%q: got %q (%+v), want %q", c.words, got, v, c.want)
		}
	}
}

// Having bought is not buying: a past form of a buying verb speaks of
// something the caller already has.
func TestLocalPastPurchaseIsNotSales(t *testing.T) {
	cfg := generalConfig(t)
	cfg.Routing.Departments["sales"].Keywords = append(cfg.Routing.Departments["sales"].Keywords, "order", "enroll")
	l := flow.NewLocal(cfg)
	for _, words := range []string{"I ordered a mattress last week and it is broken", "the plan I enrolled in last year is late"} {
		v, _ := l.Classify(context.Background(), []string{words})
		if v.Department == "sales" {
			t.Errorf("%q went to sales (%+v)", words, v)
		}
	}
}

// A card is a topic, not an emergency: without loss, theft, fraud, an
// accident or urgency in the caller's words the emergency line is never chosen.
func TestLocalEmergencyNeedsHarm(t *testing.T) {
	cfg := generalConfig(t)
	cfg.Routing.Departments["emergency"].Keywords = append(cfg.Routing.Departments["emergency"].Keywords, "card")
	l := flow.NewLocal(cfg)
	for _, words := range []string{"card", "what is the balance on my credit card", "I want a new card", "my card please",
		"can someone explain the new card to me", "somebody told me about this card"} {
		v, _ := l.Classify(context.Background(), []string{words})
		if v.Department == "emergency" {
			t.Errorf("%q went to the emergency line (%+v)", words, v)
		}
	}
	for _, words := range []string{"I lost my card", "my card was stolen", "someone used my card without my permission",
		"my wallet was taken on the bus"} {
		v, _ := l.Classify(context.Background(), []string{words})
		if routes(cfg, v) != "emergency" {
			t.Errorf("%q: got %+v, want the emergency line", words, v)
		}
	}
	// A misspelt harm word keeps its meaning: the emergency line leads.
	if v, _ := l.Classify(context.Background(), []string{"I need to report an acident"}); v.Department != "emergency" {
		t.Errorf("misspelt accident: got %+v, want the emergency line first", v)
	}
}

// A possession gone or used without the owner knowing is harm in plain words.
func TestLocalHearsLossAndMisuseInPhrases(t *testing.T) {
	cfg := generalConfig(t)
	l := flow.NewLocalWith(cfg, flow.LocalOptions{NoVectors: true})
	for _, words := range []string{"my card is gone", "my wallet went missing", "someone used my card without me knowing"} {
		if v, _ := l.Classify(context.Background(), []string{words}); routes(cfg, v) != "emergency" {
			t.Errorf("%q: %+v, want the emergency line", words, v)
		}
	}
}
