package flow

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Opening hours. A department answers while it is open; a call for it while
// it is closed goes along its after_hours chain (default: the fallback desk)
// to the first department that is open. The rules, in one place:
//
//   - A department's hours are its own, else routing.hours (the business's);
//     without either it is always open. The emergency line does not take
//     routing.hours: it is always open unless it has hours of its own.
//   - A department's own hours may leave out timezone and holidays; they are
//     then routing.hours'. Its weekly ranges are its own.
//   - A weekday left out of weekly is closed all day. A range may run past
//     midnight ("22:00-02:00" opens on its day and closes on the next);
//     "00:00-24:00" is the whole day. Ranges may touch but not overlap.
//   - A holiday closes its whole calendar day, and a range that starts on it
//     does not open either.
//   - The time is the call's first turn (Call.StartedMS), in the hours' zone:
//     a call that starts at 16:59 is not rerouted at 17:00.
//   - When nobody along the chain is open, the caller hears texts.closed_all
//     and the call ends (hand_back mode: the customer's flow is told, with
//     switchboard.open=false and an empty switchboard.after_hours). Priority
//     words still reach the emergency line, which is always open unless it
//     says otherwise; a closed emergency line follows its own after_hours.

// Hours is when a department answers.
type Hours struct {
	// Timezone is an IANA zone name, America/New_York; its rules, DST
	// included, decide the wall clock the ranges are read on.
	Timezone string `json:"timezone,omitempty"`
	// Weekly maps mon..sun to that day's ranges, "09:00-17:00".
	Weekly map[string][]string `json:"weekly"`
	// Holidays are whole days closed, "2026-12-25", in the hours' zone.
	Holidays []string `json:"holidays,omitempty"`

	// What compile prepares from the above (ParseConfig, compileHours).
	loc      *time.Location
	days     [7][]span // by time.Weekday
	holidays map[date]bool
}

// span is one opening range of a day, in minutes after its midnight; to
// beyond 1440 runs into the next day.
type span struct{ from, to int }

type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// weekdays are the keys of Hours.Weekly, Sunday first as in time.Weekday.
var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var clockRange = regexp.MustCompile(`^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$`)

// parseRange reads "09:00-17:00"; a range whose end is before its start runs
// past midnight.
func parseRange(s string) (span, bool) {
	m := clockRange.FindStringSubmatch(s)
	if m == nil {
		return span{}, false
	}
	n := make([]int, 4)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	from, to := n[0]*60+n[1], n[2]*60+n[3]
	switch {
	case n[0] > 23 || n[1] > 59 || n[3] > 59 || n[2] > 24 || n[2] == 24 && n[3] != 0:
		return span{}, false
	case from == to:
		return span{}, false
	case to < from:
		to += 24 * 60
	}
	return span{from, to}, true
}

