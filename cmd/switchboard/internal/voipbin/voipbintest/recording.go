package voipbintest

// Recordings, their transcription, SMS and email, as VoIPBin plays them
// (CONFORMANCE.md, "Messages after hours"):
//
//   - beep plays a tone; recording_start starts the recording and moves on
//     at once (the recording runs on in the background), setting
//     ${voipbin.recording.id}; it fails (and the flow moves on, the variable
//     unset) when a recording already runs on the call (only recording_stop
//     clears it) or the account has no balance; beep_start is not VoIPBin's
//     to play, so it is refused here as an unknown option;
//   - the recording hears whatever the caller says while it runs (the
//     call's live transcription hears it too) and ends on its end_of_key, on
//     end_of_silence seconds of silence, at its duration, or when the caller
//     hangs up; a digits_receive meanwhile waits for its own key or duration,
//     whatever the recording does;
//   - recording_finished is sent before the files are stored: a
//     transcription asked for before then finds nothing, and VoIPBin keeps
//     answering that first, empty transcription for the recording;
//   - POST /v1.0/transcribes for a recording transcribes it in the request;
//     GET /v1.0/transcripts lists its lines; POST /v1.0/messages and
//     POST /v1.0/emails are refused without destinations, for an address
//     that is not one, without identity verification or without balance.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// Recorder is the account's side of a call's recordings: the REST stand-in
// keeps them, so that a transcription asked for later finds what the caller said.
type Recorder interface {
	// StartRecording makes a recording for the call from caller to dialled,
	// or says why VoIPBin refuses it.
	StartRecording(callID, caller, dialled string) (string, error)
	// Recorded adds what the caller said during the recording.
	Recorded(id, words string)
	// StopRecording ends the recording; its files are stored a moment later.
	StopRecording(id string)
}

// recording is a recording running on a simulated call.
type recording struct {
	id        string
	endKey    string
	silenceMS int
	maxMS     int
	ended     bool
}

// recordingAction plays the recording actions and a digits_receive while a
// recording runs; handled is false for any other action.
func (c *call) recordingAction(ctx context.Context, typ string, raw []byte) (handled bool, err error) {
	switch typ {
	case voipbin.TypeBeep:
		if len(raw) > 0 && string(raw) != "null" && string(raw) != "{}" {
			return true, fmt.Errorf("action beep takes no option: %s", raw)
		}
		c.logf("  beep")
		return true, nil
	case voipbin.TypeRecordingStart:
		var o voipbin.RecordingStartOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return true, err
		}
		if c.rec != nil {
			c.logf("  recording_start FAILED: a recording already runs on the call (VoIPBin moves on)")
			return true, nil
		}
		// Without a Recorder, the id is the same for every call at that action: goldens stay the same whatever the call id.
		id := WireID(fmt.Sprint("recording-at-action-", c.res.Actions))
		if c.opt.Recorder != nil {
			if id, err = c.opt.Recorder.StartRecording(c.opt.CallID, c.opt.Caller, c.opt.Dialled); err != nil {
				c.logf("  recording_start FAILED: %v (VoIPBin moves on)", err)
				return true, nil
			}
		}
		c.rec = &recording{id: id, endKey: o.EndOfKey, silenceMS: o.EndOfSilence * 1000, maxMS: o.Duration * 1000}
		c.vars[voipbin.VarRecordingID] = id
		c.logf("  recording_start %s, ends on %q, %d s of silence or %d s", o.Format, o.EndOfKey, o.EndOfSilence, o.Duration)
		return true, c.event(ctx, voipbin.EventRecordingStarted, c.recordingData("recording"))
	case voipbin.TypeRecordingStop:
		if len(raw) > 0 && string(raw) != "null" && string(raw) != "{}" {
			return true, fmt.Errorf("action recording_stop takes no option: %s", raw)
		}
		c.logf("  recording_stop")
		if c.rec == nil {
			c.logf("  (no recording runs: VoIPBin logs it and moves on)")
			return true, nil
		}
		err := c.endRecording(ctx, "stopped")
		c.rec = nil
		return true, err
	case voipbin.TypeDigitsReceive:
		if c.rec == nil || c.rec.ended {
			return false, nil
		}
		var o voipbin.DigitsReceiveOption
		if err := decodeOption(typ, raw, &o); err != nil {
			return true, err
		}
		c.logf("  digits_receive %d ms, length %d%s (while recording)", o.Duration, o.Length, keyNote(o.Key))
		return true, c.leaveMessage(ctx, o)
	}
	return false, nil
}

