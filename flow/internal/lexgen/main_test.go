package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No golden files here; -update is accepted so that go test ./... -update
// runs over every package.
var _ = flag.Bool("update", false, "no golden files here")

// A WordNet in miniature, in the wndb(5) format: "steal" has a more specific
// kind "pilfer" and a derived noun "theft"; "funny" has a common sense
// (amusing) and a rare one (fishy).
var tinyWordNet = map[string]string{
	"data.verb": `  1 licence header line
00000001 40 v 01 steal 0 002 ~ 00000002 v 0000 + 00000003 n 0101 | take without the owner's consent
00000002 40 v 01 pilfer 0 001 @ 00000001 v 0000 | make off with belongings of others
`,
	"data.noun": `00000003 04 n 01 theft 0 001 + 00000001 v 0101 | the act of stealing
`,
	"data.adj": `00000004 00 a 01 funny 0 000 | arousing laughter
00000005 00 s 02 fishy 0 funny 0 000 | not as expected
`,
	"data.adv":    "",
	"index.verb":  "steal v 1 2 ~ + 1 1 00000001\npilfer v 1 1 @ 1 0 00000002\n",
	"index.noun":  "theft n 1 1 + 1 1 00000003\n",
	"index.adj":   "funny a 2 0 2 2 00000004 00000005\nfishy a 1 0 1 0 00000005\n",
	"index.adv":   "",
	"verb.exc":    "stole steal\nstolen steal\n",
	"noun.exc":    "",
	"adj.exc":     "",
	"adv.exc":     "",
	"cntlist.rev": "steal%2:40:00:: 1 10\ntheft%1:04:00:: 1 5\nfunny%5:00:00:humorous:00 1 14\nfunny%5:00:00:questionable:00 2 1\n",
}

func TestWriteExpandsSeedsByWordNet(t *testing.T) {
	dir := t.TempDir()
	for name, text := range tinyWordNet {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wn, err := loadWordNet(dir)
	if err != nil {
		t.Fatal(err)
	}
	saved := classes
	t.Cleanup(func() { classes = saved })
	classes = []class{
		{"loss", "taking", []string{"steal.v.1"}, 1, false},
		{"odd", "oddness", []string{"fishy.a.1"}, 0, false},
	}
	var b strings.Builder
	if err := write(&b, wn); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{"steal\tv:loss", "stolen\tv:loss", "stealing\tv:loss", "pilfer\tv:loss",
		"pilfered\tv:loss", "theft\tn:loss", "thefts\tn:loss", "fishy\ta:odd"} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "funny\t") {
		t.Errorf("funny is seldom fishy, yet the table has it:\n%s", got)
	}
}

// The committed table must be what the generator makes from WordNet, where
// WordNet is installed (Debian: wordnet-base); elsewhere this is skipped.
func TestCommittedLexiconIsGenerated(t *testing.T) {
	const dir = "/usr/share/wordnet"
	if _, err := os.Stat(filepath.Join(dir, "data.noun")); err != nil {
		t.Skip("WordNet is not installed (apt-get install wordnet-base); cannot regenerate flow/lexicon.txt")
	}
	wn, err := loadWordNet(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := write(&b, wn); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "lexicon.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(committed) {
		t.Error("flow/lexicon.txt is not what lexgen makes from WordNet: run go generate ./flow and commit it")
	}
}