// compile checks h and prepares it for OpenAt, naming each problem under at.
func (h *Hours) compile(at string, bad func(format string, args ...any)) {
	switch loc, err := time.LoadLocation(h.Timezone); {
	case h.Timezone == "":
		bad("%s.timezone: missing; an IANA zone such as America/New_York", at)
	case h.Timezone == "Local":
		bad("%s.timezone: \"Local\" is the server's zone, not the business's; name it, such as America/New_York", at)
	case err != nil:
		bad("%s.timezone: %q is not an IANA time zone such as America/New_York", at, h.Timezone)
	default:
		h.loc = loc
	}
	h.days = [7][]span{}
	type placed struct {
		s     span
		day   int // Monday 0, for the week's order
		label string
	}
	var week []placed
	badRanges := false
	for _, day := range sortedKeys(h.Weekly) {
		wd := slices.Index(weekdays, day)
		if wd < 0 {
			bad("%s.weekly.%s: not a day; want mon, tue, wed, thu, fri, sat or sun", at, day)
			continue
		}
		for _, r := range h.Weekly[day] {
			s, ok := parseRange(r)
			if !ok {
				bad("%s.weekly.%s: %q is not a range like 09:00-17:00 (24-hour clock; 22:00-02:00 runs past midnight, 00:00-24:00 is the whole day)", at, day, r)
				badRanges = true
				continue
			}
			h.days[wd] = append(h.days[wd], s)
			week = append(week, placed{s, (wd + 6) % 7, day + " " + r})
		}
	}
	if len(week) == 0 && !badRanges {
		bad("%s.weekly: no opening hours on any day; a department that never opens needs no hours, remove it or give it some", at)
	}
	// Overlaps are refused: they are almost always a typo, and without them
	// every minute of the week belongs to at most one range that check prints.
	const weekMin = 7 * 24 * 60
	sort.Slice(week, func(i, j int) bool { return week[i].day*1440+week[i].s.from < week[j].day*1440+week[j].s.from })
	for i := range week {
		a := week[i]
		b := week[(i+1)%len(week)]
		aEnd, bStart := a.day*1440+a.s.to, b.day*1440+b.s.from
		if i+1 == len(week) {
			bStart += weekMin // Sunday night running into Monday
		}
		if len(week) > 1 && aEnd > bStart {
			bad("%s.weekly: %q and %q overlap", at, a.label, b.label)
		}
	}
	h.holidays = map[date]bool{}
	for _, d := range h.Holidays {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			bad("%s.holidays: %q is not a date like 2026-12-25", at, d)
			continue
		}
		h.holidays[dateOf(t)] = true
	}
}

// OpenAt reports whether h is open at t. Nil hours are always open.
func (h *Hours) OpenAt(t time.Time) bool {
	if h == nil {
		return true
	}
	if h.loc == nil { // not compiled (Validate refuses such a config): open rather than strand callers
		return true
	}
	lt := t.In(h.loc)
	today := dateOf(lt)
	if h.holidays[today] {
		return false
	}
	minute := lt.Hour()*60 + lt.Minute()
	for _, s := range h.days[lt.Weekday()] {
		if s.from <= minute && minute < s.to {
			return true
		}
	}
	// Yesterday's ranges that run past midnight, unless yesterday was a holiday.
	yesterday := time.Date(today.y, today.m, today.d-1, 12, 0, 0, 0, h.loc)
	if h.holidays[dateOf(yesterday)] {
		return false
	}
	for _, s := range h.days[yesterday.Weekday()] {
		if minute < s.to-24*60 {
			return true
		}
	}
	return false
}

// horizon is how far ahead NextChange looks: a year of holidays at most.
const horizon = 400

// NextChange returns the first moment after t when h opens or closes, and
// false when it does neither within a year (always open, or never).
func (h *Hours) NextChange(t time.Time) (time.Time, bool) {
	if h == nil || h.loc == nil {
		return time.Time{}, false
	}
	lt := t.In(h.loc)
	// The state changes only where a range starts or ends or a day begins.
	var at []time.Time
	for i := -1; i <= horizon; i++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+i, 0, 0, 0, 0, h.loc)
		at = append(at, day)
		for _, s := range h.days[day.Weekday()] {
			for _, m := range []int{s.from, s.to} {
				at = append(at, time.Date(day.Year(), day.Month(), day.Day(), 0, m, 0, 0, h.loc))
			}
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	open := h.OpenAt(t)
	for _, c := range at {
		if c.After(t) && h.OpenAt(c) != open {
			return c, true
		}
	}
	return time.Time{}, false
}

// Location is the zone h is read in (nil before Validate).
func (h *Hours) Location() *time.Location { return h.loc }

// HoursOf returns the hours a department keeps: its own, else the
// business's (never for the emergency line); nil means always open.
func (r *Routing) HoursOf(name string) *Hours {
	if d, ok := r.Department(name); ok && d.Hours != nil {
		return d.Hours
	}
	if name == Emergency {
		return nil
	}
	return r.Hours
}

// afterHoursOf is where a call for a closed department goes next: its
// after_hours, else the fallback desk; "" after the fallback desk itself.
func (r *Routing) afterHoursOf(name string) string {
	if d, ok := r.Department(name); ok && d.AfterHours != "" {
		return d.AfterHours
	}
	if name == r.Fallback.Destination {
		return ""
	}
	return r.Fallback.Destination
}

