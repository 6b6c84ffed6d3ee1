package voipbintest

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

var recordThenFetch = []map[string]any{
	act("beep", nil),
	act("recording_start", map[string]any{"format": "wav", "end_of_silence": 5, "end_of_key": "#", "duration": 60}),
	act("digits_receive", map[string]any{"duration": 60000, "length": 0, "key": "#"}),
	act("recording_stop", nil),
	act("fetch", map[string]any{"event_url": "http://x/voipbin/fetch?t=&rec=${voipbin.recording.id}", "event_method": "POST"}),
}

// TestRecording: recording_start runs in the background and sets the
// recording's id; the caller's words go into it; # ends it and the
// digits_receive; recording_finished is sent; the fetch names the recording.
func TestRecording(t *testing.T) {
	rest := NewREST(t)
	srv := &scripted{answers: [][]map[string]any{recordThenFetch, {act("hangup", nil)}}}
	_, transcript := play(t, srv, Options{Recorder: rest}, Step{Say: "call me back please"}, Step{Press: "#"})
	for _, want := range []string{"  beep", "caller (into the recording): call me back please", "(the recording ends: its end key)", "  recording_stop"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
	if len(rest.Recordings) != 1 || strings.Join(rest.Recordings[0].Words, " ") != "call me back please" || !rest.Recordings[0].Stored {
		t.Fatalf("recordings %+v", rest.Recordings)
	}
	if got, want := srv.fetched[len(srv.fetched)-1], "rec="+rest.Recordings[0].ID; !strings.HasSuffix(got, want) {
		t.Errorf("fetch %s, want it to end with %s", got, want)
	}
	if !slices.Contains(srv.log, "recording_started") || !slices.Contains(srv.log, "recording_finished") {
		t.Errorf("events %v, want recording_started and recording_finished", srv.log)
	}
}

// TestRecordingSilence: silence ends the recording, not the digits_receive,
// which waits out its duration.
func TestRecordingSilence(t *testing.T) {
	srv := &scripted{answers: [][]map[string]any{recordThenFetch, {act("hangup", nil)}}}
	_, transcript := play(t, srv, Options{}, Step{Say: "hello"}, Step{Silent: true})
	if !strings.Contains(transcript, "(the recording ends: silence)") || !strings.Contains(transcript, "(the digits_receive waits out its 60000 ms)") {
		t.Errorf("transcript:\n%s", transcript)
	}
}

// TestRecordingRefusals: what VoIPBin refuses, refused: a second recording
// while one runs (the action fails, the flow moves on, the id stays the
// first's), no balance (the id stays unset), beep_start (not VoIPBin's option).
func TestRecordingRefusals(t *testing.T) {
	start := func() map[string]any {
		return act("recording_start", map[string]any{"end_of_key": "#", "duration": 60})
	}
	rest := NewREST(t)
	srv := &scripted{answers: [][]map[string]any{{start(), start(), act("hangup", nil)}}}
	_, transcript := play(t, srv, Options{Recorder: rest})
	if !strings.Contains(transcript, "recording_start FAILED: a recording already runs on the call") || len(rest.Recordings) != 1 {
		t.Errorf("a second recording_start while one runs:\n%s", transcript)
	}

	rest = NewREST(t)
	rest.NoBalanceForMessages = true
	srv = &scripted{answers: [][]map[string]any{{start(), act("fetch", map[string]any{"event_url": "http://x/voipbin/fetch?t=&rec=${voipbin.recording.id}"})}, {act("hangup", nil)}}}
	_, transcript = play(t, srv, Options{Recorder: rest})
	if !strings.Contains(transcript, "recording_start FAILED: insufficient balance") || !strings.HasSuffix(srv.fetched[len(srv.fetched)-1], "rec=") {
		t.Errorf("without balance: %v\n%s", srv.fetched, transcript)
	}

	srv = &scripted{answers: [][]map[string]any{{act("recording_start", map[string]any{"beep_start": true})}}}
	res, err := runScripted(t, srv)
	if err == nil || !strings.Contains(err.Error(), "beep_start") {
		t.Errorf("beep_start: %v\n%s", err, strings.Join(res.Transcript, "\n"))
	}
}

func runScripted(t *testing.T, srv *scripted) (*Result, error) {
	t.Helper()
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	return Run(context.Background(), Options{Bases: []string{h.URL}, CallID: "call-r", RetryPause: time.Millisecond}, nil)
}

// TestTranscribeRecording: a recording is transcribed in the request;
// asked before its files are stored, the transcription is empty and stays
// so; an unknown recording is refused.
func TestTranscribeRecording(t *testing.T) {
	s := NewREST(t)
	s.SlowStorage = true
	id, _ := s.StartRecording(ID(7), "+14155550123", "+15550001000")
	s.Recorded(id, "please call me back")
	s.StopRecording(id)
	body := `{"reference_type":"recording","reference_id":"` + id + `","language":"en-US","direction":"both"}`
	status, early := restCall(t, s, "POST", "/v1.0/transcribes", body)
	if status != 200 {
		t.Fatalf("POST /v1.0/transcribes: %d %s", status, early)
	}
	s.StoreFiles()
	_, again := restCall(t, s, "POST", "/v1.0/transcribes", body)
	if early != again {
		t.Errorf("a second transcription of the recording answered %s, want the first: %s", again, early)
	}
	tr := between(early, `"id":"`, `"`)
	if _, lines := restCall(t, s, "GET", "/v1.0/transcripts?transcribe_id="+tr, ""); strings.Contains(lines, "call me back") {
		t.Errorf("transcribed before the files were stored: %s", lines)
	}

	s = NewREST(t)
	id, _ = s.StartRecording(ID(8), "+14155550123", "+15550001000")
	s.Recorded(id, "please call me back")
	s.StopRecording(id)
	_, done := restCall(t, s, "POST", "/v1.0/transcribes", strings.Replace(body, between(body, `"reference_id":"`, `"`), id, 1))
	if _, lines := restCall(t, s, "GET", "/v1.0/transcripts?transcribe_id="+between(done, `"id":"`, `"`), ""); !strings.Contains(lines, `"direction":"in","message":"please call me back"`) {
		t.Errorf("transcripts %s", lines)
	}
	if status, _ := restCall(t, s, "POST", "/v1.0/transcribes", strings.Replace(body, between(body, `"reference_id":"`, `"`), ID(999), 1)); status != 400 {
		t.Errorf("an unknown recording: %d, want 400", status)
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}

// TestSendRefusals: SMS and email refused as VoIPBin refuses them.
func TestSendRefusals(t *testing.T) {
	const sms = `{"source":{"type":"tel","target":"+15550001000"},"destinations":[{"type":"tel","target":"+14155550172"}],"text":"hi"}`
	const email = `{"destinations":[{"type":"email","target":"a@b.example"}],"subject":"s","content":"c","attachments":[]}`
	for _, tt := range []struct {
		name, path, body string
		set              func(*REST)
		want             int
	}{
		{"sms", "/v1.0/messages", sms, func(*REST) {}, 200},
		{"sms without destinations", "/v1.0/messages", `{"source":{"type":"tel","target":"+15550001000"},"destinations":[],"text":"hi"}`, func(*REST) {}, 400},
		{"sms unverified", "/v1.0/messages", sms, func(s *REST) { s.Customer.IdentityVerificationStatus = "none" }, 400},
		{"sms without balance", "/v1.0/messages", sms, func(s *REST) { s.NoBalanceForMessages = true }, 400},
		{"sms while VoIPBin is down", "/v1.0/messages", sms, func(s *REST) { s.Down = true }, 503},
		{"sms with an unknown field", "/v1.0/messages", strings.Replace(sms, `"text"`, `"txt"`, 1), func(*REST) {}, 400},
		{"email", "/v1.0/emails", email, func(*REST) {}, 200},
		{"email to no address", "/v1.0/emails", strings.Replace(email, "a@b.example", "nobody", 1), func(*REST) {}, 400},
		{"email of type tel", "/v1.0/emails", strings.Replace(email, `"type":"email"`, `"type":"tel"`, 1), func(*REST) {}, 400},
		{"email unverified", "/v1.0/emails", email, func(s *REST) { s.Customer.IdentityVerificationStatus = "pending" }, 400},
		{"email without balance", "/v1.0/emails", email, func(s *REST) { s.NoBalanceForMessages = true }, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := NewREST(t)
			tt.set(s)
			if status, body := restCall(t, s, "POST", tt.path, tt.body); status != tt.want {
				t.Errorf("%d %s, want %d", status, body, tt.want)
			}
		})
	}
}
