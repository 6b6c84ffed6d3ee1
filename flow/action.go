package flow

import "strings"

// ActionKind names what Switchboard asks the telephony platform to do. Each
// wire format (VoIPBin's actions, the seed's webhook) renders these its own way.
type ActionKind string

// The actions a turn can answer with.
const (
	ActTranscribe ActionKind = "transcribe" // start transcribing the caller
	ActTalk       ActionKind = "talk"       // say Text in Language
	ActListen     ActionKind = "listen"     // wait Millis for the caller, then fetch again
	ActMenu       ActionKind = "menu"       // collect one keypad digit for Millis, then fetch with it
	// ActForgetKeys forgets keys pressed so far: the platform keeps every key
	// pressed during the call, and one pressed during the greeting would
	// otherwise answer the menu before the caller hears it.
	ActForgetKeys ActionKind = "forget_keys"
	ActConnect    ActionKind = "connect" // transfer To (Department), showing CallerID ("": the number the caller dialled)
	ActHangup     ActionKind = "hangup"
	ActSet        ActionKind = "set" // set the call variable Variable to Value, for the customer's own flow
)

// The variables a flow-step call hands back to the customer's VoIPBin flow,
// which can branch on them after its fetch.
const (
	VarDepartment  = "switchboard.department"  // the department's name: "billing"
	VarDestination = "switchboard.destination" // where it is: "+14155550102"
	VarReason      = "switchboard.reason"      // who chose it: model, local, keypad, priority, ...
	VarConfidence  = "switchboard.confidence"  // how sure, 0.00 to 1.00
	VarOpen        = "switchboard.open"        // "false" when the department was closed at the call's start
	VarAfterHours  = "switchboard.after_hours" // set when closed: where its after_hours chain goes ("": nobody open)
)

// Action is one step of a turn's answer.
type Action struct {
	Kind       ActionKind  `json:"kind"`
	Text       string      `json:"text,omitempty"`
	Language   string      `json:"language,omitempty"`
	Millis     int         `json:"millis,omitempty"`
	Department string      `json:"department,omitempty"`
	To         Destination `json:"to,omitzero"`
	CallerID   string      `json:"caller_id,omitempty"`
	// Length is how many keys a menu collects (default 1); a longer entry
	// may also be ended with the pound key.
	Length int `json:"length,omitempty"`
	// SilenceMS is the silence that ends a recording (ActRecord).
	SilenceMS int    `json:"silence_ms,omitempty"`
	Variable  string `json:"variable,omitempty"`
	Value     string `json:"value,omitempty"`
}

// cost is how many VoIPBin actions a rendering of a takes: listening and the
// menu are a pause or a digit collection followed by a fetch (a listen of 0
// ms is the fetch alone); VoIPBin adds a confbridge_join after a connect.
func (a Action) cost() int {
	switch {
	case a.Kind == ActRecord: // beep, recording_start, digits_receive, recording_stop, fetch
		return 5
	case a.Kind == ActMenu, a.Kind == ActOffer, a.Kind == ActListen && a.Millis > 0, a.Kind == ActConnect:
		return 2
	}
	return 1
}

// Cost is what acts take of the platform's action budget; the VoIPBin
// renderer's tests hold it to what the rendering really spends.
func Cost(acts []Action) int {
	n := 0
	for _, a := range acts {
		n += a.cost()
	}
	return n
}

// handsOver reports whether acts hand the call to someone else for now: the
// caller (listen, menu), a department (connect), the customer's own flow
// (set: a flow-step call's decision), or nobody (hangup). A turn ends there.
func handsOver(acts []Action) bool {
	for _, a := range acts {
		switch a.Kind {
		case ActListen, ActMenu, ActConnect, ActSet, ActHangup, ActRecord, ActOffer:
			return true
		}
	}
	return false
}

// afford keeps a call inside the platform's action budget: a decision that
// would leave the call alive with no room for a last transfer becomes that
// transfer, to the fallback desk, so a caller reaches a human rather than
// being cut off.
func (r *Router) afford(c *Call, t *turn, d decision) decision {
	if !t.ch.ActionBudget || over(target(c.State, d.event)) {
		return d
	}
	if c.Actions+Cost(t.acts)+Cost(d.acts)+r.lastTransfer <= r.cfg.Dialog.MaxActions {
		return d
	}
	return r.transfer(c, r.cfg.Fallback.Destination, "action-limit")
}

// account books a finished turn's actions against the call: the platform's
// action budget, and the listening time handed out since the caller last spoke.
func (r *Router) account(c *Call, t *turn) {
	if t.ch.ActionBudget {
		c.Actions += Cost(t.acts)
	}
	if t.ch.Fetches {
		for _, a := range t.acts {
			if a.Kind == ActListen {
				c.SilenceMS += a.Millis
			}
		}
	}
}

// listen fires event, says text if any and listens for ms (0: fetch at once).
func (r *Router) listen(c *Call, event, text string, ms int) decision {
	var acts []Action
	if text != "" {
		acts = append(acts, Action{Kind: ActTalk, Text: text, Language: c.Language})
	}
	return decision{event: event, acts: append(acts, Action{Kind: ActListen, Millis: ms})}
}

// transfer routes the call to dept, sure of it: a transfer that tells the
// caller where they are going, or a flow-step call's hand-back (see route).
func (r *Router) transfer(c *Call, dept, reason string) decision {
	return r.route(c, dept, reason, 1)
}

// reception is the answer of last resort: tell the caller, connect the fallback desk.
func (r *Router) reception(lang string) []Action {
	return r.connect(r.cfg.Fallback.Destination, lang)
}

// Reception is the answer of last resort for a request that names no call
// we can load (a fetch whose body cannot be read): the caller is told and
// connected to the fallback desk; nothing is stored.
func (r *Router) Reception(lang string) []Action { return r.reception(lang) }

// connect says where the caller is going, in their language, and connects them.
func (r *Router) connect(dept, lang string) []Action {
	if _, ok := r.cfg.Texts[lang]; !ok {
		lang = r.cfg.Language
	}
	texts := r.cfg.Texts[lang]
	d, ok := r.cfg.Department(dept)
	if !ok {
		dept = r.cfg.Fallback.Destination
		d, _ = r.cfg.Department(dept)
	}
	text := strings.ReplaceAll(texts.Routing, "{department}", d.LabelIn(lang))
	switch dept {
	case Emergency:
		text = texts.Urgent
	case r.cfg.Fallback.Destination:
		text = texts.Reception
	}
	return []Action{
		{Kind: ActTalk, Text: text, Language: lang},
		{Kind: ActConnect, Department: dept, To: d.Destination(), CallerID: r.cfg.CallerIDFor(d)},
	}
}
