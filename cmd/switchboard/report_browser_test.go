package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless browser, or skips the test loudly; with
// SWITCHBOARD_REQUIRE_CHROMIUM=1 (CI) its absence fails it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("SWITCHBOARD_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("SWITCHBOARD_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)")
	}
	fmt.Fprintln(os.Stderr, "*** NOTICE: no chromium on PATH: the eval report's browser test is SKIPPED (apt-get install -y chromium) ***")
	t.Skip("no chromium on PATH")
	return ""
}

// TestEvalReportInABrowser: the HTML report of a by-source run, opened in a
// real headless browser, shows every section: the summary, each
// department's precision and recall as bars, the confidence of right and
// wrong answers, where the unsure callers went, the per-source table and
// its bars, the confusion matrix and the mistakes; the pictures are drawn
// (SVG with shapes in it) with no script and nothing from the network.
func TestEvalReportInABrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	// A slice of the dev corpus: several sources, a quick run.
	f, err := os.Open("../../testdata/corpus/dev.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var part bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for i := 0; i < 150 && sc.Scan(); i++ {
		part.Write(append(sc.Bytes(), '\n'))
	}
	data, page := filepath.Join(dir, "part.jsonl"), filepath.Join(dir, "report.html")
	if err := os.WriteFile(data, part.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"eval", "--data", data, "--config", "../../testdata/corpus/routing.json",
		"--folds", "by-source", "--html", page}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?i)<script|(src|href)="https?:`).Match(html) {
		t.Error("the report loads a script or something from the network")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	browse := func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(ctx, browser, append([]string{"--headless", "--no-sandbox", "--disable-gpu",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--hide-scrollbars"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
		}
		return out
	}
	dom := string(browse("--dump-dom", "file://"+page))
	section := regexp.MustCompile(`(?s)<section id="([a-z]+)-?\d*">(.*?)</section>`)
	found := map[string]string{}
	for _, m := range section.FindAllStringSubmatch(dom, -1) {
		found[m[1]] = m[2]
	}
	for _, name := range []string{"summary", "departments", "confidence", "unsure", "sources", "confusion", "mistakes"} {
		body, ok := found[name]
		if !ok {
			t.Errorf("the page as the browser built it has no %q section", name)
			continue
		}
		switch name {
		case "departments", "confidence", "unsure", "sources":
			if !strings.Contains(body, "<svg") || strings.Count(body, "<rect") < 3 {
				t.Errorf("section %q draws no picture:\n%s", name, body)
			}
		}
	}
	for _, want := range []string{"billing precision", "each source unseen", "<td>all</td>", "still asking"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	shot := filepath.Join(dir, "report.png")
	browse("--window-size=1200,2400", "--screenshot="+shot, "file://"+page)
	if png, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 20000 {
		t.Errorf("no screenshot of the report (%v, %d bytes)", err, len(png))
	}
}
