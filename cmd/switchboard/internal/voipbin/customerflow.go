package voipbin

import (
	"strings"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/flow"
)

// flowStepNamespace makes the example customer flow's action ids stable, so
// that a second provisioning finds the same flow and the README's example
// stays the same.
var flowStepNamespace = uuid.MustParse("6f1c3a52-7d0e-4b8f-9a51-2c9e0f4d8b17")

// actionID is the stable id of one action of the example customer flow.
func actionID(name string) string {
	return uuid.NewSHA1(flowStepNamespace, []byte(name)).String()
}

// CustomerFlow is a complete VoIPBin flow with Switchboard as one step of it,
// for a number in a flow-step mode: answer, fetch from Switchboard, then
// branch on the department Switchboard hands back, each branch being the
// customer's own actions (here: say where the call goes, connect it and hang
// up when the conversation ends, as a starting point to edit). VoIPBin runs the fetched actions as a stack frame
// and comes back to the branch when they end. The branch resets
// switchboard.department, so the branches use the other variables.
// fetchURL is Switchboard's fetch URL (FetchURL) with its token and the
// dialled number. Provisioning writes it; the simulator plays it.
func CustomerFlow(cfg *flow.Config, fetchURL string) []Action {
	r := &cfg.Routing
	lang := r.Language
	acts := []Action{
		{ID: actionID("answer"), Type: TypeAnswer},
		{ID: actionID("fetch"), Type: TypeFetch, Option: FetchOption{EventURL: fetchURL, EventMethod: "POST"}},
	}
	targets := map[string]string{}
	var sections []Action
	section := func(dept string) string {
		d, _ := r.Department(dept)
		id := actionID("talk " + dept)
		text := strings.ReplaceAll(r.TextsFor(lang).Routing, "{department}", d.LabelIn(lang))
		if dept == r.Fallback.Destination {
			text = r.TextsFor(lang).Reception
		}
		sections = append(sections, Action{ID: id, Type: TypeTalk, Option: Talk(text, lang)})
		to := d.Destination()
		name := "connect " + dept
		if to.Kind == flow.ToQueue {
			name = "queue " + dept
		}
		typ, opt := Transfer(to, r.CallerIDFor(d))
		// VoIPBin goes on after a connect when the department hangs up
		// (and after a queue_join when the wait times out): end the call
		// there, not in the next department's section.
		sections = append(sections, Action{ID: actionID(name), Type: typ, Option: opt},
			Action{ID: actionID("hangup " + dept), Type: TypeHangup, Option: HangupOption{Reason: "normal"}})
		return id
	}
	for _, name := range r.DepartmentNames(false) {
		targets[name] = section(name)
	}
	reception := section(r.Fallback.Destination)
	acts = append(acts, Action{ID: actionID("branch"), Type: TypeBranch, Option: BranchOption{
		Variable: flow.VarDepartment, TargetIDs: targets, DefaultTargetID: reception,
	}})
	return append(acts, sections...)
}
