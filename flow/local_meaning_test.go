package flow_test

import (
	"context"
	"testing"

	"github.com/switchboard/switchboard/flow"
)

// shopConfig sells furniture and names few of its products: a caller who
// names another must be heard through what the word means.
func shopConfig(t *testing.T) *flow.Config {
	t.Helper()
	cfg := generalConfig(t)
	s := cfg.Routing.Departments["sales"]
	s.Description = "New customers: buying furniture, prices."
	s.Keywords = append(s.Keywords, "sofa", "wardrobe")
	return cfg
}

func TestLocalVectorsBridgeAnUnseenWord(t *testing.T) {
	cfg := shopConfig(t)
	with, without := flow.NewLocal(cfg), flow.NewLocalWith(cfg, flow.LocalOptions{NoVectors: true})
	for _, words := range []string{"bookcases and couches", "bookshelves and couches", "a couch and a dresser", "couches"} {
		v, _ := with.Classify(context.Background(), []string{words})
		if routes(cfg, v) != "sales" {
			t.Errorf("%q with vectors: %+v, want sales", words, v)
		}
		if v, _ := without.Classify(context.Background(), []string{words}); routes(cfg, v) != "" {
			t.Errorf("%q without vectors: %+v, want a clarifying question", words, v)
		}
	}
}

// Vectors put "won" beside "lost" and "found" beside "stolen": they may never
// open the emergency line, nor send a caller who only greets anywhere.
func TestLocalVectorsKeepThePriorityLaneAndGreetings(t *testing.T) {
	cfg := shopConfig(t)
	cfg.Routing.Departments["emergency"].Keywords = append(cfg.Routing.Departments["emergency"].Keywords, "card")
	l := flow.NewLocal(cfg)
	for _, words := range []string{"I won with my card", "I found my card", "my card has gone to the shop", "card card",
		"the wardrobe I won", "my card was recovered", "my card was confiscated", "my card was seized", "smuggled cards"} {
		if v, _ := l.Classify(context.Background(), []string{words}); v.Department == "emergency" {
			t.Errorf("%q went to the emergency line (%+v)", words, v)
		}
	}
	for _, words := range []string{"hello good morning", "hi there thanks", "yes please", "okay"} {
		if v, _ := l.Classify(context.Background(), []string{words}); v.Department != "" {
			t.Errorf("greeting %q went to %+v", words, v)
		}
	}
}

func BenchmarkLocalClassifyUnsure(b *testing.B) {
	for _, bc := range []struct {
		name string
		opt  flow.LocalOptions
	}{{"vectors", flow.LocalOptions{}}, {"words", flow.LocalOptions{NoVectors: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			l := flow.NewLocalWith(flow.ExampleConfig(), bc.opt)
			// No word the example config uses: the vectors are asked.
			turns := []string{"hello there", "a mattress and pillows for the guest bedroom"}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Classify(ctx, turns); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Money moved in a way the caller finds odd is feared fraud though no word
// of fraud is said: the vectors hear "weird" as "strange" and "purchases" as
// "transactions". Words alone do not.
func TestLocalVectorsHearOddMoneyAsHarm(t *testing.T) {
	cfg := generalConfig(t)
	with, without := flow.NewLocal(cfg), flow.NewLocalWith(cfg, flow.LocalOptions{NoVectors: true})
	for _, words := range []string{"I see strange transactions on my account", "there are weird payments on my card",
		"some unusual purchases on my card", "odd transfers from my savings"} {
		if v, _ := with.Classify(context.Background(), []string{words}); routes(cfg, v) != "emergency" {
			t.Errorf("%q with vectors: %+v, want the emergency line", words, v)
		}
		if v, _ := without.Classify(context.Background(), []string{words}); v.Department == "emergency" {
			t.Errorf("%q without vectors: %+v, want no emergency line", words, v)
		}
	}
	for _, words := range []string{"a different payment method", "my new transactions", "the transfer was strange and slow",
		"an interesting deal on my card"} {
		if v, _ := with.Classify(context.Background(), []string{words}); v.Department == "emergency" {
			t.Errorf("%q went to the emergency line (%+v)", words, v)
		}
	}
}