// leaveMessage plays the caller's message during a digits_receive while the
// recording runs: the words they say go into the recording (and to the
// live transcription); then a key, silence or a hangup ends it.
func (c *call) leaveMessage(ctx context.Context, o voipbin.DigitsReceiveOption) error {
	spoke := 0
	for len(c.steps) > 0 && c.steps[0].Say != "" {
		s := c.steps[0]
		c.steps = c.steps[1:]
		c.logf("caller (into the recording): %s", s.Say)
		if c.opt.Recorder != nil {
			c.opt.Recorder.Recorded(c.rec.id, s.Say)
		}
		spoke += s.speakMS()
		if err := c.say(ctx, s); err != nil {
			return err
		}
	}
	if spoke > c.rec.maxMS && c.rec.maxMS > 0 {
		spoke = c.rec.maxMS
	}
	if err := c.advance(ctx, spoke); err != nil {
		return err
	}
	switch {
	case len(c.steps) > 0 && c.steps[0].Hangup:
		c.steps = c.steps[1:]
		c.logf("caller hangs up")
		if err := c.endRecording(ctx, "the caller hung up"); err != nil {
			return err
		}
		if err := c.event(ctx, voipbin.EventCallHangup, map[string]any{"id": c.opt.CallID, "hangup_reason": "normal"}); err != nil {
			return err
		}
		return errEnded
	case len(c.steps) > 0 && c.steps[0].Press != "":
		keys := c.steps[0].Press
		c.steps = c.steps[1:]
		c.logf("caller presses %s", keys)
		c.vars[digitsVariable] += keys
		if c.rec.endKey != "" && strings.ContainsAny(keys, c.rec.endKey) {
			if err := c.endRecording(ctx, "its end key"); err != nil {
				return err
			}
		}
		if done(c.vars[digitsVariable], o.Length, o.Key) {
			return nil
		}
	case len(c.steps) > 0 && c.steps[0].Silent:
		c.steps = c.steps[1:]
		c.logf("caller is silent")
	}
	// Silence ends the recording, but not the digits_receive: it waits on,
	// unless the account's REST API talks to the caller or hangs them up.
	if !c.rec.ended {
		if err := c.advance(ctx, min(c.rec.silenceMS, max(o.Duration-spoke, 0))); err != nil {
			return err
		}
		var w *waiter
		if c.opt.REST != nil {
			w = c.opt.REST.wait(c.opt.CallID)
			defer c.opt.REST.unwait(c.opt.CallID)
		}
		if err := c.endRecording(ctx, "silence"); err != nil {
			return err
		}
		if w != nil {
			if ended, err := c.waitForREST(ctx, w); ended || err != nil {
				return cmp.Or(err, errEnded)
			}
		}
	}
	c.logf("  (the digits_receive waits out its %d ms)", o.Duration)
	return c.advance(ctx, max(o.Duration-spoke-c.rec.silenceMS, 0))
}

// restWait is how long, in real time, a caller waiting in their flow after
// their message listens for the account's REST API before the wait plays on.
const restWait = 2 * time.Second

