package main

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
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

// customerFlow is a complete VoIPBin flow with Switchboard as one step of it,
// for a number in a flow-step mode: answer, fetch from Switchboard, then
// branch on the department Switchboard hands back, each branch being the
// customer's own actions (here: say where the call goes, connect it and hang
// up when the conversation ends, as a starting point to edit). VoIPBin runs the fetched actions as a stack frame
// and comes back to the branch when they end. The branch resets
// switchboard.department, so the branches use the other variables.
// fetchURL is Switchboard's fetch URL with its token and the dialled number.
func customerFlow(cfg *flow.Config, fetchURL string) []voipbin.Action {
	r := &cfg.Routing
	lang := r.Language
	acts := []voipbin.Action{
		{ID: actionID("answer"), Type: voipbin.TypeAnswer},
		{ID: actionID("fetch"), Type: voipbin.TypeFetch, Option: voipbin.FetchOption{EventURL: fetchURL, EventMethod: "POST"}},
	}
	targets := map[string]string{}
	var sections []voipbin.Action
	section := func(dept string) string {
		d, _ := r.Department(dept)
		id := actionID("talk " + dept)
		text := strings.ReplaceAll(r.TextsFor(lang).Routing, "{department}", d.LabelIn(lang))
		if dept == r.Fallback.Destination {
			text = r.TextsFor(lang).Reception
		}
		sections = append(sections, voipbin.Action{ID: id, Type: voipbin.TypeTalk, Option: voipbin.Talk(text, lang)})
		to := d.Destination()
		name := "connect " + dept
		if to.Kind == flow.ToQueue {
			name = "queue " + dept
		}
		typ, opt := voipbin.Transfer(to, r.CallerIDFor(d))
		// VoIPBin goes on after a connect when the department hangs up
		// (and after a queue_join when the wait times out): end the call
		// there, not in the next department's section.
		sections = append(sections, voipbin.Action{ID: actionID(name), Type: typ, Option: opt},
			voipbin.Action{ID: actionID("hangup " + dept), Type: voipbin.TypeHangup, Option: voipbin.HangupOption{Reason: "normal"}})
		return id
	}
	for _, name := range r.DepartmentNames(false) {
		targets[name] = section(name)
	}
	reception := section(r.Fallback.Destination)
	acts = append(acts, voipbin.Action{ID: actionID("branch"), Type: voipbin.TypeBranch, Option: voipbin.BranchOption{
		Variable: flow.VarDepartment, TargetIDs: targets, DefaultTargetID: reception,
	}})
	return append(acts, sections...)
}

// flowStepFlow is the number's flow the simulator plays for a number of a
// flow-step mode in configFile: the example customer flow around a fetch
// from this service (token in its URL). Other numbers get none, so the
// simulator plays the provisioned [answer, fetch].
func flowStepFlow(configFile, dialled, token string) ([]json.RawMessage, error) {
	cfg, err := loadConfig(configFile)
	if err != nil {
		return nil, err
	}
	if _, m := cfg.Routing.Mode(dialled); !m.FlowStep() {
		return nil, nil
	}
	var raws []json.RawMessage
	for _, a := range customerFlow(cfg, "/voipbin/fetch?t="+url.QueryEscape(token)+"&to="+voipbin.DialledNumber) {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		raws = append(raws, b)
	}
	return raws, nil
}
