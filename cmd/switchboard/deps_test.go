package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestCode: the production binary links neither testing nor
// httptest, though simulate and load run VoIPBin's stand-ins in it (they serve
// on voipbintest.Serve, a loopback http.Server of their own).
func TestBinaryLinksNoTestCode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		if dep == "testing" || dep == "net/http/httptest" {
			t.Errorf("switchboard links %s: a test helper reached production code (go list -deps ./cmd/switchboard)", dep)
		}
	}
}
