package flow

// Channel is what the line a caller reaches us on can do. The flow consults
// it wherever the answer differs between lines; nothing else tells them apart.
type Channel struct {
	// Name is for logs.
	Name string
	// Fetches: the platform comes back for the next turn by itself (VoIPBin's
	// fetch action). We speak first with a greeting, hand out listening pauses
	// and count the caller's silence in them, and may say "One moment" and
	// come back at once. Without it every turn brings the caller's words.
	Fetches bool
	// Keypad: the caller can press keys, so a keypad menu follows the last
	// clarifying question. Without it that caller goes to the fallback desk.
	Keypad bool
	// ActionBudget: the platform executes a limited number of actions per
	// call (dialog.max_actions is ours), so each turn's actions are counted.
	ActionBudget bool
	// FlowActions is what the platform's own flow spends of that budget before
	// our first turn.
	FlowActions int
	// Remembers: turns of one call share its state (they carry a call id).
	// Without it each request is a whole call, nothing is stored, and nobody
	// can be asked a clarifying question.
	Remembers bool
	// HangsUp: the platform can end the call. Without it a request on a
	// finished call is the client asking again, and gets the same transfer.
	HangsUp bool
}

// The lines Switchboard answers.
var (
	// Voice is a VoIPBin call driven by fetch.
	// Its number's flow answers and fetches before our first turn.
	Voice = Channel{Name: "voipbin", Fetches: true, Keypad: true, ActionBudget: true, FlowActions: 2, Remembers: true, HangsUp: true}
	// Webhook is the seed's speech webhook: words in, talk and transfer out.
	// A request without a call id does not remember (see Turn).
	Webhook = Channel{Name: "webhook", Remembers: true}
)

// start is the state a new call on ch begins in: a line that brings the
// caller's words with its first request has nobody to greet.
func (ch Channel) start() string {
	if ch.Fetches {
		return StateGreeting
	}
	return StateListening
}
