package eval_test

import (
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
	"github.com/switchboard/switchboard/flow"
)

func TestSuggestNamesTheWordsBehindMisroutes(t *testing.T) {
	cfg := flow.ExampleConfig()
	o := func(label, got string, words string) eval.Outcome {
		return eval.Outcome{Conversation: eval.Conversation{Turns: []string{words}, Department: label}, Got: got}
	}
	outs := []eval.Outcome{
		o("billing", "sales", "what is the balance on my gift card"),
		o("billing", "sales", "gift card balance please"),
		o("sales", "sales", "I want to buy a gift voucher"),
		o("sales", "sales", "buy more seats"),
	}
	rep := eval.Summarize("t", cfg, outs)
	ss := eval.Suggest(rep, 3)
	found := map[string]eval.Suggestions{}
	for _, s := range ss {
		found[s.Department] = s
	}
	if w := found["sales"].Wrongly; len(w) == 0 || w[0].Term != "balance" || w[0].N != 2 {
		t.Errorf("sales, sent here wrongly: %+v; want balance first (2 misroutes)", w)
	}
	if m := found["billing"].Missed; len(m) == 0 || m[0].N != 2 {
		t.Errorf("billing, missed: %+v", m)
	}
}
