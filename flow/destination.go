package flow

import (
	"fmt"
	"regexp"
	"strings"
)

// DestinationKind is how a department is reached.
type DestinationKind string

// The kinds of destination a department can have. Each names one field of a
// department's config.
const (
	ToTel       DestinationKind = "tel"       // a phone number: "number"
	ToSIP       DestinationKind = "sip"       // a SIP URI: "sip"
	ToExtension DestinationKind = "extension" // a VoIPBin extension: "extension"
	ToAgent     DestinationKind = "agent"     // a VoIPBin agent's id: "agent"
	ToQueue     DestinationKind = "queue"     // a VoIPBin queue's id: "queue"
)

// Destination is where a transfer goes.
type Destination struct {
	Kind   DestinationKind `json:"kind"`
	Target string          `json:"target"`
}

// Destination returns where the department is, from whichever of its
// destination fields is set (validation makes sure exactly one is).
func (d *Department) Destination() Destination {
	for _, to := range d.destinations() {
		if to.Target != "" {
			return to
		}
	}
	return Destination{Kind: ToTel}
}

func (d *Department) destinations() []Destination {
	return []Destination{
		{ToTel, d.Number}, {ToSIP, d.SIP}, {ToExtension, d.Extension}, {ToAgent, d.Agent}, {ToQueue, d.Queue},
	}
}

var (
	// telNumber is VoIPBin's own check of a tel address.
	telNumber = regexp.MustCompile(`^\+[0-9]{7,15}$`)
	sipURI    = regexp.MustCompile(`^(sips?:)?[^@:\s]+@[^@\s]+$`)
	uuidForm  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	noSpaces  = regexp.MustCompile(`^\S+$`)
)

// virtualPrefix starts VoIPBin's free virtual numbers, which it never accepts
// as the caller ID of an outgoing call.
const virtualPrefix = "+899"

// destinationProblems names what is wrong with a department's destination.
func (d *Department) destinationProblems(name string) []string {
	var set []Destination
	for _, to := range d.destinations() {
		if to.Target != "" {
			set = append(set, to)
		}
	}
	at := "routing.departments." + name
	if len(set) != 1 {
		return []string{fmt.Sprintf(`%s: needs exactly one destination: "number" (+14155550100), "sip" (sales@pbx.example.com), "extension", "agent" (its id) or "queue" (its id); %d set`, at, len(set))}
	}
	to := set[0]
	var bad string
	switch to.Kind {
	case ToTel:
		if !telNumber.MatchString(to.Target) {
			bad = "is not a phone number VoIPBin dials: + and 7 to 15 digits, like +14155550100"
		}
	case ToSIP:
		if !sipURI.MatchString(to.Target) {
			bad = "is not a SIP URI like sales@pbx.example.com or sip:sales@pbx.example.com"
		}
	case ToExtension:
		if !noSpaces.MatchString(to.Target) {
			bad = "is not an extension (no spaces)"
		}
	case ToAgent, ToQueue:
		if !uuidForm.MatchString(to.Target) {
			bad = "is not a VoIPBin id (a UUID)"
		}
	}
	var p []string
	if bad != "" {
		field := string(to.Kind)
		if to.Kind == ToTel {
			field = "number"
		}
		p = append(p, fmt.Sprintf("%s.%s: %q %s", at, field, to.Target, bad))
	}
	if d.CallerID != "" {
		if msg := callerIDProblem(d.CallerID); msg != "" {
			p = append(p, fmt.Sprintf("%s.caller_id: %q %s", at, d.CallerID, msg))
		}
		if to.Kind == ToQueue {
			p = append(p, fmt.Sprintf("%s.caller_id: a queue shows no caller ID; remove it", at))
		}
	}
	return p
}

// callerIDProblem says why VoIPBin would refuse number as a transfer's caller ID, or "".
func callerIDProblem(number string) string {
	switch {
	case !telNumber.MatchString(number):
		return "is not a phone number: + and 7 to 15 digits"
	case strings.HasPrefix(number, virtualPrefix):
		return "is a virtual +899 number, which VoIPBin never accepts as caller ID; use a normal number the account owns"
	}
	return ""
}

// CallerIDFor returns the caller ID of a transfer to the department: its own,
// else the routing table's, else "", which means the number the caller dialled
// (the business owns it, so the platform accepts it as caller ID).
func (r *Routing) CallerIDFor(d *Department) string {
	switch {
	case d != nil && d.CallerID != "":
		return d.CallerID
	case r.CallerID != "":
		return r.CallerID
	}
	return ""
}

// CallerIDRule is what VoIPBin needs of a transfer's caller ID, said once
// under the tables of CallerIDs by `switchboard check`.
const CallerIDRule = "Caller ID: VoIPBin places a transfer to a phone number only with a caller ID it accepts, a normal\n" +
	"number the account owns (never a virtual +899 number), else the account's default outgoing number\n" +
	"(outbound config); with neither, the transfer fails and the caller is hung up.\n"

// CallerIDDialledNote explains the transfers CallerIDs marks with a *.
const CallerIDDialledNote = "  * fine when callers dial a normal number of the account; if they dial a virtual +899 number, set\n" +
	"    caller_id (for all departments or per department) to a normal number the account owns.\n"

// CallerIDs lists, for `switchboard check`, where each department's transfer
// goes and what caller ID it shows; dialled reports whether one shows the
// number the caller dialled (marked *, see CallerIDDialledNote).
func (r *Routing) CallerIDs() (table string, dialled bool) {
	var b strings.Builder
	for _, name := range r.DepartmentNames(true) {
		d := r.Departments[name]
		to := d.Destination()
		from := r.CallerIDFor(d)
		switch {
		case to.Kind == ToQueue:
			from = "none needed (queue)"
		case from == "":
			from, dialled = "the number the caller dialled *", true
		}
		if to.Kind != ToTel && to.Kind != ToQueue {
			from += " (not checked for " + string(to.Kind) + ")"
		}
		fmt.Fprintf(&b, "  %-10s %-9s %-38s caller ID %s\n", name, to.Kind, to.Target, from)
	}
	return b.String(), dialled
}
