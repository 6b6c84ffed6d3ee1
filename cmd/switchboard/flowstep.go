package main

import (
	"encoding/json"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

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
	for _, a := range voipbin.CustomerFlow(cfg, voipbin.FetchURL{Token: token, To: voipbin.DialledNumber}.String()) {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		raws = append(raws, b)
	}
	return raws, nil
}
