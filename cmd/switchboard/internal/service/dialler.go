package service

// Callbacks callers asked for: the dialler that places them at the
// department's opening and the fetch of the department's leg (the
// `switchboard callbacks` command is callbacks.go). Every replica runs the dialler; the
// store's claim gives each callback to one of them at a time, so each
// attempt is dialled once.
//
// An attempt calls the department first (POST /v1.0/calls with inline
// actions): it hears who to call back and why, and presses 1; its fetch then
// puts it in a conference and calls the customer, showing the business's
// number, with inline actions of their own: the customer hears who is calling
// back ("Hello, this is Billing calling you back about your call at 19:40."),
// and their fetch joins them to the department's conference. A connect
// action could not do this: its callee only joins the bridge (CONFORMANCE.md,
// "Callbacks"). No 1 within the answer window (declined, not answered,
// refused) is an outcome, and the callback is tried again after the
// configured pause, at an opening.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/flow"
)

// dialler places the callbacks that are due.
type dialler struct {
	callbacks flow.Callbacks
	api       *voipbin.Client // nil: no access key, nothing can be dialled
	config    func() *flow.Config
	// fetchURL is where the department's leg fetches: the public URL and the token.
	fetchURL func() voipbin.FetchURL
	log      *slog.Logger
	now      func() time.Time
	// every is how often due callbacks are looked for; answerWindow how long
	// the department has to take a callback before the attempt counts as not taken.
	every, answerWindow time.Duration
	// count counts an attempt's outcome.
	count func(outcome string)
}

func newDialler(svc *Service, api *voipbin.Client) *dialler {
	return &dialler{callbacks: svc.callbacks, api: api, config: func() *flow.Config { return svc.routing().cfg },
		fetchURL: func() voipbin.FetchURL {
			return voipbin.FetchURL{Base: svc.conf.PublicURL, Path: voipbin.CallbackPath, Token: svc.conf.FetchToken}
		},
		log: svc.log, now: time.Now, every: time.Second, answerWindow: 2 * time.Minute,
		count: func(outcome string) { svc.metrics.callbacks.WithLabelValues(outcome).Inc() }}
}

// run dials what is due until ctx ends.
func (d *dialler) run(ctx context.Context) {
	poll(ctx, d.every, func(ctx context.Context) { d.drain(ctx) })
}

// drain handles every callback due now and returns how many it handled.
func (d *dialler) drain(ctx context.Context) int {
	return drainDue(ctx, func(ctx context.Context) (flow.Callback, bool, error) {
		return d.callbacks.Claim(ctx, d.now(), d.answerWindow)
	},
		func(cb flow.Callback) { d.attempt(ctx, cb) },
		func(err error) { d.log.WarnContext(ctx, "callbacks: store unreachable; trying again", "err", err) })
}

// attempt dials cb, or, when its last attempt was never taken within the
// answer window, books the outcome and its retry.
func (d *dialler) attempt(ctx context.Context, cb flow.Callback) {
	cfg := d.config().Routing
	now := d.now()
	if cb.State == flow.CallbackDialling { // the window ran out: nobody took it
		d.count("not_taken")
		d.settle(ctx, cb, "not taken by "+cb.Label)
		return
	}
	leg, err := d.dial(ctx, cb, &cfg)
	if err != nil {
		var apiErr *voipbin.APIError
		if errors.As(err, &apiErr) && !apiErr.Retryable() {
			// VoIPBin will refuse it again: `check` says why before it happens.
			cb.Attempts++
			cb.State, cb.Outcomes = flow.CallbackFailed, append(cb.Outcomes, stamp(now)+" refused: "+apiErr.Error())
			d.log.ErrorContext(ctx, "callback refused by VoIPBin; it will not be tried again", "callback", cb.ID, "err", err)
			d.count("refused")
			d.release(ctx, cb, now)
			return
		}
		d.log.WarnContext(ctx, "callback not dialled; trying again", "callback", cb.ID, "err", err)
		d.count("retry")
		d.release(ctx, cb, now.Add(time.Minute))
		return
	}
	cb.Attempts++
	cb.State, cb.Leg = flow.CallbackDialling, leg
	d.log.InfoContext(ctx, "callback dialled", "callback", cb.ID, "department", cb.Department, "attempt", cb.Attempts)
	d.count("dialled")
	d.release(ctx, cb, now.Add(d.answerWindow))
}

