package voipbintest

// What the simulator reads besides the call: a number's flow from a file,
// the queues of a routing config.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// ReadFlow reads a number's VoIPBin flow for the simulator: a JSON array of
// actions, YOUR_TOKEN standing for the fetch token. An empty name is no flow.
func ReadFlow(file, token string) ([]json.RawMessage, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	var acts []json.RawMessage
	if err := json.Unmarshal(bytes.ReplaceAll(b, []byte("YOUR_TOKEN"), []byte(url.QueryEscape(token))), &acts); err != nil {
		return nil, fmt.Errorf("simulate: %s: want a JSON array of VoIPBin actions: %w", file, err)
	}
	return acts, nil
}

// Queues are the queues of cfg's queue departments as the simulator
// plays them: each with the wait flow its config describes (or
// assumes), a talk and a pause a pass, and an agent who answers after
// flow.QueueWaitMS, the wait every queued caller must have room for.
func Queues(cfg *flow.Config) map[string]Queue {
	queues := map[string]Queue{}
	for _, d := range cfg.Routing.Departments {
		to := d.Destination()
		if to.Kind != flow.ToQueue {
			continue
		}
		w := d.WaitFlowOf()
		var acts []voipbin.Action
		for range w.Actions - 1 {
			acts = append(acts, voipbin.Action{Type: voipbin.TypeTalk, Option: voipbin.Talk("Please hold.", cfg.Routing.Language)})
		}
		acts = append(acts, voipbin.Action{Type: voipbin.TypeSleep, Option: voipbin.SleepOption{Duration: max(w.LoopMS-1000*(w.Actions-1), 0)}})
		// Its wait_timeout is the department's longest wait, as check asks;
		// none when that is not configured.
		var timeout time.Duration
		if d.MaxWaitSeconds > 0 {
			timeout = d.MaxWait()
		}
		queues[to.Target] = Queue{WaitFlow: acts, AnswerAfter: flow.QueueWaitMS * time.Millisecond, WaitTimeout: timeout}
	}
	return queues
}

// EndedByService reports whether the call ended with our own hangup: the
// caller heard that everyone is closed (texts.closed_all). A conversation
// file may expect that; simulate still fails it, since nobody answered.
func (res *Result) EndedByService() bool {
	n := len(res.Transcript)
	return n > 0 && strings.HasPrefix(strings.TrimSpace(res.Transcript[n-1]), "hangup ")
}
