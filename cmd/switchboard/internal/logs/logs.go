// Package logs builds Switchboard's logger: JSON or text, a level, attributes
// carried by a request's context (request id, call id) on every line the
// request writes, and caller data (transcripts, phone numbers) redacted unless
// an operator asks for them.
package logs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
)

// Options configures New.
type Options struct {
	Level  slog.Level
	Format string // "json" or "text"; empty: text on a terminal, else JSON
	// Transcripts keeps what callers said and their phone numbers in the logs.
	Transcripts bool
}

// ParseLevel reads debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// New returns a logger writing to w.
func New(w io.Writer, opt Options) (*slog.Logger, error) {
	ho := &slog.HandlerOptions{Level: opt.Level}
	if !opt.Transcripts {
		ho.ReplaceAttr = redact
	}
	var h slog.Handler
	switch opt.Format {
	case "":
		if IsTerminal(w) {
			h = slog.NewTextHandler(w, ho)
		} else {
			h = slog.NewJSONHandler(w, ho)
		}
	case "json":
		h = slog.NewJSONHandler(w, ho)
	case "text":
		h = slog.NewTextHandler(w, ho)
	default:
		return nil, fmt.Errorf("log format %q: want json or text", opt.Format)
	}
	return slog.New(contextHandler{h}), nil
}

// IsTerminal reports whether f is a character device, such as a terminal.
func IsTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type ctxKey struct{}

// scope is the attributes a context carries; Add may grow it while a request runs.
type scope struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

func (s *scope) get() []slog.Attr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attrs
}

// With returns ctx carrying attrs in a new scope: every line logged with it
// (InfoContext, LogAttrs) by any package gets them, so a request's lines can
// be found by its request id or call id.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	var old []slog.Attr
	if s, ok := ctx.Value(ctxKey{}).(*scope); ok {
		old = s.get()
	}
	return context.WithValue(ctx, ctxKey{}, &scope{attrs: append(old[:len(old):len(old)], attrs...)})
}

// Add puts attrs in ctx's scope, so that they also reach the lines logged
// with the context the scope was made with (a request's last line learns the
// call id its handler found). Without a scope it is With.
func Add(ctx context.Context, attrs ...slog.Attr) context.Context {
	s, ok := ctx.Value(ctxKey{}).(*scope)
	if !ok {
		return With(ctx, attrs...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attrs = append(s.attrs[:len(s.attrs):len(s.attrs)], attrs...)
	return ctx
}

// contextHandler adds a context's attributes to each record, unless the record
// already has an attribute of the same key.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	var attrs []slog.Attr
	if s, ok := ctx.Value(ctxKey{}).(*scope); ok {
		attrs = s.get()
	}
	for _, a := range attrs {
		if !hasAttr(r, a.Key) {
			r.AddAttrs(a)
		}
	}
	return h.Handler.Handle(ctx, r)
}

// hasAttr reports whether r has an attribute keyed key. A record has a
// handful: a scan costs less than building a set for every line.
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// transcriptKey holds what a caller said, as a list of turns; redacted, the
// list becomes its length (the form switchboard harvest takes for "not logged").
const transcriptKey = "turns"

// saidKey holds what a caller said on an audited call (flow.Audit.Said),
// redacted the same way.
const saidKey = "said"

// AnswerKey holds a model's raw answer. A model may echo what the caller
// said, so redacted, anything longer than one short word becomes its length.
const AnswerKey = "answer"

// maxLabel is the longest answer kept as it is: a department's name.
const maxLabel = 32

// isLabel reports whether s is one short word: a-z, digits, '-' and '_'.
func isLabel(s string) bool {
	if len(s) > maxLabel {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// phone matches an E.164 number, the only form numbers take in Switchboard
// and on VoIPBin's wire.
var phone = regexp.MustCompile(`\+[0-9]{7,15}`)

// redact hides what callers said (and a model's answer that may repeat it) and phone numbers: logs travel further than
// the calls they describe. A number keeps its last two digits, enough to tell
// departments apart.
func redact(_ []string, a slog.Attr) slog.Attr {
	// Called for every attribute of every line: look at the kind first, so
	// that a plain value is never boxed to be inspected.
	switch a.Value.Kind() {
	case slog.KindString:
		if a.Key == AnswerKey && !isLabel(a.Value.String()) {
			return slog.String(a.Key, fmt.Sprintf("(%d bytes, redacted)", len(a.Value.String())))
		}
		if s := a.Value.String(); mayHoldNumber(s) && phone.MatchString(s) {
			return slog.String(a.Key, RedactNumbers(s))
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case []string:
			if a.Key == transcriptKey || a.Key == saidKey {
				return slog.Int(a.Key, len(v))
			}
		case error:
			if msg := v.Error(); mayHoldNumber(msg) && phone.MatchString(msg) {
				return slog.String(a.Key, RedactNumbers(msg))
			}
		}
	}
	return a
}

// mayHoldNumber is phone's cheap first test, run on every logged string:
// a number starts with "+".
func mayHoldNumber(s string) bool { return strings.IndexByte(s, '+') >= 0 }

// RedactNumbers replaces each phone number in s by "+***" and its last two digits.
func RedactNumbers(s string) string {
	return phone.ReplaceAllStringFunc(s, func(n string) string {
		return "+***" + n[len(n)-2:]
	})
}
