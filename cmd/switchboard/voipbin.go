package main

// VoIPBin's wire formats live in this file and nowhere else, so that a
// correction to them is one edit. See VoIPBin's fetch action and customer
// webhook: a fetch is answered with a bare JSON array of actions, events arrive
// as {"type": ..., "data": {...}}.

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/flow"
)

// voipbinAction is one action in a fetch answer.
type voipbinAction struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Option any    `json:"option,omitempty"`
}

type voipbinAddress struct {
	Type   string `json:"type"`
	Target string `json:"target"`
}

type connectOption struct {
	Source       *voipbinAddress  `json:"source,omitempty"`
	Destinations []voipbinAddress `json:"destinations"`
}

// dialledNumber is the number the caller dialled, substituted by VoIPBin when
// the connect runs: the default caller ID of a transfer.
const dialledNumber = "${voipbin.call.destination.target}"

// digitsVariable holds the keys the caller pressed; VoIPBin substitutes
// "${" + digitsVariable + "}" when it runs the action.
const digitsVariable = "voipbin.call.digits"

// renderVoipbin turns flow actions into VoIPBin actions. fetchURL is where
// VoIPBin comes back for the next turn.
func renderVoipbin(acts []flow.Action, fetchURL string) []voipbinAction {
	out := make([]voipbinAction, 0, len(acts)+2)
	add := func(typ string, opt any) {
		out = append(out, voipbinAction{ID: uuid.NewString(), Type: typ, Option: opt})
	}
	fetch := func(u string) { add("fetch", map[string]any{"event_url": u, "event_method": "POST"}) }
	for _, a := range acts {
		switch a.Kind {
		case flow.ActTranscribe:
			add("transcribe_start", map[string]any{"language": a.Language, "direction": "in"})
		case flow.ActTalk:
			add("talk", map[string]any{"text": a.Text, "language": a.Language})
		case flow.ActListen:
			if a.Millis > 0 {
				add("sleep", map[string]any{"duration": a.Millis})
			}
			fetch(fetchURL)
		case flow.ActForgetKeys:
			// VoIPBin keeps every key pressed during the call in this variable.
			add("variable_set", map[string]any{"key": digitsVariable, "value": ""})
		case flow.ActMenu:
			opt := map[string]any{"duration": a.Millis, "length": max(a.Length, 1)}
			if a.Length > 1 {
				// A longer entry may end early with the pound key; in a
				// one-key menu a "#" would reach us as an empty d (it starts
				// the URL's fragment, which is also why d comes last).
				opt["key"] = "#"
			}
			add("digits_receive", opt)
			fetch(fetchURL + "&d=${" + digitsVariable + "}")
		case flow.ActSet:
			add("variable_set", map[string]any{"key": a.Variable, "value": a.Value})
		case flow.ActConnect:
			if a.To.Kind == flow.ToQueue {
				add("queue_join", map[string]any{"queue_id": a.To.Target})
				continue
			}
			// A transfer always carries a caller ID: without one VoIPBin
			// refuses the outgoing call unless the account has a default.
			add("connect", connectOption{
				Source:       &voipbinAddress{Type: "tel", Target: cmp.Or(a.CallerID, dialledNumber)},
				Destinations: []voipbinAddress{{Type: string(a.To.Kind), Target: a.To.Target}},
			})
		case flow.ActHangup:
			add("hangup", map[string]any{"reason": "normal"})
		}
	}
	return out
}

// fetchRequest is VoIPBin's fetch body.
type fetchRequest struct {
	ActiveflowID string `json:"activeflow_id"`
	ReferenceID  string `json:"reference_id"` // the call's id
}

func handleFetch(svc *service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !validToken(svc.settings.FetchToken, r.URL.Query().Get("t")) {
			writeProblem(w, http.StatusUnauthorized, "bad or missing fetch token (?t=)")
			return
		}
		var req fetchRequest
		if err := decodeJSON(w, r, &req); err != nil {
			writeBodyProblem(w, "invalid fetch body", err)
			return
		}
		callID := req.ReferenceID
		if callID == "" {
			callID = req.ActiveflowID
		}
		if callID == "" {
			writeProblem(w, http.StatusBadRequest, "invalid fetch body", "reference_id: missing")
			return
		}
		if strings.HasPrefix(callID, seedCallPrefix) {
			writeProblem(w, http.StatusBadRequest, "invalid fetch body", "reference_id: not a VoIPBin call id")
			return
		}
		r = withCall(r, callID)
		q := r.URL.Query()
		turn := flow.Turn{CallID: callID, Channel: flow.Voice, Language: q.Get("lang"), Dialled: q.Get("to"), Arrived: arrival(r)}
		if q.Has("d") {
			turn.HasDigits = true
			turn.Digits = q.Get("d")
			if strings.Contains(turn.Digits, "${") { // VoIPBin left the variable unset
				turn.Digits = ""
			}
		}
		reply := svc.routing().router.Next(r.Context(), turn)
		setMoves(w, reply.Moves)
		writeJSON(w, http.StatusOK, renderVoipbin(reply.Actions, fetchURL(svc.settings, r)))
	}
}