// waitForREST plays what the account's REST API does to a caller waiting
// in their flow: talks are heard, a hangup ends the call (VoIPBin then sends
// call_hangup). It reports whether the call ended.
func (c *call) waitForREST(ctx context.Context, w *waiter) (bool, error) {
	deadline := time.NewTimer(restWait)
	defer deadline.Stop()
	for {
		select {
		case line := <-w.heard:
			c.logf("  %s", line)
		case <-w.hungUp:
			for len(w.heard) > 0 {
				c.logf("  %s", <-w.heard)
			}
			c.logf("  (hung up by the account: POST /v1.0/calls/{id}/hangup)")
			return true, c.event(ctx, voipbin.EventCallHangup, map[string]any{"id": c.opt.CallID, "hangup_reason": "normal"})
		case <-deadline.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// endRecording ends the running recording and says so, as VoIPBin does,
// before its files are stored.
func (c *call) endRecording(ctx context.Context, why string) error {
	if c.rec == nil || c.rec.ended {
		return nil
	}
	c.rec.ended = true
	c.logf("  (the recording ends: %s)", why)
	if c.opt.Recorder != nil {
		c.opt.Recorder.StopRecording(c.rec.id)
	}
	return c.event(ctx, voipbin.EventRecordingFinished, c.recordingData("ended"))
}

func (c *call) recordingData(status string) map[string]any {
	return map[string]any{"id": c.rec.id, "reference_type": "call", "reference_id": c.opt.CallID, "status": status,
		"activeflow_id": c.vars["voipbin.activeflow.id"]}
}

// Recording is a recording the account holds.
type Recording struct {
	ID, CallID string
	Words      []string
	// Stored is set once its files are stored, a moment after it ended.
	Stored  bool
	stopped bool
}

// messaging is the account's recordings and what it sent.
type messaging struct {
	Recordings []*Recording
	SMSes      []SMS
	Emails     []Email
	// CallbackDials are the callbacks' outgoing calls (callback.go).
	CallbackDials []CallbackDial
	// NoBalanceForMessages refuses recordings, SMS and email (NoBalance, the
	// calls); Down answers 503 to them and to calls (VoIPBin unreachable); SlowStorage
	// stores a recording's files only at StoreFiles, as VoIPBin stores them
	// after it said the recording finished.
	NoBalanceForMessages, Down, SlowStorage bool
	recordingTranscribes                    map[string]*recordingTranscribe
	calls                                   map[string][2]string // a call's caller and dialled numbers
}

// SMS and Email are what the account sent.
type SMS struct {
	From string   `json:"from"`
	To   []string `json:"to"`
	Text string   `json:"text"`
}

// Email is an email the account sent.
type Email struct {
	To          []string `json:"to"`
	Subject     string   `json:"subject"`
	Content     string   `json:"content"`
	Attachments []string `json:"attachments"` // "recording <id>"
}

// StartRecording implements Recorder: refused without balance, and while
// the call already has a recording.
func (s *REST) StartRecording(callID, caller, dialled string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string][2]string{}
	}
	s.calls[callID] = [2]string{caller, dialled}
	if s.NoBalanceForMessages {
		return "", fmt.Errorf("insufficient balance for recording")
	}
	for _, r := range s.Recordings {
		if r.CallID == callID && !r.Stored && !r.stopped {
			return "", fmt.Errorf("recording is already progressing. recording_id: %s", r.ID)
		}
	}
	id := s.newID()
	s.Recordings = append(s.Recordings, &Recording{ID: id, CallID: callID})
	return id, nil
}

// Recorded implements Recorder.
func (s *REST) Recorded(id, words string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.recording(id); r != nil {
		r.Words = append(r.Words, words)
	}
}

// StopRecording implements Recorder. The files are stored later: StoreFiles.
func (s *REST) StopRecording(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.recording(id); r != nil {
		r.stopped = true
		if !s.SlowStorage {
			r.Stored = true
		}
	}
}

// StoreFiles stores the files of every recording that ended (SlowStorage).
func (s *REST) StoreFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.Recordings {
		if r.stopped {
			r.Stored = true
		}
	}
}

// Sent returns the SMS and emails the account sent.
func (s *REST) Sent() ([]SMS, []Email) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.SMSes), slices.Clone(s.Emails)
}

