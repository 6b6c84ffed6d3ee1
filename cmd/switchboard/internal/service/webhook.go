package service

// The seed article's speech webhook, kept wire-compatible with it: a
// transcript in, {"actions": [talk, transfer]} out. An optional call_id makes
// it multi-turn.

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/flow"
)

// seedCallPrefix puts this endpoint's call ids in a namespace of their own,
// apart from VoIPBin's call ids.
const seedCallPrefix = "seed:"

type callHandlerRequest struct {
	CallID string `json:"call_id,omitempty"`
	Speech struct {
		Results []struct {
			Text string `json:"text"`
		} `json:"results"`
	} `json:"speech"`
	Language string `json:"language,omitempty"`
}

type seedAction struct {
	Type        string `json:"type"`
	Text        string `json:"text,omitempty"`
	Destination string `json:"destination,omitempty"`
}

type callHandlerResponse struct {
	Actions []seedAction `json:"actions"`
}

func handleCallHandler(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Checked before the body is read: a stranger must not spend the model
		// or write call state.
		if !validBearer(svc.conf.WebhookToken, r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			writeProblem(w, http.StatusUnauthorized, "bad or missing Authorization: Bearer token")
			return
		}
		var req callHandlerRequest
		if err := decodeJSON(w, r, &req); err != nil {
			writeBodyProblem(w, "invalid JSON body", err)
			return
		}
		var text string
		if len(req.Speech.Results) > 0 {
			text = req.Speech.Results[0].Text
		}
		if text == "" {
			writeProblem(w, http.StatusBadRequest, "Missing transcript payload")
			return
		}
		if p := problemsOf(seedIDProblem(req.CallID), textProblem("speech.results[0].text", text, 0),
			tokenProblem("language", req.Language, maxLanguage, languageByte)); len(p) > 0 {
			writeProblem(w, http.StatusBadRequest, "invalid request", p...)
			return
		}
		turn := flow.Turn{Channel: flow.Webhook, Words: text, Language: req.Language, Arrived: arrival(r)}
		if req.CallID != "" {
			// Anyone can post here: the call lives in its own namespace, so no
			// request can read, change or end a VoIPBin call.
			turn.CallID = seedCallPrefix + req.CallID
		}
		r = withCall(r, turn.CallID)
		reply := svc.routing().router.Next(r.Context(), turn)
		setMoves(w, reply.Moves)
		writeJSON(w, http.StatusOK, callHandlerResponse{Actions: renderSeed(reply.Actions)})
	}
}

// validBearer checks "Authorization: Bearer <token>" in constant time when a
// token is configured.
func validBearer(token, header string) bool {
	if token == "" {
		return true
	}
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(strings.TrimSpace(got))) == 1
}

// renderSeed keeps what the seed's format can say: talk and transfer.
func renderSeed(acts []flow.Action) []seedAction {
	out := make([]seedAction, 0, len(acts))
	for _, a := range acts {
		switch a.Kind {
		case flow.ActTalk:
			out = append(out, seedAction{Type: "talk", Text: a.Text})
		case flow.ActConnect:
			out = append(out, seedAction{Type: "transfer", Destination: a.To.Target})
		}
	}
	return out
}
