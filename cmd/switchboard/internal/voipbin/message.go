package voipbin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/uuid"
)

// Recording a caller's message, transcribing it, and telling the business by
// SMS and email: CONFORMANCE.md, "Messages after hours".

// Action types of a message.
const (
	TypeBeep           = "beep"
	TypeRecordingStart = "recording_start"
	TypeRecordingStop  = "recording_stop"
)

// RecordingStartOption is recording_start's option (bin-flow-manager
// OptionRecordingStart). Durations are seconds. BeepStart is left out:
// VoIPBin never passes it on, so a beep action plays the tone.
type RecordingStartOption struct {
	Format       string `json:"format,omitempty"`
	EndOfSilence int    `json:"end_of_silence,omitempty"`
	EndOfKey     string `json:"end_of_key,omitempty"`
	Duration     int    `json:"duration,omitempty"`
}

// The variables a message's fetch reads.
const (
	VarRecordingID = "voipbin.recording.id"       // set when the recording is created
	VarCaller      = "voipbin.call.source.target" // the number the caller called from
)

// Recording events.
const (
	EventRecordingStarted  = "recording_started"
	EventRecordingFinished = "recording_finished"
)

// recordActions renders a message: the beep, the recording (ending on #,
// silence or the longest length), a wait for the caller's # as long as the
// longest message, the recording stopped (so a second one on the call is not
// refused), and the fetch that says which recording it was and who called.
func recordActions(maxMS, silenceMS int, next FetchURL) []Action {
	next.To, next.From, next.Rec = Var(VarDialled), Var(VarCaller), Var(VarRecordingID)
	mk := func(typ string, opt any) Action { return Action{ID: uuid.NewString(), Type: typ, Option: opt} }
	return []Action{
		mk(TypeBeep, nil),
		mk(TypeRecordingStart, RecordingStartOption{Format: "wav", EndOfSilence: max(silenceMS/1000, 1), EndOfKey: "#", Duration: maxMS / 1000}),
		mk(TypeDigitsReceive, DigitsReceiveOption{Duration: maxMS, Key: "#", Length: 0}),
		mk(TypeRecordingStop, nil),
		mk(TypeFetch, FetchOption{EventURL: next.String(), EventMethod: "POST"}),
	}
}

// AddressEmail is the address type of an email destination.
const AddressEmail = "email"

// Transcript is one line of a transcription (GET /v1.0/transcripts).
type Transcript struct {
	ID           string `json:"id"`
	TranscribeID string `json:"transcribe_id"`
	Direction    string `json:"direction"`
	Message      string `json:"message"`
}

// TranscribeRecording transcribes a recording (POST /v1.0/transcribes with
// reference_type recording): VoIPBin transcribes it within the request and
// answers the transcribe, done. It returns the transcribe's id.
func (c *Client) TranscribeRecording(ctx context.Context, recordingID, language string) (string, error) {
	var out struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	err := c.Do(ctx, http.MethodPost, "/v1.0/transcribes", map[string]string{
		"reference_type": "recording", "reference_id": recordingID, "language": language, "direction": "both",
	}, &out)
	return out.ID, err
}

// Transcripts lists a transcription's lines (GET /v1.0/transcripts?transcribe_id=).
func (c *Client) Transcripts(ctx context.Context, transcribeID string) ([]Transcript, error) {
	var out struct {
		Result []Transcript `json:"result"`
	}
	err := c.Do(ctx, http.MethodGet, "/v1.0/transcripts?transcribe_id="+url.QueryEscape(transcribeID)+"&page_size=100", nil, &out)
	return out.Result, err
}

// SendSMS sends text from a number the account owns (POST /v1.0/messages).
func (c *Client) SendSMS(ctx context.Context, from string, to []string, text string) error {
	dests := make([]Address, len(to))
	for i, t := range to {
		dests[i] = Address{Type: AddressTel, Target: t}
	}
	return c.Do(ctx, http.MethodPost, "/v1.0/messages", map[string]any{
		"source": Address{Type: AddressTel, Target: from}, "destinations": dests, "text": text,
	}, nil)
}

// EmailAttachment attaches a VoIPBin resource to an email: a recording.
type EmailAttachment struct {
	ReferenceType string `json:"reference_type"`
	ReferenceID   string `json:"reference_id"`
}

// SendEmail sends an email from VoIPBin's own sender (POST /v1.0/emails).
func (c *Client) SendEmail(ctx context.Context, to []string, subject, content string, attachments []EmailAttachment) error {
	dests := make([]Address, len(to))
	for i, t := range to {
		dests[i] = Address{Type: AddressEmail, Target: t}
	}
	if attachments == nil {
		attachments = []EmailAttachment{}
	}
	return c.Do(ctx, http.MethodPost, "/v1.0/emails", map[string]any{
		"destinations": dests, "subject": subject, "content": content, "attachments": attachments,
	}, nil)
}

// CallParties is who a call is between (GET /v1.0/calls/{id}, bin-call-manager WebhookMessage).
type CallParties struct {
	ID          string  `json:"id"`
	Source      Address `json:"source"`
	Destination Address `json:"destination"`
	Status      string  `json:"status"`
}

// Parties reads who a call is between.
func (c *Client) Parties(ctx context.Context, id string) (CallParties, error) {
	var out CallParties
	err := c.Do(ctx, http.MethodGet, "/v1.0/calls/"+url.PathEscape(id), nil, &out)
	return out, err
}

// DialCallback calls to with inline actions, showing from (POST /v1.0/calls,
// bin-api-manager PostCalls): the first leg of a callback. It returns the
// outgoing call's id.
func (c *Client) DialCallback(ctx context.Context, to Address, from string, actions []Action) (string, error) {
	var out struct {
		Calls []struct {
			ID string `json:"id"`
		} `json:"calls"`
	}
	err := c.Do(ctx, http.MethodPost, "/v1.0/calls", map[string]any{
		"source": Address{Type: AddressTel, Target: from}, "destinations": []Address{to}, "actions": actions,
	}, &out)
	if err != nil {
		return "", err
	}
	if len(out.Calls) == 0 || out.Calls[0].ID == "" {
		return "", fmt.Errorf("VoIPBin POST /v1.0/calls answered no call")
	}
	return out.Calls[0].ID, nil
}
