package flow

import (
	"strings"
	"unicode"
)

// Audit is what a regulated business must be able to show about a call: what
// the caller pressed and said, what the classifier decided and how sure it
// was, where the call went and why. It is kept with the call in the store, so
// a call that moves between replicas keeps one record, and it is logged as one
// line when our part of the call ends.
type Audit struct {
	// Pressed is every keypad entry in order, numbers that could identify an
	// account, a card or a date of birth masked whole (a date's last four
	// digits are its year).
	Pressed []string `json:"pressed,omitempty"`
	// Said is every caller turn, numbers masked to their last four digits.
	// It is logged only with --log-transcripts (Router.LogTranscripts).
	Said []string `json:"said,omitempty"`
	// Decision is the classifier's answer ("" when none was asked or it was
	// unsure), by whom (local or model), and its confidence.
	Decision   string  `json:"decision,omitempty"`
	DecidedBy  string  `json:"decided_by,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	// Department and Destination are where the call went; Reason is why.
	Department  string `json:"department,omitempty"`
	Destination string `json:"destination,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// minMasked is the shortest digit run that is masked: long enough for an
// account, card or policy number, short enough to leave menu keys alone.
const minMasked = 6

// Mask hides every run of digits long enough to identify an account or a card
// (six or more, spaces and dashes inside a run allowed, as a caller reads a
// card number) except its last four: "4111 1111 1111 1234" becomes
// "XXXX XXXX XXXX 1234". Shorter numbers and everything else stay as they are.
func Mask(s string) string { return mask(s, 4) }

// MaskEntry is Mask for keys pressed, keeping no digit of a long run: an
// entry may be a date of birth, whose last four digits are the year.
func MaskEntry(s string) string { return mask(s, 0) }

func mask(s string, keep int) string {
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if !unicode.IsDigit(rs[i]) {
			i++
			continue
		}
		// A run is digits with single spaces or dashes between them.
		end, digits := i, 0
		for j := i; j < len(rs); j++ {
			if unicode.IsDigit(rs[j]) {
				end, digits = j+1, digits+1
				continue
			}
			if (rs[j] == ' ' || rs[j] == '-') && j+1 < len(rs) && unicode.IsDigit(rs[j+1]) {
				continue
			}
			break
		}
		if digits >= minMasked {
			keep := keep
			for j := end - 1; j >= i; j-- {
				if !unicode.IsDigit(rs[j]) {
					continue
				}
				if keep > 0 {
					keep--
					continue
				}
				rs[j] = 'X'
			}
		}
		i = end
	}
	return string(rs)
}

// audit returns the call's audit record, complete with what it said.
func (c *Call) audit() Audit {
	a := Audit{}
	if c.Audit != nil {
		a = *c.Audit
	}
	a.Said = nil
	for _, t := range c.Turns {
		a.Said = append(a.Said, Redact(t))
	}
	a.Department, a.Reason = c.Department, c.Reason
	return a
}

// recordPress adds a keypad entry to the call's audit record, masked.
func (c *Call) recordPress(keys string) {
	if c.Audit == nil {
		return
	}
	if strings.TrimSpace(keys) == "" {
		keys = "(none)"
	}
	c.Audit.Pressed = append(c.Audit.Pressed, MaskEntry(keys))
}

// recordDecision notes the classifier's answer in the audit record.
func (c *Call) recordDecision(v Verdict, by string) {
	if c.Audit == nil {
		return
	}
	c.Audit.Decision, c.Audit.DecidedBy, c.Audit.Confidence = v.Department, by, v.Confidence
}
