package eval_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
	"github.com/switchboard/switchboard/flow"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus/recorded.json with today's figures")

// corpusDir holds the labelled transcripts and the routing config that
// describes them.
var corpusDir = filepath.Join("..", "..", "..", "..", "testdata", "corpus")

// recorded is what the local classifier scored on the corpus when it was
// last improved on purpose; testdata/corpus/recorded.json.
type recorded struct {
	Command         string  `json:"command"`
	Accuracy        float64 `json:"accuracy"`
	MacroF1         float64 `json:"macro_f1"`
	EmergencyRecall float64 `json:"emergency_recall"`
	ClarifyRate     float64 `json:"clarify_rate"`
	// Margin is how far below the record a change may fall before the test
	// fails: enough for a reworded example, not for a worse classifier.
	Margin float64 `json:"margin"`
}

func loadCorpus(t *testing.T) ([]eval.Conversation, *flow.Config) {
	t.Helper()
	convs, err := eval.LoadFile(filepath.Join(corpusDir, "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(corpusDir, "routing.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := flow.ParseConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return convs, cfg
}

func newLocal(c *flow.Config) flow.Classifier { return flow.NewLocal(c) }

// TestLocalClassifierDoesNotRegress fails when the local classifier routes the
// corpus worse than recorded, so a change that makes routing worse cannot land
// unnoticed. Run with -update after a deliberate improvement.
func TestLocalClassifierDoesNotRegress(t *testing.T) {
	convs, cfg := loadCorpus(t)
	rep, err := eval.Run(context.Background(), eval.Setup{Name: "local", Config: cfg, Local: newLocal}, convs, eval.Options{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(corpusDir, "recorded.json")
	if *update {
		rec := recorded{
			Command:  "switchboard eval --data testdata/corpus/dev.jsonl --config testdata/corpus/routing.json",
			Accuracy: round3(rep.Accuracy), MacroF1: round3(rep.MacroF1),
			EmergencyRecall: round3(rep.EmergencyRecall), ClarifyRate: round3(rep.ClarifyRate),
			Margin: 0.01,
		}
		b, _ := json.MarshalIndent(rec, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want recorded
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"accuracy", rep.Accuracy, want.Accuracy},
		{"macro-F1", rep.MacroF1, want.MacroF1},
		{"emergency recall", rep.EmergencyRecall, want.EmergencyRecall},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.got < c.want-want.Margin {
				t.Errorf("%s = %.3f, recorded %.3f (margin %.2f): the local classifier got worse on testdata/corpus",
					c.name, c.got, c.want, want.Margin)
			}
		})
	}
	t.Run("greetings", func(t *testing.T) {
		if rep.GreetingMisroutes > 0 {
			t.Errorf("%d of %d greeting-only conversations were sent to a department", rep.GreetingMisroutes, rep.GreetingOnly)
		}
	})
	t.Logf("accuracy %.3f, macro-F1 %.3f, emergency recall %.3f, clarify rate %.3f",
		rep.Accuracy, rep.MacroF1, rep.EmergencyRecall, rep.ClarifyRate)
}

// TestCorpusKeepsItsSource checks the copy still names where each line came from.
func TestCorpusKeepsItsSource(t *testing.T) {
	convs, cfg := loadCorpus(t)
	for _, c := range convs {
		if c.Source == "" {
			t.Fatalf("%s: no source", c.ID)
		}
		if _, ok := cfg.Routing.Department(c.Department); !ok && c.Department != eval.Unknown {
			t.Fatalf("%s: label %q is no department of routing.json", c.ID, c.Department)
		}
	}
}

func round3(v float64) float64 { return float64(int(v*1000+0.5)) / 1000 }