// fetchURL is the URL VoIPBin fetches the next turn from: the public base URL
// when configured, else the one this request came to.
func fetchURL(s settings, r *http.Request) string {
	base := strings.TrimSuffix(s.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	u := base + "/voipbin/fetch?t=" + url.QueryEscape(s.FetchToken)
	if lang := r.URL.Query().Get("lang"); lang != "" {
		u += "&lang=" + url.QueryEscape(lang)
	}
	return u
}

func validToken(want, got string) bool {
	return want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// voipbinEvent is the customer webhook's envelope; data is read per type.
type voipbinEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type eventData struct {
	ID            string `json:"id"`
	Language      string `json:"language"`
	ReferenceType string `json:"reference_type"`
	ReferenceID   string `json:"reference_id"`
	TranscribeID  string `json:"transcribe_id"`
	Direction     string `json:"direction"`
	Message       string `json:"message"`
}

func handleEvent(svc *service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r)
		if err != nil {
			writeBodyProblem(w, "unreadable event body", err)
			return
		}
		if !validSignature(svc.settings.Secret, r.Header.Get("X-VoIPBIN-Signature"), body) {
			writeProblem(w, http.StatusUnauthorized, "bad or missing X-VoIPBIN-Signature")
			return
		}
		var ev voipbinEvent
		var data eventData
		if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
			writeProblem(w, http.StatusBadRequest, "invalid event", fmt.Sprint("want {\"type\": ..., \"data\": {...}}: ", err))
			return
		}
		if len(ev.Data) > 0 {
			if err := json.Unmarshal(ev.Data, &data); err != nil {
				writeProblem(w, http.StatusBadRequest, "invalid event data", err.Error())
				return
			}
		}
		if problems := data.problems(ev.Type); len(problems) > 0 {
			writeProblem(w, http.StatusBadRequest, "invalid "+ev.Type+" event", problems...)
			return
		}
		logs.Add(r.Context(), slog.String("event", ev.Type)) // the request's line says which
		switch ev.Type {
		case "transcribe_created":
			r = withCall(r, data.ReferenceID)
		case "call_hangup":
			r = withCall(r, data.ID)
		}
		if !eventIsText(body) {
			// A 4xx would be logged by VoIPBin and forgotten, a 5xx retried in
			// vain: take it, and keep the broken bytes out of the call.
			svc.log.WarnContext(r.Context(), "event ignored: not UTF-8", "type", ev.Type, "id", strings.ToValidUTF8(data.ID, "?"))
			writeJSON(w, http.StatusOK, map[string]string{"status": "ignored", "reason": "not UTF-8"})
			return
		}
		var callID string
		err = withPatience(r.Context(), svc.eventPatience, func(ctx context.Context) (err error) {
			callID, err = deliver(ctx, svc, ev.Type, data)
			return err
		})
		switch {
		case err == nil:
			if ev.Type == "transcript_created" && callID != "" {
				// Decide now, while VoIPBin's webhook waits for us at no cost to
				// it, so that the next fetch answers at once. Its budget runs
				// from now: storing the words may have ridden out an outage.
				svc.routing().router.Next(r.Context(), flow.Turn{CallID: callID, Channel: flow.Voice, OnWords: true})
			}
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		default:
			reason := "store_error"
			if errors.Is(err, flow.ErrUnknownSession) {
				reason = "unknown_transcribe"
			}
			svc.metrics.inboxDrops.WithLabelValues(reason).Inc()
			svc.log.WarnContext(r.Context(), "event not stored; VoIPBin will retry", "type", ev.Type, "id", data.ID, "err", err)
			writeProblem(w, http.StatusServiceUnavailable, "event not stored, retry later")
		}
	}
}

// eventIsText reports whether an event's body is UTF-8. JSON decoding would
// quietly turn broken bytes into U+FFFD and pass them off as the caller's words.
func eventIsText(body []byte) bool { return utf8.Valid(body) }

// eventPatience is how long an event handler keeps trying to store an event
// before it answers 503. VoIPBin's webhook client waits up to 30 s for an
// answer but makes only 3 attempts, 1 s apart: trying for 3 s inside each one
// rides out a Redis restart of that length without spending them.
const eventPatience = 3 * time.Second

