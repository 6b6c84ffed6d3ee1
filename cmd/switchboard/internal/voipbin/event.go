package voipbin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Event is the customer webhook's envelope; Data is read per Type.
type Event struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// The event types we read; others are accepted and ignored.
const (
	EventTranscribeCreated = "transcribe_created"
	EventTranscriptCreated = "transcript_created"
	EventCallHangup        = "call_hangup"
	// VoIPBin's streaming speech-to-text (bin-transcribe-manager
	// streaminghandler): started comes with the first interim result, ended
	// with the final one, just before transcript_created.
	EventSpeechStarted = "transcribe_speech_started"
	EventSpeechInterim = "transcribe_speech_interim"
	EventSpeechEnded   = "transcribe_speech_ended"
)

// EventData holds the fields we read of the events we use.
type EventData struct {
	ID            string `json:"id"`
	Language      string `json:"language"`
	ReferenceType string `json:"reference_type"`
	ReferenceID   string `json:"reference_id"`
	TranscribeID  string `json:"transcribe_id"`
	Direction     string `json:"direction"`
	Message       string `json:"message"`
}

// Problems lists what an event of type typ lacks.
func (d EventData) Problems(typ string) []string {
	var p []string
	need := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			p = append(p, "data."+field+": missing")
		}
	}
	switch typ {
	case EventTranscribeCreated:
		need("id", d.ID)
		need("reference_id", d.ReferenceID)
	case EventTranscriptCreated, EventSpeechStarted, EventSpeechInterim, EventSpeechEnded:
		need("id", d.ID)
		need("transcribe_id", d.TranscribeID)
	case EventCallHangup:
		need("id", d.ID)
	case EventQueuecallServiced:
		need("reference_id", d.ReferenceID)
	}
	return p
}

// SignatureHeader carries an event's signature.
const SignatureHeader = "X-VoIPBIN-Signature"

// Sign is VoIPBin's signature of an event body: "sha256=" and the hex
// HMAC-SHA256 of the body, keyed with the customer's webhook secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ValidSignature checks an event's signature header when a secret is
// configured; without one every event is taken.
func ValidSignature(secret, header string, body []byte) bool {
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