// Reach returns the department a call for dept goes to at t: dept while it
// is open, else the first open department along its after_hours chain, or ""
// when nobody on it is open.
func (r *Routing) Reach(dept string, t time.Time) string {
	var seen []string
	for name := dept; name != "" && !slices.Contains(seen, name); name = r.afterHoursOf(name) {
		if r.HoursOf(name).OpenAt(t) {
			return name
		}
		seen = append(seen, name)
	}
	return ""
}

// compileHours prepares every opening hours for OpenAt, a department's
// missing zone and holidays inherited from routing.hours. ParseConfig runs it
// with the defaults, before Validate; what cannot be compiled stays
// uncompiled (always open), and Validate names why.
func (r *Routing) compileHours() {
	ignore := func(string, ...any) {}
	if r.Hours != nil {
		r.Hours.compile("routing.hours", ignore)
	}
	for _, d := range r.Departments {
		if d != nil && d.Hours != nil {
			r.inheritHours(d.Hours)
			d.Hours.compile("", ignore)
		}
	}
}

// inheritHours gives h routing.hours' zone and holidays where it has none.
func (r *Routing) inheritHours(h *Hours) {
	if r.Hours == nil {
		return
	}
	if h.Timezone == "" {
		h.Timezone = r.Hours.Timezone
	}
	if h.Holidays == nil {
		h.Holidays = r.Hours.Holidays
	}
}

// validateHours names every problem of the opening hours, after_hours chains
// that name no department or go round in a loop included. It changes
// nothing: each hours is checked on a copy (compileHours prepares them).
func (r *Routing) validateHours(bad func(format string, args ...any)) {
	if r.Hours != nil {
		h := *r.Hours
		h.compile("routing.hours", bad)
	}
	names := r.DepartmentNames(true)
	for _, name := range names {
		d := r.Departments[name]
		if d == nil {
			continue
		}
		if d.Hours != nil {
			h := *d.Hours
			r.inheritHours(&h)
			h.compile("routing.departments."+name+".hours", bad)
		}
		if d.AfterHours != "" {
			if _, ok := r.Department(d.AfterHours); !ok {
				bad("routing.departments.%s.after_hours: %q is not a configured department", name, d.AfterHours)
			}
		}
	}
	for _, lang := range sortedKeys(r.Texts) {
		if t := r.Texts[lang]; t != nil && t.Closed != "" && !strings.Contains(t.Closed, "{other}") {
			bad("routing.texts.%s.closed: must contain {other}, where the caller goes instead", lang)
		}
	}
	for _, name := range names {
		if r.Departments[name] == nil || r.Departments[name].AfterHours == "" {
			continue
		}
		chain := []string{name}
		for next := r.afterHoursOf(name); next != ""; next = r.afterHoursOf(next) {
			if _, ok := r.Department(next); !ok {
				break
			}
			chain = append(chain, next)
			if next == name {
				bad("routing.departments.%s.after_hours: a loop: %s (a department without after_hours goes to the fallback desk)", name, strings.Join(chain, " -> "))
				break
			}
			if slices.Contains(chain[:len(chain)-1], next) {
				break // a loop further on, reported from a department in it
			}
		}
	}
}

// describeWeek is h's week in one line: "mon 09:00-17:00, ..., sun closed".
func (h *Hours) describeWeek() string {
	var days []string
	for i := range 7 {
		day := weekdays[(i+1)%7] // Monday first
		ranges := h.Weekly[day]
		if len(ranges) == 0 {
			days = append(days, day+" closed")
			continue
		}
		days = append(days, day+" "+strings.Join(ranges, " "))
	}
	return strings.Join(days, ", ")
}

