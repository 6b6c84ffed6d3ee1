package flow

import (
	"fmt"
	"time"
)

// WaitFlow describes one loop of a queue department's wait flow, the flow
// the VoIPBin queue plays while the caller waits: how many actions it has
// and how long one pass of it lasts.
type WaitFlow struct {
	Actions int `json:"actions"`
	LoopMS  int `json:"loop_ms"`
}

// QueueWaitMS is the wait a caller who reaches a queue must have room for:
// five minutes.
const QueueWaitMS = 5 * 60 * 1000

// queueLoopExtra is what VoIPBin adds to each pass of a wait flow: the
// fetch_flow that loads it and the empty action that loops back.
const queueLoopExtra = 2

// assumedWaitFlow is what a queue's wait flow is taken to be when the
// config does not describe it: a talk and a 30 s pause.
var assumedWaitFlow = WaitFlow{Actions: 2, LoopMS: 30000}

// WaitFlowOf is the department's wait flow as described, or as assumed.
func (d *Department) WaitFlowOf() WaitFlow {
	if d.WaitFlow != nil {
		return *d.WaitFlow
	}
	return assumedWaitFlow
}

// LoopCost is what one pass of the wait flow spends of the call's actions.
func (w WaitFlow) LoopCost() int { return w.Actions + queueLoopExtra }

// Reserve is how many actions a caller must have left on joining the queue
// to wait QueueWaitMS: the queue_join, the passes of the wait flow, and the
// confbridge_join when an agent answers.
func (w WaitFlow) Reserve() int {
	loops := (QueueWaitMS + w.LoopMS - 1) / max(w.LoopMS, 1)
	return 1 + loops*w.LoopCost() + 1
}

// QueueReserve is the largest Reserve of the queue departments, 0 without
// any: the actions every caller has left on reaching a queue.
func (r *Routing) QueueReserve() int {
	n := 0
	for _, d := range r.Departments {
		if d.Destination().Kind == ToQueue {
			n = max(n, d.WaitFlowOf().Reserve())
		}
	}
	return n
}

// MaxWait is the longest a caller waits in the department's queue: when the
// queue's wait_timeout passes, VoIPBin takes them out of the queue and their
// flow goes on after the queue_join (bin-queue-manager queuecallhandler
// TimeoutWait and Kick), to a fetch of ours that hands them over to the
// fallback desk, or offers a message.
func (d *Department) MaxWait() time.Duration {
	if d.MaxWaitSeconds > 0 {
		return time.Duration(d.MaxWaitSeconds) * time.Second
	}
	return QueueWaitMS * time.Millisecond
}

// waitFlowProblems names what is wrong with a queue department's wait flow
// and its longest wait.
func (r *Routing) waitFlowProblems(name string, d *Department) []string {
	if s := d.MaxWaitSeconds; s != 0 && (d.Destination().Kind != ToQueue || s < 10 || s > QueueWaitMS/1000) {
		return []string{fmt.Sprintf("routing.departments.%s.max_wait_seconds: %d; only a queue department has one, 10..%d (the wait the action budget keeps room for)", name, s, QueueWaitMS/1000)}
	}
	at := "routing.departments." + name + ".wait_flow"
	if d.WaitFlow == nil {
		return nil
	}
	if d.Destination().Kind != ToQueue {
		return []string{at + ": only a queue department has a wait flow"}
	}
	w := *d.WaitFlow
	if w.Actions < 1 || w.LoopMS < 1000 {
		return []string{fmt.Sprintf("%s: actions must be at least 1 and loop_ms at least 1000 (a wait flow with no pause loops through VoIPBin's 100 actions at once); got %d and %d", at, w.Actions, w.LoopMS)}
	}
	if left := r.Dialog.MaxActions - w.Reserve(); left < 20 {
		return []string{fmt.Sprintf("%s: waiting %v takes %d of VoIPBin's 100 actions (%d a %v loop), leaving %d for the conversation; make the wait flow's loop longer",
			at, time.Duration(QueueWaitMS)*time.Millisecond, w.Reserve(), w.LoopCost(), time.Duration(w.LoopMS)*time.Millisecond, left)}
	}
	return nil
}

// DescribeQueues says, for `switchboard check`, what each queue department's
// wait costs and how long a caller can wait there, with a warning where the
// wait flow is not described.
func (r *Routing) DescribeQueues() []string {
	var lines []string
	reserve := r.QueueReserve()
	for _, name := range r.DepartmentNames(true) {
		d := r.Departments[name]
		if d.Destination().Kind != ToQueue {
			continue
		}
		w := d.WaitFlowOf()
		loops := (reserve - 2) / w.LoopCost()
		wait := time.Duration(loops*w.LoopMS) * time.Millisecond
		line := fmt.Sprintf("queue %s: each %v pass of its wait flow costs %d actions (%d of the flow, fetch_flow, empty); a caller joins with at least %d actions left: %d passes, about %v of waiting",
			name, time.Duration(w.LoopMS)*time.Millisecond, w.LoopCost(), w.Actions, reserve, loops, wait)
		if d.WaitFlow == nil {
			line = fmt.Sprintf("WARNING queue %s: routing.departments.%s.wait_flow is not set, assumed %d actions a %v loop. VoIPBin fails queue_join at once when the queue has no wait flow, and runs the one it has inside the call's 100 actions; check the queue's wait flow and describe it. ",
				name, name, w.Actions, time.Duration(w.LoopMS)*time.Millisecond) + line
		}
		line += fmt.Sprintf("; after %v (max_wait_seconds) the caller goes on to the fallback desk: set the queue's wait_timeout in VoIPBin to at most %d ms (0 waits until the actions run out)",
			d.MaxWait(), d.MaxWait().Milliseconds())
		lines = append(lines, line)
	}
	return lines
}
