package flow

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones, whatever the machine has installed

	"github.com/google/go-cmp/cmp"
)

// withHours is a valid config with routing.hours and departments given as
// JSON fragments ("" leaves them out).
func withHours(hours, departments string) string {
	if departments == "" {
		departments = `"sales": "+14155550100", "support": "+14155550101"`
	}
	if hours != "" {
		hours = `"hours": ` + hours + `,`
	}
	return `{"routing": {` + hours + `
		"departments": {` + departments + `, "billing": "+14155550102",
			"fallback": "+14155550199", "emergency": "+14155550911"}}}`
}

func TestHoursValidation(t *testing.T) {
	week := func(ranges string) string {
		return `{"timezone": "America/New_York", "weekly": {` + ranges + `}}`
	}
	tests := []struct {
		name, hours, departments string
		want                     []string // substrings, one per expected problem; none means valid
	}{
		{"a week", week(`"mon": ["09:00-12:00", "13:00-17:00"], "sat": ["10:00-14:00"]`), "", nil},
		{"ranges may touch", week(`"mon": ["09:00-12:00", "12:00-17:00"]`), "", nil},
		{"past midnight, and the whole day", week(`"fri": ["22:00-02:00"], "sat": ["02:00-24:00"], "sun": ["00:00-24:00"]`), "", nil},
		{"Sunday night into Monday morning, touching", week(`"sun": ["22:00-06:00"], "mon": ["06:00-17:00"]`), "", nil},
		{"no hours: always open", "", "", nil},
		{"bad ranges", week(`"mon": ["25:00-26:00", "09:00-09:00", "9:00-17:00", "09:00-24:30", "24:00-02:00", "09:60-10:00"]`), "", []string{
			`weekly.mon: "25:00-26:00" is not a range`, `weekly.mon: "09:00-09:00" is not a range`, `weekly.mon: "9:00-17:00" is not a range`,
			`weekly.mon: "09:00-24:30" is not a range`, `weekly.mon: "24:00-02:00" is not a range`, `weekly.mon: "09:60-10:00" is not a range`}},
		{"not a day", week(`"mond": ["09:00-17:00"], "tue": ["09:00-17:00"]`), "", []string{`routing.hours.weekly.mond: not a day`}},
		{"overlap in a day", week(`"mon": ["09:00-13:00", "12:00-17:00"]`), "", []string{`routing.hours.weekly: "mon 09:00-13:00" and "mon 12:00-17:00" overlap`}},
		{"overlap past midnight", week(`"fri": ["22:00-03:00"], "sat": ["02:00-10:00"]`), "", []string{`"fri 22:00-03:00" and "sat 02:00-10:00" overlap`}},
		{"overlap from Sunday night into Monday", week(`"sun": ["22:00-07:00"], "mon": ["06:00-17:00"]`), "", []string{`"sun 22:00-07:00" and "mon 06:00-17:00" overlap`}},
		{"never open", week(``), "", []string{"routing.hours.weekly: no opening hours on any day"}},
		{"never open, days listed", week(`"mon": [], "tue": []`), "", []string{"routing.hours.weekly: no opening hours on any day"}},
		{"bad zone", `{"timezone": "America/Gotham", "weekly": {"mon": ["09:00-17:00"]}}`, "", []string{`routing.hours.timezone: "America/Gotham" is not an IANA time zone`}},
		{"no zone", `{"weekly": {"mon": ["09:00-17:00"]}}`, "", []string{`routing.hours.timezone: missing`}},
		{"the server's zone", `{"timezone": "Local", "weekly": {"mon": ["09:00-17:00"]}}`, "", []string{`"Local" is the server's zone`}},
		{"holidays not dates", `{"timezone": "UTC", "weekly": {"mon": ["09:00-17:00"]}, "holidays": ["2026-12-25", "25/12/2026", "2026-02-30", "christmas"]}`, "",
			[]string{`"25/12/2026" is not a date`, `"2026-02-30" is not a date`, `"christmas" is not a date`}},
		{"a department's zone comes from routing.hours", week(`"mon": ["09:00-17:00"]`),
			`"sales": {"number": "+14155550100", "hours": {"weekly": {"sat": ["10:00-14:00"]}}}, "support": "+14155550101"`, nil},
		{"a department without zone, and none to inherit", "",
			`"sales": {"number": "+14155550100", "hours": {"weekly": {"sat": ["10:00-14:00"]}}}, "support": "+14155550101"`,
			[]string{"routing.departments.sales.hours.timezone: missing"}},
		{"after_hours names no department", "",
			`"sales": {"number": "+14155550100", "after_hours": "night"}, "support": "+14155550101"`,
			[]string{`routing.departments.sales.after_hours: "night" is not a configured department`}},
		{"after_hours loop", "",
			`"sales": {"number": "+14155550100", "after_hours": "support"}, "support": {"number": "+14155550101", "after_hours": "sales"}`,
			[]string{"routing.departments.sales.after_hours: a loop: sales -> support -> sales", "routing.departments.support.after_hours: a loop: support -> sales -> support"}},
		{"after_hours loop through the fallback desk's default", "",
			`"sales": "+14155550100", "support": "+14155550101", "fallback": {"number": "+14155550199", "after_hours": "sales"}`,
			[]string{"routing.departments.fallback.after_hours: a loop: fallback -> sales -> fallback"}},
		{"after_hours to itself", "",
			`"sales": {"number": "+14155550100", "after_hours": "sales"}, "support": "+14155550101"`,
			[]string{"routing.departments.sales.after_hours: a loop: sales -> sales"}},
		{"a chain that ends", "",
			`"sales": {"number": "+14155550100", "after_hours": "support"}, "support": {"number": "+14155550101", "after_hours": "emergency"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := withHours(tt.hours, tt.departments)
			if strings.Contains(tt.departments, `"fallback"`) {
				js = strings.Replace(js, `"fallback": "+14155550199", `, "", 1)
			}
			_, err := ParseConfig(strings.NewReader(js))
			checkProblems(t, err, tt.want)
		})
	}
}

func TestClosedTextSaysWhere(t *testing.T) {
	js := strings.Replace(withHours("", ""), `{"routing": {`, `{"routing": {"texts": {"en-US": {"closed": "{department} is closed."}},`, 1)
	_, err := ParseConfig(strings.NewReader(js))
	checkProblems(t, err, []string{"routing.texts.en-US.closed: must contain {other}"})
}

// testHours compiles hours given as JSON inside a config.
func testHours(t *testing.T, hours string) *Hours {
	t.Helper()
	cfg, err := ParseConfig(strings.NewReader(withHours(hours, "")))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Routing.Hours
}

func TestOpenAt(t *testing.T) {
	h := testHours(t, `{"timezone": "America/New_York", "weekly": {
		"mon": ["09:00-17:00"], "wed": ["09:00-12:00", "13:00-17:00"], "thu": ["22:00-02:00"], "fri": ["22:00-02:00"],
		"sun": ["01:00-04:00", "22:00-24:00"]}, "holidays": ["2026-12-25"]}`)
	ny, _ := time.LoadLocation("America/New_York")
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"Wednesday morning", at("2026-12-02 10:00"), true},
		{"before opening", at("2026-12-02 08:59"), false},
		{"the last minute", at("2026-12-02 16:59"), true},
		{"closing time is closed", at("2026-12-02 17:00"), false},
		{"the lunch break", at("2026-12-02 12:30"), false},
		{"a day left out", at("2026-12-01 10:00"), false},
		{"past midnight: the evening", at("2026-12-04 23:00"), true},
		{"past midnight: the next morning", at("2026-12-05 01:59"), true},
		{"past midnight: closed at its end", at("2026-12-05 02:00"), false},
		{"a holiday closes the whole day", at("2026-12-25 23:00"), false},
		{"the night before a holiday runs into it: closed from midnight", at("2026-12-25 01:00"), false},
		{"a holiday's own night does not open the next morning", at("2026-12-26 01:00"), false},
		{"the night before the holiday, before midnight", at("2026-12-24 23:00"), true},
		{"until 24:00", at("2026-12-06 23:59"), true},
		{"the same instant in another zone", time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC), true}, // 10:00 EST
		// 8 March 2026: New York's clocks go from 02:00 EST to 03:00 EDT.
		{"DST night, before the change", time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), true}, // 01:30 EST
		{"DST night, after the change", time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), true},  // 03:30 EDT
		{"DST night, past the range", time.Date(2026, 3, 8, 8, 30, 0, 0, time.UTC), false},   // 04:30 EDT
		{"13:30 UTC the Monday before: 08:30 EST", time.Date(2026, 3, 2, 13, 30, 0, 0, time.UTC), false},
		{"13:30 UTC the Monday after: 09:30 EDT", time.Date(2026, 3, 9, 13, 30, 0, 0, time.UTC), true},
	} {
		if got := h.OpenAt(tt.at); got != tt.want {
			t.Errorf("%s: OpenAt(%s) = %v, want %v", tt.name, tt.at.In(ny).Format(time.RFC3339), got, tt.want)
		}
	}
	var always *Hours
	if !always.OpenAt(time.Now()) {
		t.Error("no hours must be always open")
	}
}

func TestNextChange(t *testing.T) {
	h := testHours(t, `{"timezone": "America/New_York", "weekly": {
		"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"], "thu": ["09:00-17:00"], "fri": ["09:00-17:00"],
		"sat": ["22:00-02:00"]}, "holidays": ["2026-12-25"]}`)
	ny, _ := time.LoadLocation("America/New_York")
	for _, tt := range []struct {
		name     string
		from     time.Time
		want     time.Time
		wantNone bool
	}{
		{"closed in the evening: opens the next morning", time.Date(2026, 12, 2, 19, 30, 0, 0, ny), time.Date(2026, 12, 3, 9, 0, 0, 0, ny), false},
		{"open: closes at five", time.Date(2026, 12, 2, 10, 0, 0, 0, ny), time.Date(2026, 12, 2, 17, 0, 0, 0, ny), false},
		{"over Christmas: Saturday night", time.Date(2026, 12, 24, 17, 30, 0, 0, ny), time.Date(2026, 12, 26, 22, 0, 0, 0, ny), false},
		{"past midnight: closes on Sunday", time.Date(2026, 12, 26, 23, 0, 0, 0, ny), time.Date(2026, 12, 27, 2, 0, 0, 0, ny), false},
		// Over the spring-forward night: Monday 09:00 is EDT, 13:00 UTC.
		{"across DST", time.Date(2026, 3, 8, 3, 0, 0, 0, ny), time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC), false},
	} {
		got, ok := h.NextChange(tt.from)
		if ok == tt.wantNone || !got.Equal(tt.want) {
			t.Errorf("%s: NextChange(%s) = %s, %v; want %s", tt.name, tt.from, got, ok, tt.want)
		}
	}
	var always *Hours
	if _, ok := always.NextChange(time.Now()); ok {
		t.Error("always open never changes")
	}
}

// TestHoursOf: a department keeps its own hours, else the business's; the
// emergency line only its own. A department's hours take the zone and the
// holidays they leave out from routing.hours.
func TestHoursOf(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(withHours(`{"timezone": "Europe/Paris", "weekly": {"mon": ["09:00-17:00"]}, "holidays": ["2026-12-25"]}`,
		`"sales": {"number": "+14155550100", "hours": {"weekly": {"sat": ["10:00-14:00"]}}},
		 "support": {"number": "+14155550101", "hours": {"timezone": "Asia/Tokyo", "weekly": {"sun": ["10:00-14:00"]}, "holidays": []}}`)))
	if err != nil {
		t.Fatal(err)
	}
	r := &cfg.Routing
	if r.HoursOf("billing") != r.Hours || r.HoursOf(Fallback) != r.Hours {
		t.Error("departments without hours must keep the business's")
	}
	if r.HoursOf(Emergency) != nil {
		t.Error("the emergency line must be always open unless it says otherwise")
	}
	sales, support := r.HoursOf("sales"), r.HoursOf("support")
	if got := []string{sales.Timezone, strings.Join(sales.Holidays, ","), support.Timezone, strings.Join(support.Holidays, ",")}; !cmp.Equal(got, []string{"Europe/Paris", "2026-12-25", "Asia/Tokyo", ""}) {
		t.Errorf("inherited zone and holidays = %q", got)
	}
}

// TestReach follows after_hours chains.
func TestReach(t *testing.T) {
	closedAt := `{"timezone": "UTC", "weekly": {"mon": ["09:00-17:00"]}}`
	cfg, err := ParseConfig(strings.NewReader(withHours(closedAt,
		`"sales": {"number": "+14155550100", "after_hours": "support"},
		 "support": {"number": "+14155550101", "hours": {"weekly": {"mon": ["09:00-22:00"]}}},
		 "night": {"number": "+14155550102", "hours": {"weekly": {"mon": ["00:00-24:00"]}}, "after_hours": "emergency"}`)))
	if err != nil {
		t.Fatal(err)
	}
	r := &cfg.Routing
	monday := func(h int) time.Time { return time.Date(2026, 11, 30, h, 0, 0, 0, time.UTC) }
	for _, tt := range []struct {
		dept string
		at   time.Time
		want string
	}{
		{"sales", monday(10), "sales"},
		{"sales", monday(19), "support"},
		{"sales", monday(23), ""}, // support, then the fallback desk, closed
		{"billing", monday(19), ""},
		{"billing", monday(10), "billing"},
		{Emergency, monday(23), Emergency},
		{"night", monday(23), "night"},
		{"night", monday(23).Add(24 * time.Hour), Emergency}, // Tuesday: its own after_hours
		{"nobody", monday(23), ""},                           // not configured: the business's hours, then the fallback desk
	} {
		if got := r.Reach(tt.dept, tt.at); got != tt.want {
			t.Errorf("Reach(%s, %s) = %q, want %q", tt.dept, tt.at.Format("Mon 15:04"), got, tt.want)
		}
	}
}

// hoursRouter is a router on the hours config whose clock the test sets.
func hoursRouter(t *testing.T, clock *time.Time) (*Router, *memCalls) {
	return hoursRouterLogging(t, clock, io.Discard)
}

func hoursRouterLogging(t *testing.T, clock *time.Time, log io.Writer) (*Router, *memCalls) {
	t.Helper()
	cfg := loadModes(t, "../routing-hours.json")
	st := &memCalls{calls: map[string]Call{}}
	r := NewRouter(cfg, st, NewLocal(cfg), nil, slog.New(slog.NewJSONHandler(log, nil)))
	r.Clock = func() time.Time { return *clock }
	return r, st
}

// memCalls is the smallest flow.Calls: the store package's own cannot be
// imported here.
type memCalls struct{ calls map[string]Call }

func (m *memCalls) Load(_ context.Context, id string) (Call, []Input, error) {
	c, ok := m.calls[id]
	if !ok {
		c = Call{ID: id}
	}
	return c, nil, nil
}

func (m *memCalls) Save(_ context.Context, c Call, _ int) error {
	c.Version++
	m.calls[c.ID] = c
	return nil
}

// TestHoursAtTheCallsStart: the hours are read at the call's first turn, so
// a caller who started at 16:59 still reaches Sales at 17:01.
func TestHoursAtTheCallsStart(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 16, 59, 0, 0, ny)
	r, st := hoursRouter(t, &now)
	ctx := context.Background()
	turn := Turn{CallID: "late", Channel: Webhook, Words: "hi"}
	if acts := r.Next(ctx, turn).Actions; lastTarget(acts) != "" || acts[0].Kind != ActTalk {
		t.Fatalf("first turn %+v, want a clarifying question", acts)
	}
	now = now.Add(2 * time.Minute)
	turn.Words = "I want to buy twenty more licenses for my team"
	acts := r.Next(ctx, turn).Actions
	if got := lastTarget(acts); got != "+14155550100" {
		t.Errorf("at 17:01 a call that started at 16:59 went to %s (%+v), want Sales", got, acts)
	}
	if c := st.calls["late"]; c.StartedMS != time.Date(2026, 12, 2, 16, 59, 0, 0, ny).UnixMilli() || c.Closed != "" {
		t.Errorf("call started %d, closed %q; want the first turn's time, nothing closed", c.StartedMS, c.Closed)
	}
	// A call that starts now, at 17:01, finds Sales closed.
	acts = r.Next(ctx, Turn{CallID: "later", Channel: Webhook, Words: "I want to buy twenty more licenses for my team"}).Actions
	if got := lastTarget(acts); got != "+14155550101" || acts[0].Text != "Sales is closed now. Connecting you to Technical Support." {
		t.Errorf("a call at 17:01: %+v, want Technical Support, told why", acts)
	}
	if c := st.calls["later"]; c.Closed != "sales" || c.Department != "support" {
		t.Errorf("call closed %q, department %q; want sales, support", c.Closed, c.Department)
	}
}

func lastTarget(acts []Action) string {
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].Kind == ActConnect {
			return acts[i].To.Target
		}
	}
	return ""
}

// TestClosedAll: nobody open: the caller hears closed_all, the call ends,
// and a fetch after it gets the hangup only.
func TestClosedAll(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny)
	var log bytes.Buffer
	r, st := hoursRouterLogging(t, &now, &log)
	ctx := context.Background()
	turn := Turn{CallID: "night", Channel: Voice}
	r.Next(ctx, turn) // the greeting
	turn.Words = "my invoice shows a double charge this month"
	reply := r.Next(ctx, turn)
	if got := kindsOf(reply.Actions); got != "talk hangup" || !strings.HasPrefix(reply.Actions[0].Text, "We are closed now.") {
		t.Errorf("closed_all answer %+v, want the closed_all talk and a hangup", reply.Actions)
	}
	if c := st.calls["night"]; c.State != StateEnded || c.Closed != "billing" || c.Department != "" {
		t.Errorf("call %s, closed %q, department %q; want ended, billing, none", c.State, c.Closed, c.Department)
	}
	// The summary names what the caller asked for (switchboard harvest labels by it).
	if !strings.Contains(log.String(), `"msg":"call summary","call":"night","state":"ended","route":"","closed":"billing"`) {
		t.Errorf("no call summary naming the closed department in:\n%s", log.String())
	}
	if got := kindsOf(r.Next(ctx, Turn{CallID: "night", Channel: Voice}).Actions); got != "hangup" {
		t.Errorf("a fetch after closed_all: %s, want hangup", got)
	}
}

// TestFlowStepClosed: a flow-step call for a closed department hands back
// the department with switchboard.open=false and where after_hours goes, and
// says the same again to a fetch that comes back.
func TestFlowStepClosed(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, ny)
	r, _ := hoursRouter(t, &now)
	ctx := context.Background()
	turn := Turn{CallID: "fs", Channel: Voice, Dialled: "+14155550302"}
	r.Next(ctx, turn)
	turn.Words = "I want to buy twenty more licenses for my team"
	vars := func(acts []Action) map[string]string {
		got := map[string]string{}
		for _, a := range acts {
			got[a.Variable] = a.Value
		}
		return got
	}
	want := map[string]string{VarDepartment: "sales", VarDestination: "+14155550100", VarReason: "local", VarConfidence: "1.00",
		VarOpen: "false", VarAfterHours: ""} // support and the fallback desk are closed too at 23:30
	if diff := cmp.Diff(want, vars(r.Next(ctx, turn).Actions)); diff != "" {
		t.Errorf("hand-back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, vars(r.Next(ctx, Turn{CallID: "fs", Channel: Voice}).Actions)); diff != "" {
		t.Errorf("hand-back again (-want +got):\n%s", diff)
	}
}

func kindsOf(acts []Action) string {
	var k []string
	for _, a := range acts {
		k = append(k, string(a.Kind))
	}
	return strings.Join(k, " ")
}

// TestMenuOffersOpenDepartments: the keypad menu leaves out what is closed
// at the call's start; with nobody open it is not offered at all.
func TestMenuOffersOpenDepartments(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	var now time.Time
	r, _ := hoursRouter(t, &now)
	for _, tt := range []struct {
		at   time.Time
		want string
		ok   bool
	}{
		{time.Date(2026, 12, 2, 10, 0, 0, 0, ny), "Please press 1 for Sales, 2 for Technical Support, 3 for Billing & Accounts, or 0 for Main Reception.", true},
		{time.Date(2026, 12, 2, 18, 0, 0, 0, ny), "Please press 2 for Technical Support.", true},
		{time.Date(2026, 12, 5, 15, 0, 0, 0, ny), "Please press 2 for Technical Support.", true},
		{time.Date(2026, 12, 2, 23, 0, 0, 0, ny), "Please press .", false},
	} {
		got, ok := r.menuText("en-US", tt.at)
		if got != tt.want || ok != tt.ok {
			t.Errorf("menuText at %s = %q, %v; want %q, %v", tt.at.Format("Mon 15:04"), got, ok, tt.want, tt.ok)
		}
	}
	r.cfg.Departments["support"].Digit = "" // the fallback desk alone has a key: no "or"
	if got, _ := r.menuText("en-US", time.Date(2026, 12, 2, 10, 0, 0, 0, ny)); got != "Please press 1 for Sales, 3 for Billing & Accounts, or 0 for Main Reception." {
		t.Errorf("menu %q", got)
	}
	r.cfg.Departments["sales"].Digit, r.cfg.Departments["billing"].Digit = "", ""
	if got, _ := r.menuText("en-US", time.Date(2026, 12, 2, 10, 0, 0, 0, ny)); got != "Please press 0 for Main Reception." {
		t.Errorf("menu with the fallback desk alone %q", got)
	}
}

// BenchmarkReach is what opening hours add to a route: the department's
// hours, then along its after_hours chain (here Sales closed, then Support).
func BenchmarkReach(b *testing.B) {
	cfg, err := ParseConfig(strings.NewReader(withHours(`{"timezone": "America/New_York", "weekly": {"mon": ["09:00-17:00"]}}`,
		`"sales": {"number": "+14155550100", "after_hours": "support"}, "support": {"number": "+14155550101", "hours": {"weekly": {"mon": ["09:00-22:00"]}}}`)))
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 19, 0, 0, 0, time.UTC) // 14:00 in New York: all open
	for _, tt := range []struct {
		name string
		at   time.Time
	}{{"open", at}, {"closed-twice", at.Add(8 * time.Hour)}} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cfg.Routing.Reach("sales", tt.at)
			}
		})
	}
}

// TestValidateChangesNothing: Validate only names problems; the opening
// hours it checks were compiled by ParseConfig, and stay as they were.
func TestValidateChangesNothing(t *testing.T) {
	f, err := os.Open("../testdata/routing-hours.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Routing.Hours
	if h == nil || h.loc == nil {
		t.Fatal("routing-hours.json: routing.hours not compiled by ParseConfig")
	}
	loc, holidays := h.loc, reflect.ValueOf(h.holidays).Pointer()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if h.loc != loc || reflect.ValueOf(h.holidays).Pointer() != holidays {
		t.Error("Validate compiled routing.hours again: it must change nothing")
	}
}
