package voipbin

// A handoff's wire: the conference that holds the caller, the outgoing call
// to the person rung with its inline actions, and the events that tell how
// that call went. CONFORMANCE.md, "Handoffs", cites the source of each rule.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// TypeConferenceJoin puts the caller in a conference until it is deleted or
// its bridge ends (bin-flow-manager actionHandleConferenceJoin); VoIPBin
// pushes a confbridge_join after it, which counts as an action too.
const TypeConferenceJoin = "conference_join"

// ConferenceJoinOption is conference_join's option.
type ConferenceJoinOption struct {
	ConferenceID string `json:"conference_id"`
}

// EventCallProgressing tells that an outgoing call was answered.
const EventCallProgressing = "call_progressing"

// ConferenceConnect is the conference type that ends its bridge when one of
// two members leaves (bin-call-manager confbridgehandler Leaved): the
// caller goes on in their flow once the person they talked to hangs up.
const ConferenceConnect = "connect"

// Conference is a conference as VoIPBin answers it. ConferencecallIDs are
// the calls in it.
type Conference struct {
	ID                string   `json:"id"`
	Type              string   `json:"type"`
	Status            string   `json:"status,omitempty"`
	ConferencecallIDs []string `json:"conferencecall_ids,omitempty"`
}

// GetConference reads a conference.
func (c *Client) GetConference(ctx context.Context, id string) (Conference, error) {
	var out Conference
	err := c.Do(ctx, http.MethodGet, "/v1.0/conferences/"+url.PathEscape(id), nil, &out)
	return out, err
}

// conferenceCreate is POST /v1.0/conferences' body: bin-api-manager's
// PostConferencesJSONBody requires every field.
type conferenceCreate struct {
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Detail     string         `json:"detail"`
	Timeout    int            `json:"timeout"`
	Data       map[string]any `json:"data"`
	PreFlowID  string         `json:"pre_flow_id"`
	PostFlowID string         `json:"post_flow_id"`
}

// CreateConference creates a connect conference with no timeout: VoIPBin's
// timeout deletes the conference (and ends the conversation in it) when it
// runs out, and one under 60 s becomes a day (bin-conference-manager
// conferencehandler Create), so the service deletes it itself.
func (c *Client) CreateConference(ctx context.Context, name string) (Conference, error) {
	var out Conference
	err := c.Do(ctx, http.MethodPost, "/v1.0/conferences", conferenceCreate{
		Type: ConferenceConnect, Name: name, Detail: "Switchboard handoff", Data: map[string]any{},
		PreFlowID: NilID, PostFlowID: NilID,
	}, &out)
	if err == nil && out.ID == "" {
		err = fmt.Errorf("VoIPBin POST /v1.0/conferences answered no id")
	}
	return out, err
}

// DeleteConference deletes a conference, kicking whoever is in it: each
// kicked call goes on in its flow after its conference_join.
func (c *Client) DeleteConference(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1.0/conferences/"+url.PathEscape(id), nil, nil)
}

// OutgoingCall is POST /v1.0/calls' body with inline actions: VoIPBin makes a
// temporary flow of them (not counted against the account's flows).
// Variables are seeded into the new call's flow.
type OutgoingCall struct {
	Source       Address           `json:"source"`
	Destinations []Address         `json:"destinations"`
	Actions      []Action          `json:"actions"`
	Variables    map[string]string `json:"variables,omitempty"`
}

// Call is a call as VoIPBin answers it.
type Call struct {
	ID           string `json:"id"`
	Status       string `json:"status,omitempty"`
	HangupReason string `json:"hangup_reason,omitempty"`
}

// Dial places an outgoing call and returns it. VoIPBin answers with the
// calls and group calls it made: one call for a phone number or SIP address.
func (c *Client) Dial(ctx context.Context, oc OutgoingCall) (Call, error) {
	var out struct {
		Calls []Call `json:"calls"`
	}
	if err := c.Do(ctx, http.MethodPost, "/v1.0/calls", oc, &out); err != nil {
		return Call{}, err
	}
	if len(out.Calls) == 0 || out.Calls[0].ID == "" {
		return Call{}, fmt.Errorf("VoIPBin POST /v1.0/calls answered no call")
	}
	return out.Calls[0], nil
}

// GetCall reads a call: its status ("dialing", "ringing", "progressing",
// "hangup"...) and, once over, its hangup_reason.
func (c *Client) GetCall(ctx context.Context, id string) (Call, error) {
	var out Call
	err := c.Do(ctx, http.MethodGet, "/v1.0/calls/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Hangup ends a call, ringing or answered; one already over is refused.
func (c *Client) Hangup(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodPost, "/v1.0/calls/"+url.PathEscape(id)+"/hangup", nil, nil)
}

// Talk says text on a call over whatever it is doing, without moving its
// flow on (bin-call-manager listenhandler v1_calls.go: callHandler.Talk
// with runNext false, so its playback's end advances nothing). VoIPBin
// refuses a call that does not exist or whose channel is gone.
func (c *Client) Talk(ctx context.Context, id, text, language string) error {
	body := map[string]string{"text": text, "language": language}
	return c.Do(ctx, http.MethodPost, "/v1.0/calls/"+url.PathEscape(id)+"/talk", body, nil)
}

// CallEvent holds what a handoff reads of call_progressing and call_hangup.
type CallEvent struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	HangupReason string `json:"hangup_reason"`
}

// ReadCallEvent reads a call event's data.
func ReadCallEvent(data json.RawMessage) (CallEvent, error) {
	var e CallEvent
	err := json.Unmarshal(data, &e)
	return e, err
}
