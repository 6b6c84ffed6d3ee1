package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Harvest reads the server's JSON log lines and returns, for every call whose
// log carries its transcripts, a labelled conversation: the caller's turns
// and where the call finally went, for a person to review before it feeds
// eval or the config's examples.
//
// It reads any JSON line with these fields and ignores every other line (so
// it does not mind what else the log holds, or the message's wording); the
// names in brackets are read too, for summary lines that use them:
//
//	call        string    the call's id (required) [call_id]
//	turns       []string  the caller's transcripts, oldest first (required;
//	                      a count instead of a list means transcripts were not
//	                      logged, and the line is skipped) [transcripts]
//	dept        string    the department the router transferred the call to
//	                      [department, route]
//	why         string    why: keypad, priority, local, model, unsure, ...
//	                      [reason]
//	final_dept  string    where a person at the first department transferred
//	                      the call on to, when known (optional)
//
// A call's last such line wins. The label is final_dept when present (an agent
// knew better), else dept; the fallback desk becomes "unknown". OriginalLabel
// says where the label came from: "retransfer", "keypad" (the caller chose
// from the menu), or "router:<why>" (the router's own choice: review these).
func Harvest(r io.Reader, source, fallback string) ([]Conversation, HarvestStats, error) {
	type line struct {
		Call        string          `json:"call"`
		CallID      string          `json:"call_id"`
		Turns       json.RawMessage `json:"turns"`
		Transcripts json.RawMessage `json:"transcripts"`
		Dept        string          `json:"dept"`
		Department  string          `json:"department"`
		Route       string          `json:"route"`
		Closed      string          `json:"closed"`
		Why         string          `json:"why"`
		Reason      string          `json:"reason"`
		FinalDept   string          `json:"final_dept"`
		Repeat      bool            `json:"repeat"`
	}
	first := func(vs ...string) string {
		for _, v := range vs {
			if v != "" {
				return v
			}
		}
		return ""
	}
	var st HarvestStats
	calls := map[string]Conversation{}
	untold := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		st.Lines++
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		// A call for a closed department was routed elsewhere; what the
		// caller asked for is the department that was closed.
		l.Call, l.Dept, l.Why = first(l.Call, l.CallID), first(l.Closed, l.Dept, l.Department, l.Route), first(l.Why, l.Reason)
		if l.Turns == nil {
			l.Turns = l.Transcripts
		}
		if l.Call == "" || len(l.Turns) == 0 {
			continue
		}
		var turns []string
		if err := json.Unmarshal(l.Turns, &turns); err != nil {
			if l.Dept != "" { // a routed call, logged here without its words
				untold[l.Call] = true
			}
			continue
		}
		c := Conversation{ID: l.Call, Source: source, Turns: turns}
		switch {
		case l.FinalDept != "":
			c.Department, c.OriginalLabel = l.FinalDept, "retransfer"
		case l.Dept != "" && l.Why == "keypad":
			c.Department, c.OriginalLabel = l.Dept, "keypad"
		case l.Dept != "":
			c.Department, c.OriginalLabel = l.Dept, "router:"+l.Why
		}
		if c.Department == fallback {
			c.Department = Unknown
		}
		if l.Repeat { // the caller called within 24 h: the call before may have gone to the wrong place
			c.OriginalLabel += "; repeat call within 24 h"
		}
		calls[l.Call] = c
	}
	if err := sc.Err(); err != nil {
		return nil, st, fmt.Errorf("harvest: %w", err)
	}
	for id := range untold {
		if _, ok := calls[id]; !ok {
			st.NoTranscripts++
		}
	}
	var out []Conversation
	for _, c := range calls {
		if c.Department == "" || len(strings.Join(c.Turns, "")) == 0 {
			st.Unrouted++ // hung up before any transfer, or never spoke
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	st.Calls = len(out)
	return out, st, nil
}

// HarvestStats counts what a harvest read.
type HarvestStats struct {
	Lines, Calls int
	// NoTranscripts counts routed calls whose lines carried a turn count,
	// never the turns: the server ran without transcripts in its log.
	NoTranscripts int
	// Unrouted counts calls that never reached a department.
	Unrouted int
}

// WriteJSONL writes conversations in the corpus format Load reads.
func WriteJSONL(w io.Writer, convs []Conversation) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, c := range convs {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}
