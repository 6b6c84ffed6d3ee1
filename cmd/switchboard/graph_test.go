package main

import (
	"bytes"
	"context"
	"github.com/switchboard/switchboard/flow"
	"io"
	"strings"
	"testing"
)

func TestGraphDOT(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"graph", "--format", "dot"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"digraph", `"greeting" -> "listening"`, flow.StateTransferred} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("DOT output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(context.Background(), []string{"graph", "--format", "png"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("graph --format png accepted")
	}
}
