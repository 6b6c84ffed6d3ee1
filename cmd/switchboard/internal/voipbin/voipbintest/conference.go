package voipbintest

// This file is the part of VoIPBin a handoff meets, played as VoIPBin's
// source has it (CONFORMANCE.md, "Handoffs"):
//
//   - POST /v1.0/conferences creates a conference, refused once the plan's
//     limit of conferences that exist is reached (bin-billing-manager
//     PlanLimitMap; a conference counts until it is deleted); a timeout of 1
//     to 59 s becomes a day (bin-conference-manager conferencehandler Create);
//     VoIPBin deletes nothing by itself unless a timeout was given;
//   - DELETE /v1.0/conferences/{id} kicks every member (conferencehandler
//     Terminating): each kicked call goes on in its flow after its
//     conference_join (bin-call-manager callhandler bridgeLeftJoin);
//   - in a "connect" conference, a member left alone when the other leaves is
//     kicked (bin-call-manager confbridgehandler Leaved);
//   - POST /v1.0/calls with inline actions places an outgoing call, refused
//     for a phone number without a verified identity (bin-api-manager
//     servicehandler CallCreate), without balance, to a country not in the
//     outbound whitelist, or from a caller ID that is neither a normal number
//     of the account nor its default outgoing number (bin-call-manager
//     callhandler CreateCallsOutgoing); an action type VoIPBin does not know,
//     or an option field it does not know, is refused;
//   - the person rung rings until they answer, are busy, fail, or the call is
//     hung up (POST /v1.0/calls/{id}/hangup: reason "cancel" while it rings)
//     or VoIPBin's 60 s dial timeout ends it ("dialout"); answering sends
//     call_progressing, and the inline actions run: talk, digits_receive,
//     fetch, and whatever the fetch answers (conference_join, hangup); every
//     end sends call_hangup with VoIPBin's hangup_reason (models/call
//     calculateHangupReasonDirectionOutgoing);
//   - POST /v1.0/calls/{id}/talk says a text over a live call without moving
//     its flow on (bin-call-manager callhandler media.go Talk, runNext
//     false): a caller in a conference hears it on hold. It is refused for a
//     call the stand-in does not know live (404: the caller's call is known
//     only while it is in a conference), a call that is over (400: its
//     channel is gone), and an empty text (400: nothing to speak).
//
// A leg's own transcript is kept apart and added to its caller's after the
// call (Result.Transcript ends with it), so transcripts stay the same from
// run to run however the goroutines interleave.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// How a person rung behaves; the default answers and takes the call.
const (
	PersonAccepts    = "accepts"    // answers, hears the whisper, presses 1
	PersonUnanswered = "unanswered" // rings until hung up or VoIPBin's dial timeout
	PersonBusy       = "busy"
	PersonFails      = "fails"    // the network cannot reach them
	PersonDeclines   = "declines" // answers and presses 2
	PersonSilent     = "silent"   // answers and presses nothing
	PersonHangsUp    = "hangs_up" // answers and puts the phone down during the whisper
)

// DialTimeout is VoIPBin's fixed dial timeout (bin-call-manager callhandler
// defaultDialTimeout).
const DialTimeout = 60 * time.Second

// Telephony is the account's calls and conferences. Set its fields before
// the calls start.
type Telephony struct {
	// ConferenceLimit is the plan's limit on conferences that exist: 2 on
	// the free plan, 10 basic, 100 professional; 0 is unlimited, and a
	// negative limit allows none.
	ConferenceLimit int
	// NoBalance refuses every outgoing call, as a balance too low does.
	NoBalance bool
	// People says how each destination (a target) behaves; anyone not in it
	// accepts. Person, when set, is asked instead, once per call placed.
	People map[string]string
	Person func(target string) string
	// Bases are the service's replicas: legs fetch from them and post their
	// events to them, in turn. Secret signs the events when set.
	Bases  []string
	Secret string
	// DialTimeout ends a leg nobody answers; zero is VoIPBin's 60 s.
	DialTimeout time.Duration
	// LoseEvents loses every event of the outgoing calls, as VoIPBin does
	// after three failed attempts.
	LoseEvents bool
	// TalkFails answers every REST talk 500, as VoIPBin does when the speech
	// could not be made (callhandler media.go Talk: TTSV1SpeecheCreate).
	TalkFails bool

	conferences map[string]*conference
	legs        map[string]*leg
	// waiting are callers whose flow waits in a digits_receive after their
	// message (leaveMessage): a REST talk reaches them, a REST hangup ends them.
	waiting  map[string]*waiter
	legsOf   map[string][]*leg // by the caller's call id (the variable switchboard.call_id)
	legsWG   sync.WaitGroup
	requests int
}

