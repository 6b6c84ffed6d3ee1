// Package voipbin owns VoIPBin's call wire: the actions we send in a fetch
// answer and in a number's flow, their options, the events VoIPBin posts to
// our webhook, its signature, and the rules VoIPBin applies to them (its
// action budget, caller IDs, the TTS check). The server, the call simulator
// (voipbintest), provisioning and the load runs all go through it, so a
// format is defined once and a rule is enforced once. CONFORMANCE.md says,
// row by row, where in VoIPBin's source each rule comes from.
package voipbin

import "encoding/json"

// Action is one VoIPBin action, in a fetch answer or a flow. ID is a fresh
// UUID in a fetch answer; in a flow it may be empty (VoIPBin makes one) or
// fixed, for a branch to jump to. Option is one of the option types below
// when we build it, and generic JSON when decoded.
type Action struct {
	ID     string `json:"id,omitempty"`
	Type   string `json:"type"`
	Option any    `json:"option,omitempty"`
}

// The action types we send or meet in a flow.
const (
	TypeAnswer          = "answer"
	TypeTalk            = "talk"
	TypeTranscribeStart = "transcribe_start"
	TypeSleep           = "sleep"
	TypeFetch           = "fetch"
	TypeDigitsReceive   = "digits_receive"
	TypeVariableSet     = "variable_set"
	TypeConnect         = "connect"
	TypeQueueJoin       = "queue_join"
	TypeHangup          = "hangup"
	TypeBranch          = "branch"
)

// Address is a call party: {"type": "tel", "target": "+14155550100"}.
// TargetName is what VoIPBin looks an extension up by.
type Address struct {
	Type       string `json:"type"`
	Target     string `json:"target"`
	TargetName string `json:"target_name,omitempty"`
}

// Address types.
const (
	AddressTel       = "tel"
	AddressSIP       = "sip"
	AddressExtension = "extension"
	AddressAgent     = "agent"
)

// TalkOption says Text in Language. DigitsHandle "next" ends the talk at
// the caller's first key and moves on, keeping that key. Async starts the
// talk and moves on to the next action at once while it plays.
type TalkOption struct {
	Text         string `json:"text"`
	Language     string `json:"language"`
	DigitsHandle string `json:"digits_handle,omitempty"`
	Async        bool   `json:"async,omitempty"`
}

// Talk is the option of a talk saying words (plain text, escaped here for
// VoIPBin's TTS) in lang.
func Talk(words, lang string) TalkOption {
	return TalkOption{Text: Speakable(words), Language: lang}
}

// DigitsHandleNext is the talk option that stops a prompt at the first key.
const DigitsHandleNext = "next"

// TranscribeStartOption starts transcribing; Direction "in" is the caller.
type TranscribeStartOption struct {
	Language  string `json:"language"`
	Direction string `json:"direction"`
}

// SleepOption pauses for Duration milliseconds.
type SleepOption struct {
	Duration int `json:"duration"`
}

// FetchOption asks EventURL for the next actions.
type FetchOption struct {
	EventURL    string `json:"event_url"`
	EventMethod string `json:"event_method"`
}

// DigitsReceiveOption collects keys for Duration milliseconds until Length
// keys or one of Key's keys.
type DigitsReceiveOption struct {
	Duration int    `json:"duration"`
	Length   int    `json:"length"`
	Key      string `json:"key,omitempty"`
}

// VariableSetOption sets the call variable Key to Value.
type VariableSetOption struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ConnectOption calls Destinations and bridges the caller to the one who
// answers, showing Source as caller ID.
type ConnectOption struct {
	Source       *Address  `json:"source,omitempty"`
	Destinations []Address `json:"destinations"`
}

// QueueJoinOption puts the caller in a queue.
type QueueJoinOption struct {
	QueueID string `json:"queue_id"`
}

// HangupOption ends the call.
type HangupOption struct {
	Reason string `json:"reason"`
}

// BranchOption jumps to the action of TargetIDs that Variable's value
// names, else to DefaultTargetID (action ids of the same flow).
type BranchOption struct {
	Variable        string            `json:"variable"`
	TargetIDs       map[string]string `json:"target_ids"`
	DefaultTargetID string            `json:"default_target_id"`
}

// Variables VoIPBin sets on a call, substituted as "${name}" when an action runs.
const (
	// VarDigits holds the keys the caller pressed.
	VarDigits = "voipbin.call.digits"
	// VarDialled is the number the caller dialled.
	VarDialled = "voipbin.call.destination.target"
)

// Var is how an option refers to a call variable: "${name}".
func Var(name string) string { return "${" + name + "}" }

// DialledNumber is the number the caller dialled, substituted by VoIPBin when
// the action runs: the default caller ID of a transfer, and how a number's
// fetch URL tells us which number was called.
const DialledNumber = "${" + VarDialled + "}"

// Actions decodes a JSON array of actions (a fetch answer, a flow).
func Actions(b []byte) ([]Action, error) {
	var acts []Action
	err := json.Unmarshal(b, &acts)
	return acts, err
}
