package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// TestVagueCallersOnTwoLanguages: 100 callers on the shipped two-language
// mode (one transcription per language) say something vague and then
// nothing, their speech events late, out of order, lost or repeated as
// VoIPBin's webhook service may deliver them: each is asked "are you still
// there?" once the configured silence is up, never later, and reaches
// reception well inside VoIPBin's action limit.
func TestVagueCallersOnTwoLanguages(t *testing.T) {
	svc, srv := startService(t, Config{FetchToken: testToken, ConfigFile: filepath.Join("../../../../testdata", "modes/multilingual.json")})
	mem := svc.Memory()
	d := svc.routing().cfg.Routing.Dialog
	still := svc.routing().cfg.Routing.TextsFor("en-US").StillThere
	maxSilence, maxActions, maxFetches := 0, 0, 0
	for i := range uint64(100) {
		clock := voipbintest.NewClock(time.Now())
		mem.SetClock(clock.Now)
		res, err := voipbintest.Run(context.Background(), voipbintest.Options{CallID: fmt.Sprint("vague-", i), Bases: []string{srv.URL},
			Token: testToken, Jumble: rand.New(rand.NewPCG(i, 33)), Clock: clock},
			[]voipbintest.Step{{Say: "my child's tooth got knocked loose playing soccer"}})
		tr := strings.Join(res.Transcript, "\n")
		if err != nil {
			t.Fatalf("call %d: %v\n%s", i, err, tr)
		}
		silence, asked := 0, false
		for _, line := range res.Transcript {
			switch {
			case strings.HasPrefix(line, "  talk") && strings.Contains(line, still):
				asked = true
			case strings.HasPrefix(line, "  talk"):
				silence = 0
			case strings.HasPrefix(line, "  sleep ") && !asked:
				ms, _ := strconv.Atoi(strings.TrimPrefix(line, "  sleep "))
				silence += ms
			}
			if asked {
				break
			}
		}
		if !asked || silence > d.SilenceMS {
			t.Fatalf("call %d: asked whether still there %v, after %d ms of silence (silence_ms %d):\n%s", i, asked, silence, d.SilenceMS, tr)
		}
		if res.Connected != "+14155550199" || strings.Contains(tr, "LIMIT") {
			t.Fatalf("call %d: reached %q; want reception, inside the action limit:\n%s", i, res.Connected, tr)
		}
		maxSilence, maxActions, maxFetches = max(maxSilence, silence), max(maxActions, res.Actions), max(maxFetches, res.Fetches)
	}
	t.Logf("100 vague callers, speech events jumbled: each asked \"still there?\" after at most %d ms of silence (silence_ms %d); at most %d fetches and %d actions (limit %d)",
		maxSilence, d.SilenceMS, maxFetches, maxActions, d.MaxActions)
}
