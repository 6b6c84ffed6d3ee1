package voipbin

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Queue is a VoIPBin queue as GET /v1.0/queues/{id} shows it: the fields a
// queued caller's wait depends on.
type Queue struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WaitFlowID  string `json:"wait_flow_id"`
	WaitTimeout int    `json:"wait_timeout"` // ms; 0: no limit but the call's actions
}

// VoIPBin's queue_join (bin-flow-manager actionHandleQueueJoin, bin-queue-manager
// queuecallhandler createActions) pushes [fetch_flow(wait flow), empty(loops
// back to fetch_flow), confbridge_join]: each pass of the wait flow costs its
// actions and two more, inside the call's MaxActions. A queue without a wait
// flow fails the fetch_flow, which stops the call.
const queueLoopExtra = 2

// EventQueuecallServiced says a queued caller reached the queue's agent:
// bin-queue-manager publishes it to the customer's webhook when the caller
// joins the agent's confbridge (queuecallhandler event.go
// EventCallConfbridgeJoined -> db.go UpdateStatusService), with the
// queuecall, whose reference_id is the caller's call. The caller's flow goes
// on after their queue_join both when the wait_timeout kicks them out and
// when the conversation ends: this event tells the two apart.
const EventQueuecallServiced = "queuecall_serviced"

// timeTaking are the action types a wait flow can pass time with.
var timeTaking = map[string]bool{TypeTalk: true, TypeSleep: true, TypeDigitsReceive: true, "play": true, "beep": true, "echo": true}

// QueueProblems says what in a queue (and its wait flow's actions, GET
// /v1.0/flows/{wait_flow_id}; nil when it has none) hurts a caller who joins
// it with actionsLeft of the call's actions. fail: the caller is hung up at
// once (no wait flow) or at once after a few loops (a wait flow that passes no
// time). warn: the call's actions run out before the queue's wait_timeout, so
// a caller still waiting then is cut off rather than led on.
func QueueProblems(q Queue, waitFlow []Action, actionsLeft int) (fail, warn []string) {
	name := fmt.Sprintf("queue %s (%s)", q.Name, q.ID)
	if id, err := uuid.Parse(q.WaitFlowID); err != nil || id == uuid.Nil || waitFlow == nil {
		return []string{name + ": no wait flow; VoIPBin fails queue_join at once and the caller is hung up. Give the queue a wait flow (a talk and a sleep, say)."}, nil
	}
	passMS := PassMS(waitFlow)
	if passMS == 0 {
		return []string{name + ": its wait flow passes no time (no talk, play or sleep); VoIPBin loops it through the call's 100 actions at once and the caller is cut off."}, nil
	}
	loops := max(actionsLeft-2, 0) / (len(waitFlow) + queueLoopExtra)
	wait := time.Duration(loops*passMS) * time.Millisecond
	if q.WaitTimeout == 0 || time.Duration(q.WaitTimeout)*time.Millisecond > wait {
		timeout := "no wait_timeout"
		if q.WaitTimeout > 0 {
			timeout = fmt.Sprintf("wait_timeout %v", time.Duration(q.WaitTimeout)*time.Millisecond)
		}
		return nil, []string{fmt.Sprintf("%s: each pass of its wait flow costs %d actions; with %d actions left a caller is cut off after %d passes, about %v (%s). Make the wait flow's pass longer, or set a wait_timeout within it.",
			name, len(waitFlow)+queueLoopExtra, actionsLeft, loops, wait, timeout)}
	}
	return nil, nil
}

// PassMS is about how long one pass of a wait flow lasts, in ms: its sleeps,
// and a second for each other action that passes time (a talk lasts as long
// as its text, at least that). 0: it passes no time.
func PassMS(waitFlow []Action) int {
	passMS := 0
	for _, a := range waitFlow {
		if !timeTaking[a.Type] {
			continue
		}
		if a.Type != TypeSleep {
			passMS += 1000
			continue
		}
		if o, ok := a.Option.(map[string]any); ok {
			if d, ok := o["duration"].(float64); ok {
				passMS += int(d)
			}
		}
	}
	return passMS
}
