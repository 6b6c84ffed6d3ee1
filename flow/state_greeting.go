package flow

import "context"

// greeting answers a new call: start transcribing the caller, greet them and
// listen. Words already in the inbox stay there for the next turn, which is
// the first that listens.
func (r *Router) greeting(_ context.Context, c *Call, _ *turn) decision {
	texts := r.cfg.TextsFor(c.Language)
	return decision{event: EventAnswer, acts: []Action{
		{Kind: ActTranscribe, Language: c.Language},
		{Kind: ActTalk, Text: texts.Greeting, Language: c.Language},
		{Kind: ActListen, Millis: r.cfg.Dialog.ListenMS},
	}}
}