// DescribeHours lists, for `switchboard check`, each department's week, where
// its callers go when it is closed, and whether it is open at now with its
// next opening and closing.
func (r *Routing) DescribeHours(now time.Time) []string {
	var out []string
	names := r.DepartmentNames(true)
	if !slices.ContainsFunc(names, func(name string) bool { return r.HoursOf(name) != nil }) {
		return []string{"none configured: every department is always open"}
	}
	stamp := func(t time.Time) string { return t.Format("Mon 2006-01-02 15:04 MST") }
	for _, name := range names {
		h := r.HoursOf(name)
		if h == nil {
			out = append(out, fmt.Sprintf("%-10s always open", name))
			continue
		}
		line := fmt.Sprintf("%-10s %s: %s", name, h.Timezone, h.describeWeek())
		if len(h.Holidays) > 0 {
			line += "; holidays " + strings.Join(h.Holidays, " ")
		}
		out = append(out, line)
		later := "nobody: they hear texts.closed_all"
		if to := r.afterHoursOf(name); to != "" {
			later = to
		}
		out = append(out, fmt.Sprintf("%-10s while closed, its callers go to %s", "", later))
		line = fmt.Sprintf("%-10s at %s: ", "", stamp(now.In(h.loc)))
		first, ok := h.NextChange(now)
		second, ok2 := h.NextChange(first)
		then := func(verb string) string {
			if !ok2 {
				return ", and does not " + verb + " again within a year"
			}
			return ", " + verb + " " + stamp(second)
		}
		switch open := h.OpenAt(now); {
		case !ok && open:
			line += "open, and stays open for a year"
		case !ok:
			line += "closed, and does not open within a year"
		case open:
			line += "open; closes " + stamp(first) + then("opens")
		default:
			line += "closed; opens " + stamp(first) + then("closes")
		}
		out = append(out, line)
	}
	return out
}

// startedAt is the moment c's opening hours are read at.
func (c *Call) startedAt() time.Time { return time.UnixMilli(c.StartedMS) }

// clock is the time of day by Clock.
func (r *Router) clock() time.Time {
	if r.Clock != nil {
		return r.Clock()
	}
	return r.Now()
}

// reach is where a call for dept goes at the call's start: to, and closed
// naming dept when it was closed (else "").
func (r *Router) reach(c *Call, dept string) (to, closed string) {
	to = r.cfg.Reach(dept, c.startedAt())
	if to != dept {
		closed = dept
	}
	return to, closed
}

// routeClosed routes a call for the closed department closed: to the open
// department to, saying so, or, when nobody is open (to is ""), the
// closed_all text and the end of the call.
func (r *Router) routeClosed(c *Call, closed, to, reason string, conf float64) decision {
	lang := c.Language
	if _, ok := r.cfg.Texts[lang]; !ok {
		lang = r.cfg.Language
	}
	texts := r.cfg.Texts[lang]
	if to == "" {
		return decision{event: EventClosed, reason: reason, conf: conf, closed: closed, acts: []Action{
			{Kind: ActTalk, Text: texts.ClosedAll, Language: lang},
			{Kind: ActHangup},
		}}
	}
	acts := r.connect(to, lang)
	acts[0].Text = strings.NewReplacer("{department}", r.labelOf(closed, lang), "{other}", r.labelOf(to, lang)).Replace(texts.Closed)
	return decision{event: EventRoute, acts: acts, dept: to, reason: reason, conf: conf, closed: closed}
}

// labelOf is what a caller speaking lang hears as a department's name.
func (r *Router) labelOf(name, lang string) string {
	if d, ok := r.cfg.Department(name); ok {
		return d.LabelIn(lang)
	}
	return name
}

// HasHours reports whether any department keeps opening hours.
func (r *Routing) HasHours() bool {
	for _, name := range r.DepartmentNames(true) {
		if r.HoursOf(name) != nil {
			return true
		}
	}
	return false
}

// AllOpen returns the first moment from from on, on the half hour and
// within two weeks, when every department is open; false when there is
// none (departments whose hours never meet).
func (r *Routing) AllOpen(from time.Time) (time.Time, bool) {
	t := from.Truncate(30 * time.Minute)
	for range 14 * 48 {
		open := true
		for _, name := range r.DepartmentNames(true) {
			if !r.HoursOf(name).OpenAt(t) {
				open = false
				break
			}
		}
		if open {
			return t, true
		}
		t = t.Add(30 * time.Minute)
	}
	return time.Time{}, false
}