type conference struct {
	id, typ string
	timeout int
	deleted bool
	members []*member
}

// member is a call in a conference. Left receives why it was made to
// leave; joined the names of calls that joined after it.
type member struct {
	id, callID, name string // id: its conferencecall's
	conf             *conference
	left             chan string
	joined           chan string
	heard            chan string // what REST talks said to the call, as transcript lines
}

// leg is an outgoing call.
type leg struct {
	id, target, source, caller string
	status, reason             string
	actions                    []voipbin.Action
	mu                         sync.Mutex // guards lines
	lines                      []string
	hungUp                     chan struct{} // closed by the API's hangup
	in                         *member
}

// waiter is a caller waiting in their flow, reachable by REST talk and hangup.
type waiter struct {
	heard  chan string
	hungUp chan struct{}
}

// wait makes callID a caller waiting in their flow until unwait.
func (s *REST) wait(callID string) *waiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting == nil {
		s.waiting = map[string]*waiter{}
	}
	w := &waiter{heard: make(chan string, 8), hungUp: make(chan struct{})}
	s.waiting[callID] = w
	return w
}

func (s *REST) unwait(callID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.waiting, callID)
}

// Conferences returns the conferences that exist (not deleted): each one
// counts against the plan's limit.
func (s *REST) Conferences() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conferences {
		if !c.deleted {
			n++
		}
	}
	return n
}

// LiveCalls returns the outgoing calls not yet hung up.
func (s *REST) LiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.legs {
		if l.status != "hangup" {
			n++
		}
	}
	return n
}

