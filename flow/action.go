package flow

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
}

// cost is how many VoIPBin actions a rendering of a takes: listening and the
// menu are a pause or a digit collection followed by a fetch (a listen of 0
// ms is the fetch alone); VoIPBin adds a confbridge_join after a connect.
func (a Action) cost() int {
	switch {
	case a.Kind == ActMenu, a.Kind == ActListen && a.Millis > 0, a.Kind == ActConnect:
		return 2
	}
	return 1
}

// cost counts the VoIPBin actions of a turn's answer.
func cost(acts []Action) int {
	n := 0
	for _, a := range acts {
		n += a.cost()
	}
	return n
}
