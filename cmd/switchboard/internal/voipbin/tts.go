package voipbin

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// VoIPBin's TTS (bin-tts-manager ttshandler, normalizeText and isValidSSML)
// takes a talk's text as SSML: when the text does not parse as XML holding
// an element, it wraps it in <speak>...</speak> and parses it again; when
// that fails too, the talk fails and VoIPBin moves on to the next action, so
// the caller hears nothing. A bare "&" or "<" fails, so does an unknown
// entity (&nbsp;) or a control character. Plain words must be escaped.

// ErrNotSpeakable is a talk text VoIPBin's TTS refuses.
var ErrNotSpeakable = errors.New("VoIPBin's TTS refuses the text: not valid SSML even inside <speak>")

// CheckSpeakable reports whether VoIPBin's TTS takes text, as VoIPBin's
// check does: the text as it is, or else wrapped in <speak>, must parse
// (strict XML) up to the end of its first element.
func CheckSpeakable(text string) error {
	if firstElementParses(text) || firstElementParses("<speak>"+text+"</speak>") {
		return nil
	}
	return ErrNotSpeakable
}

// firstElementParses reads s as strict XML until its first element ends.
// What follows that element is not read, as in VoIPBin's check.
func firstElementParses(s string) bool {
	d := xml.NewDecoder(strings.NewReader(s))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return false // io.EOF before any element ended is a failure too
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth--; depth == 0 {
				return true
			}
		}
	}
}

// speakEscaper escapes what XML character data may not hold.
var speakEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Speakable turns plain words into a talk text VoIPBin's TTS takes: "&", "<"
// and ">" escaped, characters XML cannot carry (control characters, broken
// UTF-8) dropped. Every talk we send goes through it: a config writer writes
// "Billing & Accounts", not SSML.
func Speakable(words string) string {
	words = strings.ToValidUTF8(words, "")
	if strings.IndexFunc(words, notXMLChar) >= 0 {
		words = strings.Map(func(r rune) rune {
			if notXMLChar(r) {
				return -1
			}
			return r
		}, words)
	}
	return speakEscaper.Replace(words)
}

// notXMLChar reports whether XML 1.0 forbids r in a document.
func notXMLChar(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r':
		return false
	case r < 0x20, r == 0xFFFE, r == 0xFFFF:
		return true
	}
	return false
}

// Spoken is what a caller hears of a talk text VoIPBin's TTS takes: its
// character data, entities resolved ("Billing &amp; Accounts" is heard as
// "Billing & Accounts"). A text it refuses is returned as it is.
func Spoken(text string) string {
	src := text
	if !firstElementParses(src) {
		src = "<speak>" + text + "</speak>"
	}
	d := xml.NewDecoder(strings.NewReader(src))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			return text
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
}
