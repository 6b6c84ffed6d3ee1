package voipbin

import (
	"net/url"
	"strconv"
	"strings"
)

// EventsPath is where VoIPBin posts the account's events (the customer's
// webhook URI, written by provisioning).
const EventsPath = "/voipbin/events"

// The paths Switchboard serves VoIPBin's fetches on. A fetch action's
// event_url is one of them with its query; VoIPBin POSTs FetchRequest to it
// and runs the actions answered (flow-manager actionHandleFetch).
const (
	FetchPath        = "/voipbin/fetch"         // a call's next turn
	HandoffPath      = "/voipbin/handoff"       // a caller being handed to a person
	HandoffAgentPath = "/voipbin/handoff/agent" // the leg rung, once its person answered
	CallbackPath     = "/voipbin/callback"      // the leg of a callback to a customer
)

// FetchRequest is the body of VoIPBin's fetch: the part of the activeflow
// Switchboard reads.
type FetchRequest struct {
	ActiveflowID string `json:"activeflow_id"`
	ReferenceID  string `json:"reference_id"` // the call's id
}

// FetchURL is the event_url of a fetch action: where VoIPBin fetches the
// next actions from. Its fields ride in the query; a field that is a VoIPBin
// variable (Var, DialledNumber) is put in as it is, for VoIPBin substitutes it,
// unencoded, when the fetch runs: the "+" of a number arrives as a space, and
// a "#" starts the URL's fragment, which is why d comes last. Every other
// value is query-escaped. Empty fields are left out. The query's order is
// fixed, so a flow written twice is the same.
type FetchURL struct {
	Base  string // the service's public URL, scheme://host; "" for a path only
	Path  string // FetchPath when empty
	Token string // t: the fetch token
	Lang  string // lang: the number's language
	Dept  string // dept: the department a caller is handed to (HandoffPath)
	Call  string // call: the caller's call id (HandoffAgentPath)
	CB    string // cb: the callback's id (CallbackPath)
	// Conf (conf) is the conference a callback's customer joins once told
	// who is calling back (CallbackPath, the customer's leg).
	Conf string
	// Left (left=1) is the fetch after a callback's conference_join: the
	// conversation is over and its conference is deleted.
	Left bool
	To   string // to: the number the caller dialled
	From string // from: the number the caller calls from
	Rec  string // rec: the recording of a message
	// Queued (queued) is when the caller was put in a department's queue
	// (Unix ms), on the fetch after a queue_join; 0 for none.
	Queued int64
	// Digits (d) are the keys pressed; Keyed puts d in even when empty
	// (a menu's fetch carries d whatever was pressed).
	Digits string
	Keyed  bool
}

// String is the URL.
func (u FetchURL) String() string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(u.Base, "/"))
	if u.Path == "" {
		b.WriteString(FetchPath)
	} else {
		b.WriteString(u.Path)
	}
	sep := "?"
	add := func(key, value string, always bool) {
		if value == "" && !always {
			return
		}
		if !strings.HasPrefix(value, "${") {
			value = url.QueryEscape(value)
		}
		b.WriteString(sep + key + "=" + value)
		sep = "&"
	}
	add("t", u.Token, true)
	add("lang", u.Lang, false)
	add("dept", u.Dept, false)
	add("call", u.Call, false)
	add("cb", u.CB, false)
	add("conf", u.Conf, false)
	if u.Left {
		add("left", "1", false)
	}
	if u.Path == HandoffPath {
		// The handoff's URL has always named the caller first; kept, so
		// that the recorded conversations read the same.
		add("from", u.From, false)
		add("to", u.To, false)
	} else {
		add("to", u.To, false)
		add("from", u.From, false)
	}
	add("rec", u.Rec, false)
	add("d", u.Digits, u.Keyed)
	if u.Queued != 0 {
		add("queued", strconv.FormatInt(u.Queued, 10), false)
	}
	return b.String()
}

// ParseFetchURL reads a fetch's query back, as VoIPBin sent it: values as
// they arrived (a variable VoIPBin left unset is "" or its "${...}"),
// unchecked; the server says what it cannot use. Base and Path are left
// empty.
func ParseFetchURL(q url.Values) FetchURL {
	queued, _ := strconv.ParseInt(q.Get("queued"), 10, 64) // 0: none, or not a number
	return FetchURL{Token: q.Get("t"), Lang: q.Get("lang"), Dept: q.Get("dept"), Call: q.Get("call"), CB: q.Get("cb"), Conf: q.Get("conf"), Left: q.Get("left") == "1",
		To: q.Get("to"), From: q.Get("from"), Rec: q.Get("rec"), Digits: q.Get("d"), Keyed: q.Has("d"), Queued: queued}
}