// withPatience calls store until it succeeds, fails for good, or patience
// runs out, backing off from 50 ms to 500 ms between tries. Only store
// outages are tried again: a transcript whose session is unknown is left to
// VoIPBin's retry, since its transcribe_created may itself be on the way.
func withPatience(ctx context.Context, patience time.Duration, store func(context.Context) error) error {
	if patience <= 0 {
		return store(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		err := store(ctx)
		if err == nil || errors.Is(err, flow.ErrUnknownSession) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// deliver hands a decoded event to the flow's caller events and returns the
// call it concerns, when it knows; other event types are accepted and ignored.
func deliver(ctx context.Context, svc *service, typ string, d eventData) (string, error) {
	speaker := flow.Us
	if d.Direction == "in" {
		speaker = flow.Caller
	}
	switch typ {
	case "transcribe_created":
		if d.ReferenceType != "" && d.ReferenceType != "call" {
			return "", nil // a transcription of something other than a call is none of ours
		}
		return d.ReferenceID, svc.events.Transcribing(ctx, d.ID, d.ReferenceID, d.Language)
	case "transcript_created":
		callID, dropped, err := svc.events.Heard(ctx, flow.Heard{ID: d.ID, Session: d.TranscribeID, Speaker: speaker, Text: d.Message})
		if callID != "" {
			logs.Add(ctx, slog.String("call", callID)) // the request's scope: its last line gets the call too
		}
		if dropped > 0 {
			svc.metrics.inboxDrops.WithLabelValues("inbox_full").Add(float64(dropped))
		}
		return callID, err
	case "transcribe_speech_started", "transcribe_speech_ended":
		// VoIPBin's streaming transcription (bin-transcribe-manager
		// streaminghandler): started comes with the first interim result,
		// ended with the final one, just before transcript_created. The
		// interims between them (transcribe_speech_interim, every half
		// second or so) would tell no more, at two round trips each.
		// They only hint when to listen: one that cannot be stored (its
		// session not known yet, the store down) is not worth VoIPBin's
		// retries, and without it the call listens in longer pauses.
		callID, err := svc.events.Speech(ctx, d.TranscribeID, speaker, typ == "transcribe_speech_ended")
		if callID != "" {
			logs.Add(ctx, slog.String("call", callID))
		}
		if err != nil && !errors.Is(err, flow.ErrUnknownSession) {
			svc.log.WarnContext(ctx, "speech event not stored; taken anyway", "type", typ, "err", err)
		}
		return callID, nil
	case "call_hangup":
		return d.ID, svc.events.HungUp(ctx, d.ID, d.ID)
	}
	return "", nil
}

// problems lists what an event of type typ lacks.
func (d eventData) problems(typ string) []string {
	var p []string
	need := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			p = append(p, "data."+field+": missing")
		}
	}
	switch typ {
	case "transcribe_created":
		need("id", d.ID)
		need("reference_id", d.ReferenceID)
	case "transcript_created", "transcribe_speech_started", "transcribe_speech_interim", "transcribe_speech_ended":
		need("id", d.ID)
		need("transcribe_id", d.TranscribeID)
	case "call_hangup":
		need("id", d.ID)
	}
	return p
}

// validSignature checks VoIPBin's "sha256=<hex HMAC-SHA256 of the body>" when
// a secret is configured.
func validSignature(secret, header string, body []byte) bool {
	if secret == "" {
		return true
	}
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(sig, mac.Sum(nil))
}

// readBody reads a request body, at most maxBody bytes of it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, fmt.Errorf("body larger than %d bytes: %w", maxErr.Limit, err)
	}
	return b, err
}

// errNotUTF8 is a body with bytes that are not UTF-8.
var errNotUTF8 = errors.New("body is not UTF-8")

// decodeJSON is the one decode path for request bodies: bounded, UTF-8, one value.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return errNotUTF8
	}
	// Unmarshal refuses trailing data after the value, and needs no decoder buffer.
	if err := json.Unmarshal(b, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("%s: want %s, got %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
		}
		return err
	}
	return nil
}

// writeBodyProblem answers a body that could not be read or decoded: 413 when
// it was too large, 400 otherwise.
func writeBodyProblem(w http.ResponseWriter, msg string, err error) {
	status := http.StatusBadRequest
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status, msg = http.StatusRequestEntityTooLarge, "request body too large"
	}
	writeProblem(w, status, msg, err.Error())
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(kind string) string {
	switch kind {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "float64", "int", "int64":
		return "number"
	}
	return kind
}
