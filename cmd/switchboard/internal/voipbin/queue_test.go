package voipbin

import (
	"strings"
	"testing"
)

func TestQueueProblems(t *testing.T) {
	const flowID = "0a1b2c3d-1111-4222-8333-944455556666"
	holdAndWait := []Action{{Type: TypeTalk}, {Type: TypeSleep, Option: map[string]any{"duration": 29000.0}}}
	tests := []struct {
		name  string
		q     Queue
		flow  []Action
		left  int
		fails bool   // the caller is hung up: a failure, not a warning
		want  string // in the problem; "" none
	}{
		{"no wait flow", Queue{WaitFlowID: "00000000-0000-0000-0000-000000000000"}, nil, 80, true, "no wait flow"},
		{"a wait flow that passes no time", Queue{WaitFlowID: flowID, WaitTimeout: 60000}, []Action{{Type: TypeVariableSet}}, 80, true, "passes no time"},
		{"an empty wait flow", Queue{WaitFlowID: flowID, WaitTimeout: 60000}, []Action{}, 80, true, "passes no time"},
		{"no timeout: the budget ends the wait", Queue{WaitFlowID: flowID}, holdAndWait, 42, false, "cut off after 10 passes, about 5m0s"},
		{"a timeout the budget covers", Queue{WaitFlowID: flowID, WaitTimeout: 300000}, holdAndWait, 42, false, ""},
		{"a timeout beyond the budget", Queue{WaitFlowID: flowID, WaitTimeout: 600000}, holdAndWait, 42, false, "cut off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail, warn := QueueProblems(tt.q, tt.flow, tt.left)
			got := strings.Join(append(fail, warn...), "\n")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("QueueProblems = %q, want %q", got, tt.want)
			}
			if tt.want != "" && (len(fail) > 0) != tt.fails {
				t.Errorf("fail %q, warn %q: want it a failure: %v", fail, warn, tt.fails)
			}
		})
	}
}
