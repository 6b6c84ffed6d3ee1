package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// A load run must be bounded and say what it will not do; these fail before
// anything is started.
func TestLoadRefusesUnboundedOrUnknownRuns(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no duration", []string{"-duration", "0s"}, "bounded"},
		{"too long", []string{"-duration", "2h"}, "bounded"},
		{"no count", []string{"-max", "0"}, "bounded"},
		{"unknown run", []string{"-run", "everything", "-duration", "1s"}, "want voipbin, realtime, handoff, webhook, compare or floor"},
		{"bad list", []string{"-inflight", "50,x"}, "--inflight"},
		{"negative latency", []string{"-model-ms", "-5"}, "--model-ms"},
		{"compare without the seed", []string{"-run", "compare", "-duration", "1s"}, "no seed server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"load"}, tc.args...), func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
