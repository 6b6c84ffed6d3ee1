package main

import (
	"cmp"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/provision"
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
// customer's own actions (here: say where the call goes and connect it, as a
// starting point to edit). VoIPBin runs the fetched actions as a stack frame
// and comes back to the branch when they end. The branch resets
// switchboard.department, so the branches use the other variables.
// fetchURL is Switchboard's fetch URL with its token and the dialled number.
func customerFlow(cfg *flow.Config, fetchURL string) []voipbinAction {
	r := &cfg.Routing
	lang := r.Language
	acts := []voipbinAction{
		{ID: actionID("answer"), Type: "answer"},
		{ID: actionID("fetch"), Type: "fetch", Option: map[string]any{
			"event_url": fetchURL, "event_method": "POST"}},
	}
	targets := map[string]string{}
	var sections []voipbinAction
	section := func(dept string) string {
		d, _ := r.Department(dept)
		id := actionID("talk " + dept)
		text := strings.ReplaceAll(r.TextsFor(lang).Routing, "{department}", d.LabelIn(lang))
		if dept == r.Fallback.Destination {
			text = r.TextsFor(lang).Reception
		}
		sections = append(sections, voipbinAction{ID: id, Type: "talk", Option: map[string]any{"text": text, "language": lang}})
		to := d.Destination()
		if to.Kind == flow.ToQueue {
			sections = append(sections, voipbinAction{ID: actionID("queue " + dept), Type: "queue_join",
				Option: map[string]any{"queue_id": to.Target}})
		} else {
			sections = append(sections, voipbinAction{ID: actionID("connect " + dept), Type: "connect", Option: connectOption{
				Source:       &voipbinAddress{Type: "tel", Target: cmp.Or(r.CallerIDFor(d), dialledNumber)},
				Destinations: []voipbinAddress{{Type: string(to.Kind), Target: to.Target}},
			}})
		}
		return id
	}
	for _, name := range r.DepartmentNames(false) {
		targets[name] = section(name)
	}
	reception := section(r.Fallback.Destination)
	acts = append(acts, voipbinAction{ID: actionID("branch"), Type: "branch", Option: map[string]any{
		"variable": flow.VarDepartment, "target_ids": targets, "default_target_id": reception,
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
	for _, a := range customerFlow(cfg, "/voipbin/fetch?t="+url.QueryEscape(token)+"&to="+dialledNumber) {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		raws = append(raws, b)
	}
	return raws, nil
}

// provisionActions turns flow actions into the provisioning API's form.
func provisionActions(acts []voipbinAction) []provision.Action {
	out := make([]provision.Action, len(acts))
	for i, a := range acts {
		out[i] = provision.Action{ID: a.ID, Type: a.Type}
		if a.Option != nil {
			b, _ := json.Marshal(a.Option) // our own option values: always marshal
			_ = json.Unmarshal(b, &out[i].Option)
		}
	}
	return out
}