// WaitCalls waits until every outgoing call has ended, or d passes.
func (s *REST) WaitCalls(d time.Duration) bool {
	done := make(chan struct{})
	go func() { s.legsWG.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// serveTelephony serves the conference and call routes; it reports whether
// route was one of them. s.mu is held.
func (s *REST) serveTelephony(w http.ResponseWriter, r *http.Request, route string) bool {
	p := r.URL.Path
	switch {
	case route == "POST /v1.0/conferences":
		s.createConference(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1.0/conferences/"):
		id, ok := s.pathID(w, r, "/v1.0/conferences/", "")
		if !ok {
			return true
		}
		c := s.conferences[id]
		if c == nil {
			s.refuse(w, http.StatusNotFound, "CONFERENCE_NOT_FOUND: no conference %s", id)
			return true
		}
		status, calls := "progressing", []string{}
		if c.deleted {
			status = "terminated"
		}
		for _, m := range c.members {
			calls = append(calls, m.id)
		}
		s.write(w, map[string]any{"id": id, "type": c.typ, "status": status, "conferencecall_ids": calls})
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1.0/calls/"):
		id, ok := s.pathID(w, r, "/v1.0/calls/", "")
		if !ok {
			return true
		}
		l := s.legs[id]
		if l == nil {
			return false // a callback's call, or none (callback.go answers 404)
		}
		s.write(w, map[string]string{"id": id, "status": l.status, "hangup_reason": l.reason})
	case r.Method == http.MethodDelete && strings.HasPrefix(p, "/v1.0/conferences/"):
		id, ok := s.pathID(w, r, "/v1.0/conferences/", "")
		if !ok {
			return true
		}
		c := s.conferences[id]
		if c == nil || c.deleted {
			s.refuse(w, http.StatusNotFound, "CONFERENCE_NOT_FOUND: no conference %s", id)
			return true
		}
		c.deleted = true
		for _, m := range c.members {
			kick(m, "the conference was deleted")
		}
		c.members = nil
		s.write(w, map[string]any{"id": id, "type": c.typ, "status": "terminated"})
	case route == "POST /v1.0/calls":
		s.dial(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/v1.0/calls/") && strings.HasSuffix(p, "/talk"):
		s.talk(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/v1.0/calls/") && strings.HasSuffix(p, "/hangup"):
		id, ok := s.pathID(w, r, "/v1.0/calls/", "/hangup")
		if !ok {
			return true
		}
		l := s.legs[id]
		if wt := s.waiting[id]; wt != nil && l == nil {
			select {
			case <-wt.hungUp:
				s.refuse(w, http.StatusBadRequest, "call %s is already over", id)
			default:
				close(wt.hungUp)
				s.write(w, map[string]string{"id": id, "status": "terminating"})
			}
			return true
		}
		switch {
		case l == nil:
			s.refuse(w, http.StatusNotFound, "CALL_NOT_FOUND: no call %s", id)
		case l.status == "hangup":
			s.refuse(w, http.StatusBadRequest, "call %s is already over", id)
		default:
			select {
			case <-l.hungUp:
			default:
				close(l.hungUp)
			}
			s.write(w, map[string]string{"id": id, "status": "terminating"})
		}
	default:
		return false
	}
	return true
}

// talk serves POST /v1.0/calls/{id}/talk on a caller in a conference or
// an outgoing call still up. s.mu is held.
func (s *REST) talk(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "/v1.0/calls/", "/talk")
	if !ok {
		return
	}
	var req struct{ Text, Language string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.refuse(w, http.StatusBadRequest, "INVALID_JSON_BODY: %v", err)
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		s.refuse(w, http.StatusBadRequest, "talk: no text to speak")
		return
	}
	if s.TalkFails {
		s.refuse(w, http.StatusInternalServerError, "could not create tts wav")
		return
	}
	if l := s.legs[id]; l != nil {
		if l.status == "hangup" {
			s.refuse(w, http.StatusBadRequest, "call %s is already over", id)
			return
		}
		l.logf("hears (%s), over the call: %s", req.Language, req.Text)
		s.write(w, map[string]string{"id": id})
		return
	}
	if wt := s.waiting[id]; wt != nil {
		select {
		case <-wt.hungUp:
			s.refuse(w, http.StatusBadRequest, "call %s is already over", id)
			return
		default:
		}
		select {
		case wt.heard <- fmt.Sprintf("talk (%s), over the wait: %s", req.Language, req.Text):
		default:
		}
		s.write(w, map[string]string{"id": id})
		return
	}
	for _, c := range s.conferences {
		for _, m := range c.members {
			if m.callID == id && !c.deleted {
				select {
				case m.heard <- fmt.Sprintf("talk (%s), over the hold: %s", req.Language, req.Text):
				default:
				}
				s.write(w, map[string]string{"id": id})
				return
			}
		}
	}
	s.refuse(w, http.StatusNotFound, "CALL_NOT_FOUND: no live call %s", id)
}

func (s *REST) createConference(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID         string         `json:"id"`
		Type       string         `json:"type"`
		Name       string         `json:"name"`
		Detail     string         `json:"detail"`
		Timeout    int            `json:"timeout"`
		Data       map[string]any `json:"data"`
		PreFlowID  string         `json:"pre_flow_id"`
		PostFlowID string         `json:"post_flow_id"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	if body.Type != "conference" && body.Type != voipbin.ConferenceConnect {
		s.refuse(w, http.StatusBadRequest, "conference type %q: want conference or connect", body.Type)
		return
	}
	exist := 0
	for _, c := range s.conferences {
		if !c.deleted {
			exist++
		}
	}
	if s.ConferenceLimit != 0 && exist >= max(s.ConferenceLimit, 0) {
		s.refuse(w, http.StatusBadRequest, "resource limit exceeded: %d conferences exist, the plan allows %d (deleted ones do not count)", exist, s.ConferenceLimit)
		return
	}
	if body.Timeout > 0 && body.Timeout < 60 {
		body.Timeout = 86400 // conferencehandler Create: a day
	}
	if s.conferences == nil {
		s.conferences = map[string]*conference{}
	}
	c := &conference{id: s.newID(), typ: body.Type, timeout: body.Timeout}
	s.conferences[c.id] = c
	s.write(w, map[string]any{"id": c.id, "type": c.typ, "status": "progressing", "timeout": c.timeout})
}

// countryOf is the whitelist country of a phone number, for the numbers tests use.
func countryOf(number string) string {
	for _, c := range []struct{ prefix, country string }{{"+1", "us"}, {"+44", "gb"}, {"+34", "es"}, {"+49", "de"}, {"+33", "fr"}, {"+82", "kr"}} {
		if strings.HasPrefix(number, c.prefix) {
			return c.country
		}
	}
	return "zz"
}

// outgoing is a POST /v1.0/calls that VoIPBin takes: the destination, the
// caller ID it shows, the inline actions and the variables.
type outgoing struct {
	to        Address
	source    string
	actions   []voipbin.Action
	variables map[string]string
}

// readOutgoing reads a POST /v1.0/calls and refuses it as VoIPBin does
// (bin-api-manager PostCalls, CallCreate; bin-call-manager callhandler
// CreateCallsOutgoing): one set of rules for a handoff's leg and a
// callback's calls. A PSTN destination needs a verified identity, balance,
// a country in the outbound whitelist and a caller ID the account owns
// (else its default outgoing number); an inline action must be one VoIPBin
// runs as sent, its option only fields VoIPBin knows.
func (s *REST) readOutgoing(w http.ResponseWriter, r *http.Request) (outgoing, bool) {
	var body struct {
		FlowID       string            `json:"flow_id"`
		Actions      []json.RawMessage `json:"actions"`
		Source       *Address          `json:"source"`
		Destinations []Address         `json:"destinations"`
		Anonymous    string            `json:"anonymous"`
		Variables    map[string]string `json:"variables"`
	}
	var o outgoing
	if s.Down {
		s.refuse(w, http.StatusServiceUnavailable, "VoIPBin is down")
		return o, false
	}
	if !s.decode(w, r, &body) {
		return o, false
	}
	if len(body.Destinations) != 1 {
		s.refuse(w, http.StatusBadRequest, "calls: want one destination, got %d", len(body.Destinations))
		return o, false
	}
	o.to, o.variables = body.Destinations[0], body.Variables
	for i, raw := range body.Actions {
		var a voipbin.Action
		if err := json.Unmarshal(raw, &a); err != nil {
			s.refuse(w, http.StatusBadRequest, "calls: actions[%d]: %v", i, err)
			return o, false
		}
		if err := checkAction(a); err != nil {
			s.refuse(w, http.StatusBadRequest, "calls: actions[%d]: %v", i, err)
			return o, false
		}
		o.actions = append(o.actions, a)
	}
	if len(o.actions) == 0 && body.FlowID == "" {
		s.refuse(w, http.StatusBadRequest, "calls: neither flow_id nor actions")
		return o, false
	}
	if body.Source != nil {
		o.source = body.Source.Target
	}
	if o.to.Type != voipbin.AddressTel {
		return o, true
	}
	switch {
	case s.Customer.IdentityVerificationStatus != "verified":
		s.refuse(w, http.StatusForbidden, "IDENTITY_VERIFICATION_REQUIRED: PSTN calls need a verified identity")
		return o, false
	case s.NoBalance:
		s.refuse(w, http.StatusPaymentRequired, "could not pass the balance validation")
		return o, false
	case !slices.Contains(s.Whitelist, countryOf(o.to.Target)):
		s.refuse(w, http.StatusBadRequest, "destination %s (%s) is not in the outbound whitelist %v", o.to.Target, countryOf(o.to.Target), s.Whitelist)
		return o, false
	}
	if !s.ownsCallerID(o.source) {
		def := ""
		for _, n := range s.Numbers {
			if n.ID == s.DefaultSource {
				def = n.Number
			}
		}
		if def == "" {
			s.refuse(w, http.StatusBadRequest, "caller ID %q is no normal number of the account and there is no default outgoing number", o.source)
			return o, false
		}
		o.source = def
	}
	return o, true
}

// dial plays a handoff's leg: an outgoing call whose person behaves as
// People (or Person) says.
func (s *REST) dial(w http.ResponseWriter, r *http.Request) {
	o, ok := s.readOutgoing(w, r)
	if !ok {
		return
	}
	to := o.to
	l := &leg{id: s.newID(), target: to.Target, source: o.source, caller: o.variables["switchboard.call_id"],
		status: "dialing", actions: o.actions, hungUp: make(chan struct{})}
	if s.legs == nil {
		s.legs, s.legsOf = map[string]*leg{}, map[string][]*leg{}
	}
	s.legs[l.id] = l
	s.legsOf[l.caller] = append(s.legsOf[l.caller], l)
	person := s.People[to.Target]
	if s.Person != nil {
		person = s.Person(to.Target)
	}
	switch person { // the network answers at once: the call is over before anyone reads it
	case PersonBusy:
		l.status, l.reason = "hangup", "busy"
	case PersonFails:
		l.status, l.reason = "hangup", "failed"
	}
	s.legsWG.Add(1)
	go s.play(l, person)
	s.write(w, map[string]any{"calls": []map[string]string{{"id": l.id, "status": "dialing", "direction": "outgoing"}}, "groupcalls": []any{}})
}

// ownsCallerID reports whether number is an active normal number of the account.
func (s *REST) ownsCallerID(number string) bool {
	for _, n := range s.Numbers {
		if n.Number == number && n.Type == "normal" && n.Status == "active" && !voipbin.Virtual(number) {
			return true
		}
	}
	return false
}

// checkAction refuses an inline action VoIPBin would not run as meant.
func checkAction(a voipbin.Action) error {
	raw, _ := json.Marshal(a.Option)
	var opt any
	switch a.Type {
	case voipbin.TypeTalk:
		opt = &voipbin.TalkOption{}
	case voipbin.TypeDigitsReceive:
		opt = &voipbin.DigitsReceiveOption{}
	case voipbin.TypeFetch:
		opt = &voipbin.FetchOption{}
	case voipbin.TypeHangup:
		opt = &voipbin.HangupOption{}
	case voipbin.TypeSleep:
		opt = &voipbin.SleepOption{}
	default:
		return fmt.Errorf("type %q is none the stand-in plays in an outgoing call", a.Type)
	}
	return decodeOption(a.Type, raw, opt)
}

// kick makes m leave its conference for why.
func kick(m *member, why string) {
	select {
	case m.left <- why:
	default:
	}
}

// join puts a call in a conference; it fails as VoIPBin's conference_join
// does for a conference that does not exist.
func (s *REST) join(confID, callID, name string) (*member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conferences[confID]
	if c == nil || c.deleted {
		return nil, fmt.Errorf("no conference %s", confID)
	}
	m := &member{id: s.newID(), callID: callID, name: name, conf: c, left: make(chan string, 1), joined: make(chan string, 4), heard: make(chan string, 8)}
	for _, o := range c.members {
		o.joined <- name
		m.joined <- o.name
	}
	c.members = append(c.members, m)
	return m, nil
}

// leave takes m out of its conference: in a connect conference, the one
// left alone is kicked.
func (s *REST) leave(m *member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := m.conf
	c.members = slices.DeleteFunc(c.members, func(o *member) bool { return o == m })
	if c.typ == voipbin.ConferenceConnect && len(c.members) == 1 {
		kick(c.members[0], m.name+" left: the connect conference's bridge ends")
		c.members = nil
	}
}

func (l *leg) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// play plays an outgoing call as its person behaves.
func (s *REST) play(l *leg, person string) {
	defer s.legsWG.Done()
	ctx := context.Background()
	l.logf("rings %s, caller ID %q", l.target, l.source)
	timeout := s.DialTimeout
	if timeout == 0 {
		timeout = DialTimeout
	}
	switch person {
	case PersonBusy:
		l.logf("busy")
		s.end(ctx, l, "busy")
		return
	case PersonFails:
		l.logf("cannot be reached")
		s.end(ctx, l, "failed")
		return
	case PersonUnanswered:
		select {
		case <-l.hungUp:
			l.logf("rings on until VoIPBin is told to hang up: cancelled")
			s.end(ctx, l, "cancel")
		case <-time.After(timeout):
			l.logf("nobody answers: VoIPBin's %v dial timeout ends it", timeout)
			s.end(ctx, l, "dialout")
		}
		return
	}
	select {
	case <-l.hungUp:
		l.logf("hung up by the API before anyone answered")
		s.end(ctx, l, "cancel")
		return
	case <-time.After(20 * time.Millisecond):
	}
	s.mu.Lock()
	l.status = "progressing"
	s.mu.Unlock()
	l.logf("answers")
	s.event(ctx, voipbin.EventCallProgressing, map[string]any{"id": l.id, "status": "progressing"})
	digits := ""
	acts := l.actions
	for len(acts) > 0 {
		select {
		case <-l.hungUp:
			l.logf("hung up by the API")
			s.end(ctx, l, "normal")
			return
		default:
		}
		a := acts[0]
		acts = acts[1:]
		raw, _ := json.Marshal(a.Option)
		switch a.Type {
		case voipbin.TypeTalk:
			var o voipbin.TalkOption
			_ = decodeOption(a.Type, raw, &o)
			if err := voipbin.CheckSpeakable(o.Text); err != nil {
				l.logf("talk SKIPPED, they hear nothing: %v", err)
				continue
			}
			l.logf("hears (%s): %s", o.Language, voipbin.Spoken(o.Text))
			if person == PersonHangsUp {
				l.logf("puts the phone down")
				s.end(ctx, l, "normal")
				return
			}
		case voipbin.TypeDigitsReceive:
			var o voipbin.DigitsReceiveOption
			_ = decodeOption(a.Type, raw, &o)
			switch person {
			case PersonDeclines:
				digits = "2"
			case PersonSilent:
			default:
				digits = "1"
			}
			if digits == "" {
				l.logf("presses nothing in %d ms", o.Duration)
			} else {
				l.logf("presses %s", digits)
			}
		case voipbin.TypeFetch:
			var o voipbin.FetchOption
			if err := decodeOption(a.Type, raw, &o); err != nil {
				l.logf("FETCH OPTION REFUSED: %v", err)
				s.end(ctx, l, "normal")
				return
			}
			next, err := s.fetch(ctx, l, strings.ReplaceAll(o.EventURL, voipbin.Var(voipbin.VarDigits), digits))
			if err != nil {
				l.logf("FETCH FAILED: %v; VoIPBin hangs the call up", err)
				s.end(ctx, l, "normal")
				return
			}
			acts = append(next, acts...)
		case voipbin.TypeConferenceJoin:
			var o voipbin.ConferenceJoinOption
			if err := decodeOption(a.Type, raw, &o); err != nil {
				l.logf("CONFERENCE_JOIN OPTION REFUSED: %v", err)
				s.end(ctx, l, "normal")
				return
			}
			m, err := s.join(o.ConferenceID, l.id, l.target)
			if err != nil {
				l.logf("CONFERENCE_JOIN FAILED (%v): VoIPBin hangs the call up", err)
				s.end(ctx, l, "normal")
				return
			}
			s.mu.Lock()
			l.in = m
			s.mu.Unlock()
			l.logf("joins the caller's conference")
			why := <-m.left
			l.logf("leaves the conference: %s", why)
			s.leave(m) // when they hung up, the caller left alone is let go
			s.mu.Lock()
			l.in = nil
			s.mu.Unlock()
		case voipbin.TypeHangup:
			l.logf("hangs up")
			s.end(ctx, l, "normal")
			return
		case voipbin.TypeSleep:
		default:
			l.logf("%s: unknown to VoIPBin, skipped", a.Type)
		}
	}
	l.logf("the flow ended: VoIPBin hangs up")
	s.end(ctx, l, "normal")
}

// end hangs a leg up with reason and tells the webhook.
func (s *REST) end(ctx context.Context, l *leg, reason string) {
	s.mu.Lock()
	l.status, l.reason = "hangup", reason
	m := l.in
	s.mu.Unlock()
	if m != nil {
		s.leave(m)
	}
	s.event(ctx, voipbin.EventCallHangup, map[string]any{"id": l.id, "status": "hangup", "hangup_reason": reason})
}

// base is the replica the next request goes to.
func (s *REST) base() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.Bases) == 0 {
		return ""
	}
	b := s.Bases[s.requests%len(s.Bases)]
	s.requests++
	return strings.TrimSuffix(b, "/")
}

// fetch is a leg's fetch: its URL's path and query go to the service.
func (s *REST) fetch(ctx context.Context, l *leg, eventURL string) ([]voipbin.Action, error) {
	u, err := url.Parse(eventURL)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(voipbin.FetchRequest{ActiveflowID: uuid.NewString(), ReferenceID: l.id})
	fctx, cancel := context.WithTimeout(ctx, voipbin.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodPost, s.base()+u.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered %d: %s", resp.StatusCode, b)
	}
	acts, err := voipbin.Actions(b)
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		if id, err := uuid.Parse(a.ID); err != nil || id == uuid.Nil {
			return nil, fmt.Errorf("action %s has a bad id %q", a.Type, a.ID)
		}
	}
	return acts, nil
}

// event posts an event to the webhook as VoIPBin does, retried on a 5xx.
func (s *REST) event(ctx context.Context, typ string, data map[string]any) {
	if s.LoseEvents {
		return
	}
	body, _ := json.Marshal(map[string]any{"type": typ, "data": data})
	for attempt := 1; attempt <= voipbin.EventAttempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base()+voipbin.EventsPath, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if s.Secret != "" {
			req.Header.Set(voipbin.SignatureHeader, voipbin.Sign(s.Secret, body))
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// conferenceJoin plays the caller in a conference: on hold until someone
// joins them, the conference is deleted, or the caller hangs up.
func (c *call) conferenceJoin(ctx context.Context, confID string) error {
	s := c.opt.REST
	if s == nil {
		c.logf("CALL FAILED: conference_join with no conferences on this account (Options.REST unset); the caller is hung up")
		return errEnded
	}
	if err := c.count(1); err != nil { // the confbridge_join VoIPBin pushes
		return err
	}
	m, err := s.join(confID, c.opt.CallID, "caller")
	if err != nil {
		c.logf("CALL FAILED: conference_join: %v; the caller is hung up", err)
		return errEnded
	}
	c.logf("  conference_join: the caller waits on hold")
	if len(c.steps) > 0 && c.steps[0].Hangup && c.steps[0].During == "conference_join" {
		c.steps = c.steps[1:]
		// They hang up while someone is rung for them (or after a second).
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			s.mu.Lock()
			ringing := slices.ContainsFunc(s.legsOf[c.opt.CallID], func(l *leg) bool { return l.status != "hangup" })
			s.mu.Unlock()
			if ringing {
				break
			}
		}
		c.logf("caller hangs up while on hold")
		s.leave(m)
		if err := c.event(ctx, voipbin.EventCallHangup, map[string]any{"id": c.opt.CallID, "hangup_reason": "normal"}); err != nil {
			return err
		}
		return errEnded
	}
	bound := 2 * DialTimeout
	if s.DialTimeout > 0 {
		bound = 2 * s.DialTimeout
	}
	hold := time.NewTimer(bound)
	defer hold.Stop()
	// heard logs what the caller was told on hold before what came next:
	// the talk was answered before the try's end moved anything.
	heard := func() {
		for {
			select {
			case line := <-m.heard:
				c.logf("  %s", line)
			default:
				return
			}
		}
	}
	for {
		select {
		case line := <-m.heard:
			c.logf("  %s", line)
		case who := <-m.joined:
			heard()
			if c.res.Connected != "" {
				return fmt.Errorf("call %s: %s joined after a conversation with %s", c.opt.CallID, who, c.res.Connected)
			}
			c.logf("%s joins: the caller talks to them", who)
			c.res.Connected = who
			if err := c.talkToHuman(ctx); err != nil {
				return err
			}
			c.logf("%s hangs up", who)
			s.mu.Lock()
			for _, o := range m.conf.members {
				if o.name == who {
					kick(o, "they hung up")
				}
			}
			s.mu.Unlock()
		case why := <-m.left:
			heard()
			c.logf("  (the caller leaves the conference: %s; VoIPBin goes on after the conference_join)", why)
			return nil
		case <-hold.C:
			c.logf("CALLER LEFT WAITING: on hold for %v and nobody came or let them go", bound)
			return errors.New("caller left waiting in a conference")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// finishLegs waits for the call's outgoing calls to end and adds what each
// person heard and did to the transcript.
func (c *call) finishLegs() {
	s := c.opt.REST
	if s == nil {
		return
	}
	deadline := time.Now().Add(2 * DialTimeout)
	for {
		s.mu.Lock()
		legs := slices.Clone(s.legsOf[c.opt.CallID])
		live := slices.ContainsFunc(legs, func(l *leg) bool { return l.status != "hangup" })
		s.mu.Unlock()
		if !live || time.Now().After(deadline) {
			for _, l := range legs {
				l.mu.Lock()
				lines := slices.Clone(l.lines)
				l.mu.Unlock()
				c.logf("leg to %s:", l.target)
				for _, line := range lines {
					c.logf("  %s", line)
				}
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Hangups counts the outgoing calls by how they ended (their hangup_reason;
// "up" for those not over).
func (s *REST) Hangups() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, l := range s.legs {
		r := l.reason
		if l.status != "hangup" {
			r = "up"
		}
		out[r]++
	}
	return out
}

// Own adds number to the account as an active normal number, which VoIPBin
// accepts as the caller ID of its outgoing calls.
func (s *REST) Own(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Numbers = append(s.Numbers, Number{ID: s.newID(), Number: number, Type: "normal", CallFlowID: NilID, MessageFlowID: NilID, Status: "active"})
}
