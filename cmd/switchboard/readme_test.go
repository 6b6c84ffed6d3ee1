package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
)

// TestReadmeConfigs: every routing config a README shows (the project's and
// each package's) passes check, and agrees with the file it says it shows
// (the JSON link just before it, relative to that README).
// A block may abridge: a "..." key or array element stands for more, a string
// ending in "..." for its longer original, and // comments are dropped.
func TestReadmeConfigs(t *testing.T) {
	var blocks []readmeBlock
	for _, readme := range readmes(t) {
		for _, b := range readmeConfigBlocks(t, readme) {
			if b.file != "" {
				b.file = filepath.Join(filepath.Dir(readme), b.file)
			}
			b.readme = readme
			blocks = append(blocks, b)
		}
	}
	if len(blocks) < 5 {
		t.Fatalf("found %d config blocks in the READMEs, want at least 5", len(blocks))
	}
	for _, b := range blocks {
		t.Run(fmt.Sprintf("%s line %d", b.readme, b.line), func(t *testing.T) {
			if b.file == "" {
				t.Fatal("no link to the JSON file this block shows precedes it")
			}
			want := readJSON(t, b.file)
			if _, full := b.value["routing"]; full {
				file := filepath.Join(t.TempDir(), "shown.json")
				out, err := json.Marshal(unabridged(b.value))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, out, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := run(t.Context(), []string{"check", "--config", file}, noEnv, io.Discard, io.Discard); err != nil {
					t.Errorf("check refuses the config shown:\n%v", err)
				}
			} else {
				want = want["routing"].(map[string]any)
			}
			if err := run(t.Context(), []string{"check", "--config", b.file}, noEnv, io.Discard, io.Discard); err != nil {
				t.Errorf("check refuses %s: %v", b.file, err)
			}
			for _, p := range disagreements("", b.value, want) {
				t.Errorf("%s: %s", b.file, p)
			}
		})
	}
}

// readmes are the project's README files, from this package's folder.
func readmes(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" && path != "../../testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "README.md" {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type readmeBlock struct {
	readme string // the README it is in
	line   int
	file   string // the JSON file named by the last link before the block
	value  map[string]any
}

var (
	fence    = regexp.MustCompile("(?m)^```(json|jsonc)\n((?s:.*?))^```$")
	jsonLink = regexp.MustCompile(`\]\(([^)\s]+\.json)\)`)
)

// readmeConfigBlocks returns the README's json blocks that are routing
// configs: an object with "routing", or one whose keys are all fields of it.
func readmeConfigBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	rt := reflect.TypeFor[flow.Routing]()
	for i := range rt.NumField() {
		if name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); name != "" {
			fields[name] = true
		}
	}
	var out []readmeBlock
	for _, m := range fence.FindAllSubmatchIndex(b, -1) {
		text := stripComments(string(b[m[4]:m[5]]))
		var v map[string]any
		if json.Unmarshal([]byte(text), &v) != nil {
			continue // not an object: an action list, say
		}
		config := v["routing"] != nil
		if !config {
			config = len(v) > 0
			for k := range v {
				config = config && fields[k]
			}
		}
		if !config {
			continue
		}
		block := readmeBlock{line: bytes.Count(b[:m[0]], []byte("\n")) + 1, value: v}
		if links := jsonLink.FindAllSubmatch(b[max(0, m[0]-800):m[0]], -1); len(links) > 0 {
			block.file = string(links[len(links)-1][1])
		}
		out = append(out, block)
	}
	return out
}

// stripComments removes // comments outside JSON strings.
func stripComments(s string) string {
	var b strings.Builder
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			inString = !(c == '"' && !escaped)
			escaped = c == '\\' && !escaped
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		}
		if i < len(s) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// unabridged drops the "..." keys and array elements, which stand for more.
func unabridged(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if k != "..." {
				out[k] = unabridged(e)
			}
		}
		return out
	case []any:
		out := []any{}
		for _, e := range v {
			if e != "..." {
				out = append(out, unabridged(e))
			}
		}
		return out
	}
	return v
}

// disagreements lists where shown, an abridged copy, differs from want.
func disagreements(path string, shown, want any) []string {
	switch s := shown.(type) {
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shown as an object, is %v", path, want)}
		}
		var out []string
		for k, e := range s {
			if k == "..." {
				continue
			}
			we, ok := w[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: shown, not in the file", path, k))
				continue
			}
			out = append(out, disagreements(path+"."+k, e, we)...)
		}
		return out
	case []any:
		w, ok := want.([]any)
		abridged := len(s) > 0 && s[len(s)-1] == "..."
		if abridged {
			s = s[:len(s)-1]
		}
		if !ok || len(s) > len(w) || !abridged && len(s) != len(w) {
			return []string{fmt.Sprintf("%s: shown %v, is %v", path, shown, want)}
		}
		var out []string
		for i, e := range s {
			out = append(out, disagreements(fmt.Sprintf("%s[%d]", path, i), e, w[i])...)
		}
		return out
	case string:
		w, ok := want.(string)
		if prefix, cut := strings.CutSuffix(s, "..."); ok && cut && strings.HasPrefix(w, prefix) {
			return nil
		}
		if !ok || s != w {
			return []string{fmt.Sprintf("%s: shown %q, is %v", path, s, want)}
		}
		return nil
	}
	if !reflect.DeepEqual(shown, want) {
		return []string{fmt.Sprintf("%s: shown %v, is %v", path, shown, want)}
	}
	return nil
}