func (s *REST) recording(id string) *Recording {
	for _, r := range s.Recordings {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// serveMessages answers the routes of recordings, transcripts, SMS and
// email; it returns false for any other route.
func (s *REST) serveMessages(w http.ResponseWriter, r *http.Request, route string) bool {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1.0/calls/") {
		id, ok := s.pathID(w, r, "/v1.0/calls/", "")
		if !ok {
			return true
		}
		nums, known := s.calls[id]
		if !known {
			s.refuse(w, http.StatusNotFound, "NOT_FOUND: no call %s", id)
			return true
		}
		s.write(w, map[string]any{"id": id, "source": Address{Type: "tel", Target: nums[0]},
			"destination": Address{Type: "tel", Target: nums[1]}, "status": "hangup"})
		return true
	}
	switch route {
	case "POST /v1.0/calls":
		s.dialCallback(w, r)
	case "POST /v1.0/transcribes":
		if s.Down {
			s.refuse(w, http.StatusServiceUnavailable, "VoIPBin is down")
			return true
		}
		var body struct {
			ReferenceType string  `json:"reference_type"`
			ReferenceID   string  `json:"reference_id"`
			Language      string  `json:"language"`
			Direction     *string `json:"direction,omitempty"`
			OnEndFlowID   *string `json:"on_end_flow_id,omitempty"`
			Provider      *string `json:"provider,omitempty"`
		}
		if !s.decode(w, r, &body) {
			return true
		}
		if body.ReferenceType != "recording" {
			s.refuse(w, http.StatusBadRequest, "transcribes: the stand-in transcribes recordings only, not %q", body.ReferenceType)
			return true
		}
		rec := s.recording(body.ReferenceID)
		if rec == nil { // transcribehandler isValidReference: CallV1RecordingGet fails
			s.refuse(w, http.StatusBadRequest, "the given reference info is not valid for transcribe. reference_id: %s", body.ReferenceID)
			return true
		}
		lang := body.Language
		// startRecording: an existing transcribe of the recording and language is answered as it is.
		for id, t := range s.recordingTranscribes {
			if t.recording == rec.ID && t.language == lang {
				s.write(w, map[string]string{"id": id, "reference_type": "recording", "reference_id": rec.ID, "status": "done"})
				return true
			}
		}
		id := s.newID()
		t := &recordingTranscribe{recording: rec.ID, language: lang}
		if rec.Stored { // no files stored yet: nothing to transcribe, for good
			for _, words := range rec.Words {
				t.lines = append(t.lines, voipbin.Transcript{ID: s.newID(), TranscribeID: id, Direction: "in", Message: words})
			}
		}
		if s.recordingTranscribes == nil {
			s.recordingTranscribes = map[string]*recordingTranscribe{}
		}
		s.recordingTranscribes[id] = t
		s.Transcribes[id] = "done"
		s.write(w, map[string]string{"id": id, "reference_type": "recording", "reference_id": rec.ID, "status": "done"})
	case "GET /v1.0/transcripts":
		t := s.recordingTranscribes[r.URL.Query().Get("transcribe_id")]
		if t == nil {
			s.write(w, map[string]any{"result": []voipbin.Transcript{}})
			return true
		}
		s.write(w, map[string]any{"result": t.lines, "next_page_token": ""})
	case "POST /v1.0/messages":
		var body struct {
			Source       Address   `json:"source"`
			Destinations []Address `json:"destinations"`
			Text         string    `json:"text"`
		}
		if !s.accountSends(w, r, &body) {
			return true
		}
		if len(body.Destinations) == 0 {
			s.refuse(w, http.StatusBadRequest, "messages: destination is empty")
			return true
		}
		m := SMS{From: body.Source.Target, Text: body.Text}
		for _, d := range body.Destinations {
			m.To = append(m.To, d.Target)
		}
		s.SMSes = append(s.SMSes, m)
		s.write(w, map[string]any{"id": s.newID(), "direction": "outbound", "text": body.Text})
	case "POST /v1.0/emails":
		var body struct {
			Destinations []Address `json:"destinations"`
			Subject      string    `json:"subject"`
			Content      string    `json:"content"`
			Attachments  []struct {
				ReferenceType string `json:"reference_type"`
				ReferenceID   string `json:"reference_id"`
			} `json:"attachments"`
		}
		if !s.accountSends(w, r, &body) {
			return true
		}
		e := Email{Subject: body.Subject, Content: body.Content}
		for _, d := range body.Destinations {
			if a, err := mail.ParseAddress(d.Target); d.Type != "email" || err != nil || a.Address != d.Target {
				s.refuse(w, http.StatusBadRequest, "emails: destination is not valid: %s %q", d.Type, d.Target)
				return true
			}
			e.To = append(e.To, d.Target)
		}
		if len(e.To) == 0 {
			s.refuse(w, http.StatusBadRequest, "emails: destination is not valid: none")
			return true
		}
		for _, a := range body.Attachments {
			e.Attachments = append(e.Attachments, a.ReferenceType+" "+a.ReferenceID)
		}
		s.Emails = append(s.Emails, e)
		s.write(w, map[string]any{"id": s.newID(), "subject": body.Subject})
	default:
		return false
	}
	return true
}

// accountSends decodes a send's body and refuses what the account may not
// send: VoIPBin down, identity not verified, no balance.
func (s *REST) accountSends(w http.ResponseWriter, r *http.Request, body any) bool {
	switch {
	case s.Down:
		s.refuse(w, http.StatusServiceUnavailable, "VoIPBin is down")
		return false
	case !s.decode(w, r, body):
		return false
	case s.Customer.IdentityVerificationStatus != "verified":
		s.refuse(w, http.StatusBadRequest, "customer identity verification required to send")
		return false
	case s.NoBalanceForMessages:
		s.refuse(w, http.StatusBadRequest, "insufficient balance")
		return false
	}
	return true
}

// recordingTranscribe is a transcription of a recording.
type recordingTranscribe struct {
	recording, language string
	lines               []voipbin.Transcript
}

// MarshalJSON keeps a recording's state readable in test failures.
func (r *Recording) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"id": r.ID, "call": r.CallID, "words": r.Words, "stored": r.Stored})
}
