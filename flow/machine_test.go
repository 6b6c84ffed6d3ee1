package flow

import (
	"slices"
	"testing"
	"time"
)

// TestEveryStateHasAHandler: the transition table and the state handlers
// describe the same states, so no call can rest in a state nobody decides.
func TestEveryStateHasAHandler(t *testing.T) {
	r := NewRouter(ExampleConfig(), nil, nil, nil, nil)
	var states []string
	for _, e := range transitions {
		for _, s := range append(slices.Clone(e.Src), e.Dst) {
			if !slices.Contains(states, s) {
				states = append(states, s)
			}
		}
	}
	for _, s := range states {
		if _, ok := r.handlers[s]; !ok {
			t.Errorf("state %q is in the table but has no handler", s)
		}
	}
	for s := range r.handlers {
		if !slices.Contains(states, s) {
			t.Errorf("state %q has a handler but is not in the table", s)
		}
	}
}

func TestTarget(t *testing.T) {
	tests := []struct{ state, event, want string }{
		{StateListening, EventClassify, StateClassifying},
		{StateChecking, EventWait, StateChecking},
		{StateClassifying, EventRoute, StateTransferred},
		{StateClassifying, EventHangup, ""}, // a turn never rests in classifying
		{StateEnded, EventRoute, ""},
	}
	for _, tt := range tests {
		if got := target(tt.state, tt.event); got != tt.want {
			t.Errorf("target(%s, %s) = %q, want %q", tt.state, tt.event, got, tt.want)
		}
	}
}

func TestMenuText(t *testing.T) {
	cfg := ExampleConfig()
	r := NewRouter(cfg, nil, nil, nil, nil)
	tests := []struct{ name, lang, want string }{
		{"english", "en-US", "Please press 1 for Sales, 2 for Technical Support, 3 for Billing & Accounts, or 0 for Main Reception."},
		{"spanish labels and words", "es-ES", "Pulse 1 para Ventas, 2 para Soporte Técnico, 3 para Facturación, o 0 para Recepción."},
		{"unconfigured language: the default's", "fr-FR", "Please press 1 for Sales, 2 for Technical Support, 3 for Billing & Accounts, or 0 for Main Reception."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := r.menuText(tt.lang, time.Now()); got != tt.want {
				t.Errorf("menuText(%s) = %q, want %q", tt.lang, got, tt.want)
			}
		})
	}
	cfg.Routing.Texts["en-US"].Menu = "Press 1 for sales or stay on the line."
	if got, _ := r.menuText("en-US", time.Now()); got != cfg.Routing.Texts["en-US"].Menu {
		t.Errorf("a menu without {options} is said as written, got %q", got)
	}
}
