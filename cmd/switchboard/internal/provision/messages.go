package provision

import (
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// Messages is what the preflight checks of messages and callbacks: who is
// told by SMS or email, the number SMS come from, and whether callbacks are
// placed (the department's leg is a transfer's, checked above; the caller's
// leg calls the caller's own number).
type Messages struct {
	SMSFrom          string // "": the number the caller dialled
	SMS, Email       bool   // some contact is told by SMS, by email
	Callbacks        bool
	QueueDepartments []string // queues cannot be called back
}

// messagesPreflight says what VoIPBin would refuse of messages and callbacks
// (bin-message-manager messagehandler Send, bin-email-manager emailhandler
// Create, bin-call-manager CreateCallOutgoing): an unverified identity, an
// SMS source the account does not own, a queue to call back; a caller in a
// country outside the whitelist cannot be called back.
func messagesPreflight(m *Messages, acct account) []Verdict {
	if m == nil {
		return nil
	}
	p := newPSTN(acct)
	v := Verdict{Department: "messages", OK: true}
	var problems []string
	verified := acct.customer.IdentityVerificationStatus == voipbin.Verified
	if (m.SMS || m.Email || m.Callbacks) && !verified {
		problems = append(problems, fmt.Sprintf("the account's identity is not verified (%q): VoIPBin refuses SMS, email and callbacks",
			cmpOr(acct.customer.IdentityVerificationStatus, "unknown")))
	}
	if m.SMS && m.SMSFrom != "" && !p.callerIDs[m.SMSFrom] {
		problems = append(problems, fmt.Sprintf("SMS are sent from %s, which is not an active normal number of this account", m.SMSFrom))
	}
	for _, q := range m.QueueDepartments {
		problems = append(problems, fmt.Sprintf("%s is a queue: its callbacks cannot be dialled", q))
	}
	var how []string
	if m.SMS {
		how = append(how, "SMS from "+cmpOr(m.SMSFrom, "the number dialled"))
	}
	if m.Email {
		how = append(how, "email with the recording")
	}
	if m.Callbacks {
		how = append(how, fmt.Sprintf("callbacks to callers in %v only (destination_whitelist)", acct.outbound.DestinationWhitelist))
		v.Warnings = append(v.Warnings, "VoIPBin also refuses any of them when the balance runs out; keep the account funded")
	}
	v.Why = strings.Join(how, ", ")
	if len(problems) > 0 {
		v.OK, v.Why = false, strings.Join(problems, "; ")
	}
	return []Verdict{v}
}