// settle books an attempt that did not connect and when the next is due:
// after the configured pause, at an opening; none left: failed.
func (d *dialler) settle(ctx context.Context, cb flow.Callback, outcome string) {
	cfg := d.config().Routing
	now := d.now()
	cb.Outcomes = append(cb.Outcomes, stamp(now)+" "+outcome)
	cb.State, cb.Leg = flow.CallbackWaiting, ""
	retries := []int{900000}
	if cfg.Messages != nil {
		retries = cfg.Messages.CallbackRetryMS
	}
	if cb.Attempts > len(retries) {
		cb.State = flow.CallbackFailed
		d.log.WarnContext(ctx, "callback failed: every attempt was used", "callback", cb.ID, "department", cb.Department, "attempts", cb.Attempts)
		d.count("failed")
		d.release(ctx, cb, now)
		return
	}
	next := cfg.NextOpening(cb.Department, now.Add(time.Duration(retries[cb.Attempts-1])*time.Millisecond))
	d.release(ctx, cb, next)
}

func (d *dialler) release(ctx context.Context, cb flow.Callback, next time.Time) {
	keep := 30 * 24 * time.Hour
	if m := d.config().Routing.Messages; m != nil {
		keep = m.Keep()
	}
	if err := d.callbacks.Release(ctx, cb, next, keep); err != nil {
		d.log.WarnContext(ctx, "callback progress not saved; its lease runs out and it is handled again", "callback", cb.ID, "err", err)
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// dial calls the department with the whisper and a key to take the callback.
func (d *dialler) dial(ctx context.Context, cb flow.Callback, cfg *flow.Routing) (string, error) {
	if d.api == nil {
		return "", errors.New("VOIPBIN_ACCESSKEY is not set: nothing can be dialled")
	}
	dept, ok := cfg.Department(cb.Department)
	if !ok {
		dept, _ = cfg.Department(cfg.Fallback.Destination)
	}
	to := dept.Destination()
	if to.Kind == flow.ToQueue {
		return "", &voipbin.APIError{Method: "POST", Path: "/v1.0/calls", Status: http.StatusBadRequest, Body: "a queue cannot be called: give the department a number, SIP address, extension or agent"}
	}
	texts := flow.Messages{}
	if cfg.Messages != nil {
		texts = *cfg.Messages
	}
	dt, lang := texts.DepartmentTexts(cb.Language, cfg.Language)
	whisper := d.whisper(cb, dt.Whisper, cfg)
	from := cmpOr(cfg.CallerIDFor(dept), cb.Dialled)
	next := d.fetchURL()
	next.CB, next.Digits = cb.ID, voipbin.Var(voipbin.VarDigits)
	acts := []voipbin.Action{
		{ID: newID(), Type: voipbin.TypeTalk, Option: voipbin.Talk(whisper, lang)},
		{ID: newID(), Type: voipbin.TypeDigitsReceive, Option: voipbin.DigitsReceiveOption{Duration: 8000, Length: 1}},
		{ID: newID(), Type: voipbin.TypeFetch, Option: voipbin.FetchOption{
			EventURL: next.String(), EventMethod: "POST"}},
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return d.api.DialCallback(ctx, voipbin.Address{Type: string(to.Kind), Target: to.Target}, from, acts)
}

// whisper is what the department hears: who, when, why.
func (d *dialler) whisper(cb flow.Callback, text string, cfg *flow.Routing) string {
	reason := "nothing they said"
	if n := len(cb.Said); n > 0 {
		reason = clipWords(cb.Said[n-1], 20)
	}
	return strings.NewReplacer("{number}", spellNumber(cb.Number), "{time}", d.calledAt(cb, cfg),
		"{reason}", reason).Replace(text)
}

// calledAt is when the customer called, on the business's clock ("19:40").
func (d *dialler) calledAt(cb flow.Callback, cfg *flow.Routing) string {
	loc := time.UTC
	if cfg.Hours != nil && cfg.Hours.Location() != nil {
		loc = cfg.Hours.Location()
	}
	return time.UnixMilli(cb.AtMS).In(loc).Format("15:04")
}

// spellNumber says a number digit by digit.
func spellNumber(n string) string {
	return strings.Join(strings.Split(strings.TrimPrefix(n, "+"), ""), " ")
}

func clipWords(s string, n int) string {
	w := strings.Fields(s)
	if len(w) > n {
		w = append(w[:n], "...")
	}
	return strings.Join(w, " ")
}

func cmpOr(a, b string) string {
	if a != "" && !strings.Contains(a, "${") {
		return a
	}
	return b
}

// handleCallbackFetch answers the department's leg after the whisper: 1
// connects it to the customer (once: the callback is then connected);
// anything else ends the leg, and the callback is tried again later.
func handleCallbackFetch(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := voipbin.ParseFetchURL(r.URL.Query())
		if !validToken(svc.conf.FetchToken, q.Token) {
			writeProblem(w, http.StatusUnauthorized, "bad or missing fetch token (?t=)")
			return
		}
		var req voipbin.FetchRequest
		if err := decodeJSON(w, r, &req); err != nil {
			writeBodyProblem(w, "invalid fetch body", err)
			return
		}
		id, key := q.CB, strings.TrimSpace(q.Digits)
		conf := ""
		if q.Conf != "" {
			conf = idProblem("conf", q.Conf)
		}
		if p := problemsOf(idProblem("cb", id), idProblem("reference_id", req.ReferenceID), conf); len(p) > 0 {
			writeProblem(w, http.StatusBadRequest, "invalid callback fetch", p...)
			return
		}
		hangup := func(text, lang string) {
			acts := []voipbin.Action{{ID: newID(), Type: voipbin.TypeHangup, Option: voipbin.HangupOption{Reason: "normal"}}}
			if text != "" {
				acts = append([]voipbin.Action{{ID: newID(), Type: voipbin.TypeTalk, Option: voipbin.Talk(text, lang)}}, acts...)
			}
			writeJSON(w, http.StatusOK, acts)
		}
		cb, ok, err := svc.callbacks.Get(r.Context(), id)
		if err != nil {
			svc.log.ErrorContext(r.Context(), "callback unreadable; the department's leg is ended and the callback tried again", "callback", id, "err", err)
			hangup("Sorry, this callback cannot be placed now. It will be tried again.", "en-US")
			return
		}
		if q.Conf != "" && q.Left { // either side after the conversation: its conference goes
			if ok && cb.State == flow.CallbackConnected {
				svc.dialler.endConference(r.Context(), q.Conf)
			}
			hangup("", "")
			return
		}
		cfg := svc.routing().cfg.Routing
		texts := flow.Messages{}
		if cfg.Messages != nil {
			texts = *cfg.Messages
		}
		// dt is what the department's person hears.
		dt, dlang := texts.DepartmentTexts(cb.Language, cfg.Language)
		if q.Conf != "" { // the customer's leg, told who is calling back
			if !ok || cb.State != flow.CallbackConnected || cb.Leg != req.ReferenceID {
				hangup(texts.CalleeFailedFor(cb.Language, cfg.Language))
				return
			}
			writeJSON(w, http.StatusOK, svc.dialler.join(cb.ID, q.Conf))
			return
		}
		// Only the leg of the attempt in progress may take it, once.
		if !ok || cb.State != flow.CallbackDialling || cb.Leg != req.ReferenceID {
			hangup(dt.CallbackGone, dlang)
			return
		}
		now := time.Now()
		if key != "1" {
			svc.dialler.count("declined")
			svc.dialler.settle(r.Context(), cb, map[bool]string{true: "declined by " + cb.Label, false: "no key from " + cb.Label}[key != ""])
			hangup(dt.CallbackLater, dlang)
			return
		}
		conf, leg, err := svc.dialler.callCustomer(r.Context(), cb)
		if err != nil {
			svc.log.WarnContext(r.Context(), "callback: the customer could not be called; trying again later", "callback", id, "err", err)
			svc.dialler.count("customer_not_called")
			svc.dialler.settle(r.Context(), cb, "customer not called: "+err.Error())
			hangup(dt.CallbackUnreachable, dlang)
			return
		}
		cb.State, cb.Leg = flow.CallbackConnected, leg
		cb.Outcomes = append(cb.Outcomes, stamp(now)+" connected by "+cb.Label)
		if err := svc.callbacks.Release(r.Context(), cb, now, 30*24*time.Hour); err != nil {
			svc.log.ErrorContext(r.Context(), "callback not marked connected; connecting anyway", "callback", id, "err", err)
		}
		svc.log.InfoContext(r.Context(), "callback connected", "callback", id, "department", cb.Department, "attempt", cb.Attempts)
		svc.dialler.count("connected")
		writeJSON(w, http.StatusOK, append([]voipbin.Action{
			{ID: newID(), Type: voipbin.TypeTalk, Option: voipbin.Talk(dt.CallbackCalling, dlang)}},
			svc.dialler.join(cb.ID, conf)...))
	}
}

// join puts a leg of a callback in its conference; once the conversation
// is over (a connect conference lets the other go when one leaves), its
// fetch deletes the conference, which would otherwise count against the
// plan's conferences (bin-conference-manager conferencehandler
// RemoveConferencecallID keeps it).
func (d *dialler) join(cb, conf string) []voipbin.Action {
	after := d.fetchURL()
	after.CB, after.Conf, after.Left = cb, conf, true
	return []voipbin.Action{
		{ID: newID(), Type: voipbin.TypeConferenceJoin, Option: voipbin.ConferenceJoinOption{ConferenceID: conf}},
		{ID: newID(), Type: voipbin.TypeFetch, Option: voipbin.FetchOption{EventURL: after.String(), EventMethod: "POST"}},
	}
}

// endConference deletes a callback's conference; the second leg to end
// finds it gone.
func (d *dialler) endConference(ctx context.Context, conf string) {
	if d.api == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var apiErr *voipbin.APIError
	if err := d.api.DeleteConference(ctx, conf); err != nil && !(errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound) {
		d.log.WarnContext(ctx, "callback: conference not deleted", "conference", conf, "err", err)
	}
}

// callCustomer puts the department's leg's conference up and calls the
// customer, showing the number they called: they hear who is calling back,
// then their fetch joins them to the conference. It returns the conference
// and the customer's call.
func (d *dialler) callCustomer(ctx context.Context, cb flow.Callback) (conf, leg string, err error) {
	if d.api == nil {
		return "", "", errors.New("VOIPBIN_ACCESSKEY is not set: nothing can be dialled")
	}
	cfg := d.config().Routing
	texts := flow.Messages{}
	if cfg.Messages != nil {
		texts = *cfg.Messages
	}
	text, lang := texts.CalleeIntroFor(cb.Language, cfg.Language)
	intro := strings.NewReplacer("{department}", cb.Label, "{time}", d.calledAt(cb, &cfg)).Replace(text)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := d.api.CreateConference(ctx, "callback "+cb.ID)
	if err != nil {
		return "", "", err
	}
	next := d.fetchURL()
	next.CB, next.Conf = cb.ID, c.ID
	leg, err = d.api.DialCallback(ctx, voipbin.Address{Type: voipbin.AddressTel, Target: cb.Number}, cb.Dialled, []voipbin.Action{
		{ID: newID(), Type: voipbin.TypeTalk, Option: voipbin.Talk(intro, lang)},
		{ID: newID(), Type: voipbin.TypeFetch, Option: voipbin.FetchOption{EventURL: next.String(), EventMethod: "POST"}},
	})
	if err != nil {
		if derr := d.api.DeleteConference(ctx, c.ID); derr != nil {
			d.log.WarnContext(ctx, "callback: conference left behind", "conference", c.ID, "err", derr)
		}
		return "", "", err
	}
	return c.ID, leg, nil
}

func newID() string { return uuid.NewString() }
