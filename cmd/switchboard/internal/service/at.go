package service

// The --at flag of serve, check and simulate: the moment calls start at,
// for opening hours.

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/flow"
)

// atLayouts are the forms --at takes: a moment with its offset, or a wall
// clock read in the business's time zone.
var atLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04"}

// ParseAt reads --at: RFC 3339 (2026-12-25T10:00:00-05:00), or a wall-clock
// time (2026-12-25T10:00) in routing.hours' time zone, else UTC.
func ParseAt(s string, cfg *flow.Config) (time.Time, error) {
	loc := time.UTC
	if h := cfg.Routing.Hours; h != nil && h.Location() != nil {
		loc = h.Location()
	}
	for _, layout := range atLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: want 2026-12-25T10:00 (in routing.hours' time zone) or 2026-12-25T10:00:00-05:00", s)
}

// clockFrom is a clock that reads at when it is first asked and runs on from
// there in real time, so a call played "at" a moment takes its real length.
func clockFrom(at time.Time) func() time.Time {
	start := time.Now()
	return func() time.Time { return at.Add(time.Since(start)) }
}
