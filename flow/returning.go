package flow

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Returning callers: the same number calling again within a few days is
// recognised (by a keyed hash of it, never the number itself), and a caller
// whose last call was in the last 24 hours, or who has a callback waiting, is
// asked "Are you calling about your refund again?"; yes goes straight to the
// same department. A call within 24 hours of the last is a repeat: counted
// (it often means the first call went to the wrong place).

// Returning configures it; nil: callers are not remembered.
type Returning struct {
	// KeepDays is how long a caller's last call is remembered (default 3);
	// WindowHours how recent it must be to ask about it (default 24).
	KeepDays    int `json:"keep_days,omitempty"`
	WindowHours int `json:"window_hours,omitempty"`
	// Ask is the question, by language: "{topic}" is what they called about.
	Ask map[string]string `json:"ask,omitempty"`
}

const defaultAsk = "Welcome back. Are you calling about {topic} again?"

// Visit is what is remembered of a caller's last call.
type Visit struct {
	Department string `json:"dept"`
	// Topic is the gist of what they said, redacted and in their words.
	Topic    string `json:"topic,omitempty"`
	AtMS     int64  `json:"at"`
	Callback bool   `json:"cb,omitempty"` // they asked for a callback
}

// Callers remembers callers by a hash of their number. Errors are the store's.
type Callers interface {
	// Remember keeps v as the last call of the caller whose number hashes to key, for keep.
	Remember(ctx context.Context, key string, v Visit, keep time.Duration) error
	// Recall returns the last call remembered; false when none.
	Recall(ctx context.Context, key string) (Visit, bool, error)
}

func (r *Returning) keep() time.Duration {
	if r.KeepDays <= 0 {
		return 3 * 24 * time.Hour
	}
	return time.Duration(r.KeepDays) * 24 * time.Hour
}

func (r *Returning) window() time.Duration {
	if r.WindowHours <= 0 {
		return 24 * time.Hour
	}
	return time.Duration(r.WindowHours) * time.Hour
}

// recall looks a new call's caller up, once, on its first turn.
func (r *Router) recall(ctx context.Context, c *Call, t *turn) {
	if t.Caller != "" {
		c.Caller = t.Caller
	}
	if r.Callers == nil || r.HashNumber == nil || r.cfg.Returning == nil || c.Caller == "" {
		return
	}
	v, ok, err := r.Callers.Recall(ctx, r.HashNumber(c.Caller))
	if err != nil {
		r.log.WarnContext(ctx, "returning caller not looked up", "call", c.ID, "err", err)
		return
	}
	if !ok || v.Department == "" {
		return
	}
	ago := time.Duration(r.Now().UnixMilli()-v.AtMS) * time.Millisecond
	c.Repeat = ago < 24*time.Hour
	if ago < r.cfg.Returning.window() || v.Callback {
		c.Returning, c.Topic = v.Department, v.Topic
	}
}

// remember keeps a call that ended as its caller's last, for the next one.
func (r *Router) remember(ctx context.Context, c Call) {
	if r.Callers == nil || r.HashNumber == nil || r.cfg.Returning == nil || c.Caller == "" {
		return
	}
	dept := c.Department
	if c.Closed != "" {
		dept = c.Closed
	}
	if dept == "" || dept == r.cfg.Fallback.Destination && c.Reason != "keypad" {
		return // nothing known to ask about
	}
	topic := c.Topic // a bare "yes" to the last question keeps that call's topic
	for i := len(c.Turns) - 1; i >= 0; i-- {
		if w := c.Turns[i]; len(strings.Fields(w)) > 3 || !saysYes.MatchString(w) && !saysNo.MatchString(w) {
			topic = Redact(w)
			break
		}
	}
	v := Visit{Department: dept, Topic: topic, AtMS: r.Now().UnixMilli(), Callback: c.CalledBack}
	if err := r.Callers.Remember(ctx, r.HashNumber(c.Caller), v, r.cfg.Returning.keep()); err != nil {
		r.log.WarnContext(ctx, "caller not remembered", "call", c.ID, "err", err)
	}
}

// greetingFor is the greeting a caller hears in lang: the question about
// their last call when they are returning.
func (r *Router) greetingFor(c *Call, lang string) string {
	if c.Returning == "" {
		return r.cfg.TextsFor(lang).Greeting
	}
	ask := r.cfg.Returning.Ask[lang]
	if ask == "" {
		ask = defaultAsk
	}
	topic := yourWords(c.Topic)
	if topic == "" || len(strings.Fields(topic)) > 10 {
		topic = r.labelOf(c.Returning, lang)
	}
	return strings.ReplaceAll(ask, "{topic}", topic)
}

var (
	saysYes = regexp.MustCompile(`(?i)^\W*(yes|yeah|yep|yup|correct|right|exactly|sure|that's right|it is|i am|sí|si|claro|eso es)\b`)
	saysNo  = regexp.MustCompile(`(?i)^\W*(no|nope|not|nah|something else|otra cosa)\b`)
)

// answerReturning takes the answer to "Are you calling about ... again?":
// yes goes to the same department; anything else is heard as any first words.
func (r *Router) answerReturning(c *Call, words []string) (decision, bool) {
	if c.Returning == "" || len(words) == 0 {
		return decision{}, false
	}
	dept := c.Returning
	c.Returning = ""
	if saysYes.MatchString(words[0]) && !saysNo.MatchString(words[0]) {
		return r.route(c, dept, "returning", 1), true
	}
	return decision{}, false
}

// yourWords turns a caller's words about themselves into ours about them:
// "my refund" is "your refund".
func yourWords(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), ".!?")
	swap := map[string]string{"my": "your", "i": "you", "i'm": "you're", "me": "you", "mine": "yours", "am": "are", "i've": "you've"}
	w := strings.Fields(s)
	for i, x := range w {
		if y, ok := swap[strings.ToLower(x)]; ok {
			w[i] = y
		}
	}
	return strings.Join(w, " ")
}
