package service

// The HTTP handlers of VoIPBin's fetch and customer webhook. VoIPBin's wire
// itself (actions, events, signatures, its rules) is package voipbin's.

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/logs"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

func handleFetch(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !validToken(svc.conf.FetchToken, voipbin.ParseFetchURL(r.URL.Query()).Token) {
			writeProblem(w, http.StatusUnauthorized, "bad or missing fetch token (?t=)")
			return
		}
		// Past the token, every answer is 200 with actions: VoIPBin stops the
		// flow and hangs the caller up on anything else (flow-manager
		// actionHandleFetch). What cannot be used is left out and logged.
		turn, problems := fetchTurn(w, r)
		router := svc.routing().router
		next := fetchURL(svc.conf, r, turn.Language)
		if turn.CallID == "" {
			svc.log.WarnContext(r.Context(), "fetch names no call we can keep; caller sent to reception", "problems", strings.Join(problems, "; "))
			writeJSON(w, http.StatusOK, voipbin.Render(router.Reception(turn.Language), next))
			return
		}
		r = withCall(r, turn.CallID)
		if len(problems) > 0 {
			svc.log.WarnContext(r.Context(), "fetch input left out", "problems", strings.Join(problems, "; "))
		}
		reply := router.Next(r.Context(), turn)
		setMoves(w, reply.Moves)
		out := voipbin.Render(reply.Actions, next)
		if reply.Failed == "" { // a failover is a plain connect: a handoff's state lives in the store that just failed
			out = svc.handoff.intercept(reply.Actions, out, baseOf(svc.conf, r))
			out = afterQueue(svc.conf, reply.Actions, out, baseOf(svc.conf, r), time.Now())
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// fetchTurn reads a fetch: the call from its body, the keys, language and
// dialled number from its URL. What cannot be used is left out and named in
// the problems: a call id that is no VoIPBin id (nor a seed call's,
// "seed:...") leaves the turn without a CallID, a language or dialled number
// that is not one is taken as none, and keys that are no keys as one wrong key.
func fetchTurn(w http.ResponseWriter, r *http.Request) (flow.Turn, []string) {
	var problems []string
	usable := func(p string) bool {
		if p != "" {
			problems = append(problems, p)
		}
		return p == ""
	}
	q := voipbin.ParseFetchURL(r.URL.Query())
	turn := flow.Turn{Channel: flow.Voice, Arrived: arrival(r)}
	if lang := q.Lang; usable(tokenProblem("lang", lang, maxLanguage, languageByte)) {
		turn.Language = lang
	}
	if to := q.To; usable(textProblem("to", to, maxDialled)) {
		turn.Dialled = to
	}
	if q.Keyed {
		turn.HasDigits = true
		switch d := q.Digits; {
		case strings.Contains(d, "${"): // VoIPBin left the variable unset: no key
		case usable(tokenProblem("d", d, maxDigits, digitByte)):
			turn.Digits = d
		default:
			turn.Digits = wrongKey
		}
	}
	problems = append(problems, messageParams(q, &turn)...)
	var req voipbin.FetchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return turn, append(problems, "body: "+err.Error())
	}
	callID := cmp.Or(req.ReferenceID, req.ActiveflowID)
	if callID == "" {
		return turn, append(problems, "reference_id: missing")
	}
	if usable(idProblem("reference_id", callID)) {
		turn.CallID = callID
	}
	return turn, problems
}

// fetchURL is the URL VoIPBin fetches the next turn from: the public base URL
// when configured, else the one this request came to; lang is the language
// the call was fetched with.
func fetchURL(s Config, r *http.Request, lang string) voipbin.FetchURL {
	base := strings.TrimSuffix(s.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return voipbin.FetchURL{Base: base, Token: s.FetchToken, Lang: lang}
}

func validToken(want, got string) bool {
	return want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func handleEvent(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r)
		if err != nil {
			writeBodyProblem(w, "unreadable event body", err)
			return
		}
		if !voipbin.ValidSignature(svc.conf.Secret, r.Header.Get(voipbin.SignatureHeader), body) {
			writeProblem(w, http.StatusUnauthorized, "bad or missing X-VoIPBIN-Signature")
			return
		}
		var ev voipbin.Event
		var data voipbin.EventData
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
		if !eventIsText(body) {
			// A 4xx would be logged by VoIPBin and forgotten, a 5xx retried in
			// vain: take it, and keep the broken bytes out of the call.
			svc.log.WarnContext(r.Context(), "event ignored: not UTF-8", "type", ev.Type, "id", strings.ToValidUTF8(data.ID, "?"))
			writeJSON(w, http.StatusOK, map[string]string{"status": "ignored", "reason": "not UTF-8"})
			return
		}
		if problems := append(data.Problems(ev.Type), eventBounds(ev.Type, data)...); len(problems) > 0 {
			writeProblem(w, http.StatusBadRequest, "invalid "+ev.Type+" event", problems...)
			return
		}
		logs.Add(r.Context(), slog.String("event", ev.Type)) // the request's line says which
		if ce, err := voipbin.ReadCallEvent(ev.Data); err == nil && handoffEvent(ev.Type) && svc.handoff.event(r.Context(), ev.Type, ce) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"}) // a handoff's leg: no caller of ours
			return
		}
		switch ev.Type {
		case voipbin.EventTranscribeCreated:
			r = withCall(r, data.ReferenceID)
		case voipbin.EventCallHangup:
			r = withCall(r, data.ID)
		}
		var callID string
		err = withPatience(r.Context(), svc.eventPatience, func(ctx context.Context) (err error) {
			callID, err = deliver(ctx, svc, ev.Type, data)
			return err
		})
		switch {
		case err == nil:
			if ev.Type == voipbin.EventTranscriptCreated && callID != "" {
				// Decide now, while VoIPBin's webhook waits for us at no cost to
				// it, so that the next fetch answers at once. Its budget runs
				// from now: storing the words may have ridden out an outage.
				svc.routing().router.Next(r.Context(), flow.Turn{CallID: callID, Channel: flow.Voice, OnWords: true})
			}
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		case errors.Is(err, errUnknownCall):
			writeJSON(w, http.StatusOK, map[string]string{"status": "ignored", "reason": err.Error()})
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
		if err == nil || errors.Is(err, flow.ErrUnknownSession) || errors.Is(err, errUnknownCall) {
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

// errUnknownCall is an unsigned event about a call we never answered.
var errUnknownCall = errors.New("unsigned event for a call this service never answered")

// deliver hands a decoded event to the flow's caller events and returns the
// call it concerns, when it knows; other event types are accepted and
// ignored. Without a webhook secret nobody can tell VoIPBin's events from a
// stranger's: they may then only touch calls we answered (VoIPBin transcribes
// a call after our first fetch started it), so unsigned events cannot make
// keys for ids of their own choosing.
func deliver(ctx context.Context, svc *Service, typ string, d voipbin.EventData) (string, error) {
	known := func(callID string) error {
		if svc.conf.Secret != "" {
			return nil
		}
		c, _, err := svc.store.Load(ctx, callID)
		if err != nil {
			return fmt.Errorf("load call %s: %w", callID, err)
		}
		if c.Version == 0 {
			return errUnknownCall
		}
		return nil
	}
	speaker := flow.Us
	if d.Direction == "in" {
		speaker = flow.Caller
	}
	switch typ {
	case voipbin.EventTranscribeCreated:
		if d.ReferenceType != "" && d.ReferenceType != "call" {
			return "", nil // a transcription of something other than a call is none of ours
		}
		if err := known(d.ReferenceID); err != nil {
			return "", err
		}
		return d.ReferenceID, svc.events.Transcribing(ctx, d.ID, d.ReferenceID, d.Language)
	case voipbin.EventTranscriptCreated:
		callID, dropped, err := svc.events.Heard(ctx, flow.Heard{ID: d.ID, Session: d.TranscribeID, Speaker: speaker, Text: d.Message})
		if callID != "" {
			logs.Add(ctx, slog.String("call", callID)) // the request's scope: its last line gets the call too
		}
		if dropped > 0 {
			svc.metrics.inboxDrops.WithLabelValues("inbox_full").Add(float64(dropped))
		}
		return callID, err
	case voipbin.EventSpeechStarted, voipbin.EventSpeechInterim, voipbin.EventSpeechEnded:
		// VoIPBin's streaming transcription (bin-transcribe-manager
		// streaminghandler, resultProcessor.process): started comes with the
		// first interim result, an interim with every one after it while the
		// caller speaks, ended with the final one, just before
		// transcript_created; each on a goroutine of its own, in no fixed
		// order. The interims keep the speech alive: without them for a
		// while it is over (see flow's quietMS), whatever was lost.
		// They only hint when to listen: one that cannot be stored (its
		// session not known yet, the store down) is not worth VoIPBin's
		// retries, and without it the call listens in longer pauses.
		callID, err := svc.events.Speech(ctx, d.TranscribeID, speaker, typ == voipbin.EventSpeechEnded)
		if callID != "" {
			logs.Add(ctx, slog.String("call", callID))
		}
		if err != nil && !errors.Is(err, flow.ErrUnknownSession) {
			svc.log.WarnContext(ctx, "speech event not stored; taken anyway", "type", typ, "err", err)
		}
		return callID, nil
	case voipbin.EventCallHangup:
		if err := known(d.ID); err != nil {
			return "", err
		}
		return d.ID, svc.events.HungUp(ctx, d.ID, d.ID)
	case voipbin.EventRecordingFinished:
		return recordingFinished(ctx, svc, d, known)
	case voipbin.EventQueuecallServiced:
		if d.ReferenceType != "" && d.ReferenceType != "call" {
			return "", nil
		}
		if err := known(d.ReferenceID); err != nil {
			return "", err
		}
		// The fetch after the caller's queue_join reads it (handleHandoff).
		return d.ReferenceID, svc.store.Link(ctx, servicedLink+d.ReferenceID, d.ID)
	}
	return "", nil
}

// eventBounds lists what in an event of type typ is no VoIPBin id, or is
// text we will not store; a field left empty is data.Problems' to name.
func eventBounds(typ string, d voipbin.EventData) []string {
	var p []string
	id := func(field, v string) {
		if strings.TrimSpace(v) != "" {
			p = append(p, problemsOf(idProblem("data."+field, v))...)
		}
	}
	switch typ {
	case voipbin.EventTranscribeCreated:
		id("id", d.ID)
		if d.ReferenceType == "" || d.ReferenceType == "call" {
			id("reference_id", d.ReferenceID)
		}
		p = append(p, problemsOf(tokenProblem("data.language", d.Language, maxLanguage, languageByte))...)
	case voipbin.EventSpeechStarted, voipbin.EventSpeechInterim, voipbin.EventSpeechEnded:
		id("id", d.ID)
		id("transcribe_id", d.TranscribeID)
	case voipbin.EventTranscriptCreated:
		id("id", d.ID)
		id("transcribe_id", d.TranscribeID)
		// The whole message is checked; what is stored is clipped to flow.MaxTurnChars.
		p = append(p, problemsOf(textProblem("data.message", d.Message, 0))...)
	case voipbin.EventCallHangup:
		id("id", d.ID)
	case voipbin.EventQueuecallServiced:
		id("id", d.ID)
		if d.ReferenceType == "" || d.ReferenceType == "call" {
			id("reference_id", d.ReferenceID)
		}
	}
	return p
}