// TestReadmeTables: every table in a README has one header and one
// separator row, and each row as many cells as the header.
func TestReadmeTables(t *testing.T) {
	for _, readme := range readmes(t) {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		var header, rows int
		inFence := false
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				inFence = !inFence
			}
			if inFence || !strings.HasPrefix(line, "|") {
				header, rows = 0, 0
				continue
			}
			cells := strings.Count(strings.ReplaceAll(strings.Trim(line, "|"), "\\|", ""), "|") + 1
			separator := strings.Trim(strings.ReplaceAll(strings.ReplaceAll(line, "|", ""), "-", ""), " :") == ""
			switch {
			case rows == 0:
				header = cells
			case separator && rows > 1:
				t.Errorf("%s:%d: a second separator row: a stray header above it", readme, i+1)
			case cells != header:
				t.Errorf("%s:%d: %d cells, the header has %d", readme, i+1, cells, header)
			}
			rows++
		}
	}
}

// TestReadmeServesOnLoopback: a serve command a README shows listens on
// loopback (make run, or --addr 127.0.0.1:...) unless it sets the
// credentials that guard the public routes.
func TestReadmeServesOnLoopback(t *testing.T) {
	serve := regexp.MustCompile(`switchboard serve\b|\bcmd/switchboard serve\b`)
	for _, readme := range readmes(t) {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		inFence := false
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				inFence = !inFence
				continue
			}
			if !inFence || !serve.MatchString(line) {
				continue
			}
			if !strings.Contains(line, "--addr 127.0.0.1:") && !strings.Contains(line, "VOIPBIN_WEBHOOK_SECRET") {
				t.Errorf("%s:%d: serve listens on every interface without credentials: %s", readme, i+1, line)
			}
		}
	}
}

// TestReadmeSimulateSessions: every sample session a README shows
// ("$ go run ./cmd/switchboard simulate ...") is what simulate prints for
// the lines typed in it, at an 100-column terminal, latencies aside. With
// -update the blocks are rewritten from a fresh run.
func TestReadmeSimulateSessions(t *testing.T) {
	session := regexp.MustCompile("(?m)^```\n(\\$ go run ./cmd/switchboard simulate[^\n]*)\n((?s:.*?))^```$")
	typedAt := regexp.MustCompile(`^caller (?:says|presses) \([^)]*\)> ?(.*)$`)
	latency := regexp.MustCompile(`\| [0-9]+\.[0-9] ms\b`)
	found := 0
	for _, readme := range readmes(t) {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, m := range session.FindAllStringSubmatchIndex(text, -1) {
			found++
			command, shown := text[m[2]:m[3]], text[m[4]:m[5]]
			var typed []string
			for _, line := range strings.Split(shown, "\n") {
				if sub := typedAt.FindStringSubmatch(line); sub != nil {
					typed = append(typed, sub[1])
				}
			}
			var out bytes.Buffer
			args := strings.Fields(strings.TrimPrefix(command, "$ go run ./cmd/switchboard simulate"))
			err := simulate(t.Context(), args, noEnv, strings.NewReader(strings.Join(typed, "\n")+"\n"),
				terminal{prompt: true, echo: true, width: 100}, &out, io.Discard)
			if err != nil {
				t.Errorf("%s: %s: %v", readme, command, err)
			}
			got := out.String()
			if *update {
				text = strings.Replace(text, command+"\n"+shown, command+"\n"+got, 1)
				continue
			}
			norm := func(s string) string {
				lines := strings.Split(latency.ReplaceAllString(s, "| N ms"), "\n")
				for i, l := range lines {
					lines[i] = strings.TrimRight(l, " ") // an editor may strip the space after an empty answer
				}
				return strings.Join(lines, "\n")
			}
			if norm(got) != norm(shown) {
				t.Errorf("%s: the session %q shows (-want +got, -update rewrites it):\n%s", readme, command, cmp.Diff(norm(shown), norm(got)))
			}
		}
		if *update {
			if err := os.WriteFile(readme, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if found < 2 {
		t.Errorf("found %d sample sessions in the READMEs, want the two (README.md, cmd/switchboard/README.md)", found)
	}
}
