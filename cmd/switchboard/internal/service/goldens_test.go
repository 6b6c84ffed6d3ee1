package service

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goldenSums lists the SHA-256 of every picture of behaviour and of the
// recorded quality floor. -update rewrites the pictures but not this list:
// a changed golden fails here until `make goldens` records it, and the
// list's diff names every golden a change touched, in one file a review reads.
const goldenSums = "testdata/GOLDEN.sha256"

// goldenGlobs are the files goldenSums covers, from the repository root (the
// Makefile's GOLDENS says the same).
var goldenGlobs = []string{"testdata/conversations/*.golden", "testdata/conversations/handoff/*.golden", "testdata/flow.mmd", "testdata/corpus/recorded.json",
	"prompts/testdata/system.golden"}

func TestGoldensAreListed(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..")
	var want strings.Builder
	for _, g := range goldenGlobs {
		files, err := filepath.Glob(filepath.Join(root, g))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s matches no file (%v)", g, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(root, f)
			fmt.Fprintf(&want, "%x  %s\n", sha256.Sum256(b), filepath.ToSlash(rel))
		}
	}
	got, err := os.ReadFile(filepath.Join(root, goldenSums))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(got), want.String()); diff != "" {
		t.Errorf("%s is not what the goldens hash to (-listed +now); if the change is meant, run make goldens "+
			"and read each file it names:\n%s", goldenSums, diff)
	}
}
