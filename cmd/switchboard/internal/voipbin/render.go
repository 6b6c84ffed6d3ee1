package voipbin

import (
	"cmp"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/flow"
)

// Render turns a turn's flow actions into a fetch answer: VoIPBin actions,
// each with a fresh UUID. next is where VoIPBin comes back for the next
// turn; each fetch adds what it carries (the keys, the caller) to it.
func Render(acts []flow.Action, next FetchURL) []Action {
	out := make([]Action, 0, len(acts)+2)
	add := func(typ string, opt any) {
		out = append(out, Action{ID: uuid.NewString(), Type: typ, Option: opt})
	}
	fetch := func(u FetchURL) { add(TypeFetch, FetchOption{EventURL: u.String(), EventMethod: "POST"}) }
	prompt := 0 // how long the prompt playing under the next menu speaks, in ms
	for i := 0; i < len(acts); i++ {
		a := acts[i]
		switch a.Kind {
		case flow.ActTranscribe:
			add(TypeTranscribeStart, TranscribeStartOption{Language: a.Language, Direction: "in"})
		case flow.ActTalk:
			if !beforeMenu(acts[i+1:]) {
				add(TypeTalk, Talk(a.Text, a.Language))
				continue
			}
			// A prompt for keys plays while the menu collects them: an async
			// talk, then the digits_receive at once. VoIPBin's call-manager
			// appends every key during a digits_receive, and ends it by an
			// ordinary next action, which it ignores when one is under way.
			// During a talk each key overwrites the one before, and with
			// digits_handle "next" each key forces the next action with the
			// talk's id: a second key typed quickly, handled by another of
			// its 20 ARI workers before the first moved the call on, is
			// refused by flow-manager, which stops the flow (the caller is
			// hung up). Talks in one language are one talk.
			text := a.Text
			for i+1 < len(acts) && acts[i+1].Kind == flow.ActTalk && acts[i+1].Language == a.Language {
				i++
				text += " " + acts[i].Text
			}
			opt := Talk(text, a.Language)
			opt.Async = true
			prompt += SpeakingMS(text)
			add(TypeTalk, opt)
		case flow.ActListen:
			if a.Millis > 0 {
				add(TypeSleep, SleepOption{Duration: a.Millis})
			}
			fetch(next)
		case flow.ActForgetKeys:
			// VoIPBin keeps every key pressed during the call in this variable.
			add(TypeVariableSet, VariableSetOption{Key: VarDigits, Value: ""})
		case flow.ActMenu:
			// Its time runs from the start of the prompt.
			opt := DigitsReceiveOption{Duration: prompt + a.Millis, Length: max(a.Length, 1)}
			prompt = 0
			if a.Length > 1 {
				// A longer entry may end early with the pound key; in a
				// one-key menu a "#" would reach us as an empty d (it starts
				// the URL's fragment, which is also why d comes last).
				opt.Key = "#"
			}
			add(TypeDigitsReceive, opt)
			u := next
			u.Digits = Var(VarDigits)
			fetch(u)
		case flow.ActSet:
			add(TypeVariableSet, VariableSetOption{Key: a.Variable, Value: a.Value})
		case flow.ActConnect:
			typ, opt := Transfer(a.To, a.CallerID)
			add(typ, opt)
		case flow.ActHangup:
			add(TypeHangup, HangupOption{Reason: "normal"})
		case flow.ActRecord:
			out = append(out, recordActions(a.Millis, a.SilenceMS, next)...)
		case flow.ActOffer:
			// The caller's number comes with the choice: a callback confirms it.
			add(TypeDigitsReceive, DigitsReceiveOption{Duration: a.Millis, Length: 1})
			u := next
			u.To, u.From, u.Digits = Var(VarDialled), Var(VarCaller), Var(VarDigits)
			fetch(u)
		}
	}
	return out
}

// SpeakingMS is about how long VoIPBin's text-to-speech takes to say text:
// some 15 characters a second, rounded up to whole seconds.
func SpeakingMS(text string) int {
	return (len([]rune(text))/15 + 1) * 1000
}

// beforeMenu reports whether acts are talks, if any, and then a menu.
func beforeMenu(acts []flow.Action) bool {
	for _, a := range acts {
		if a.Kind != flow.ActTalk {
			return a.Kind == flow.ActMenu || a.Kind == flow.ActOffer
		}
	}
	return false
}

// Transfer is the action that takes the caller to: a queue_join for a
// queue, else a connect. A connect always carries a caller ID (callerID, or
// the number the caller dialled): without one VoIPBin refuses the outgoing
// call unless the account has a default. An extension carries its number as
// target_name too, which is what VoIPBin finds its registered phones by.
func Transfer(to flow.Destination, callerID string) (string, any) {
	if to.Kind == flow.ToQueue {
		return TypeQueueJoin, QueueJoinOption{QueueID: to.Target}
	}
	dest := Address{Type: string(to.Kind), Target: to.Target}
	if to.Kind == flow.ToExtension {
		dest.TargetName = to.Target
	}
	return TypeConnect, ConnectOption{
		Source:       &Address{Type: AddressTel, Target: cmp.Or(callerID, DialledNumber)},
		Destinations: []Address{dest},
	}
}
