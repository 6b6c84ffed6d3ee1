package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
)

// RunOutbox runs the outbox's suite; newOutbox must return an empty outbox
// of its own each time (subtests run in parallel).
func RunOutbox(t *testing.T, newOutbox func(t *testing.T) flow.Outbox) {
	runSuite(t, newOutbox, []named[flow.Outbox]{
		{"LeaveOnce", testLeaveOnce},
		{"ClaimWhenDue", testClaimWhenDue},
		{"ClaimOnce", testClaimOnce},
		{"LeaseRunsOut", testLeaseRunsOut},
		{"ReleaseRetryAndDone", testReleaseRetryAndDone},
		{"Retention", testRetention},
	})
}

// named is one test of a suite over an S.
type named[S any] struct {
	name string
	test func(t *testing.T, s S)
}

// runSuite runs each test in parallel on a fresh S of its own.
func runSuite[S any](t *testing.T, fresh func(t *testing.T) S, tests []named[S]) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, fresh(t))
		})
	}
}

func message(id string, at int64) flow.Message {
	return flow.Message{ID: id, Caller: "+14155550123", Department: "billing", AtMS: time.Now().UnixMilli() + at, Recording: "rec-" + id,
		Said: []string{"a refund please"}}
}

// testLeaveOnce: a message left twice (a fetch played again) is one message,
// and the second Leave changes nothing.
func testLeaveOnce(t *testing.T, o flow.Outbox) {
	ctx := context.Background()
	now := time.Now()
	first := message("m1", 1)
	first.AtMS = now.UnixMilli()
	if isNew, err := o.Leave(ctx, first, now); err != nil || !isNew {
		t.Fatalf("first Leave = %v, %v; want new", isNew, err)
	}
	second := first
	second.Caller = "+19999999999"
	if isNew, err := o.Leave(ctx, second, now); err != nil || isNew {
		t.Fatalf("second Leave = %v, %v; want not new", isNew, err)
	}
	got, err := o.Messages(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]flow.Message{first}, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// testClaimWhenDue: nothing is claimed before it is due; then the first due.
func testClaimWhenDue(t *testing.T, o flow.Outbox) {
	ctx := context.Background()
	now := time.Now()
	for i, due := range []time.Duration{2 * time.Second, time.Second} {
		if _, err := o.Leave(ctx, message(fmt.Sprint("d", i), int64(i)), now.Add(due)); err != nil {
			t.Fatal(err)
		}
	}
	if m, ok, err := o.Claim(ctx, now, time.Minute); err != nil || ok {
		t.Fatalf("Claim before due = %v, %v, %v; want none", m.ID, ok, err)
	}
	m, ok, err := o.Claim(ctx, now.Add(3*time.Second), time.Minute)
	if err != nil || !ok || m.ID != "d1" {
		t.Fatalf("Claim when due = %q, %v, %v; want d1, due first", m.ID, ok, err)
	}
}

// testClaimOnce: many claimers at once, on one replica or many, claim each
// message exactly once.
func testClaimOnce(t *testing.T, o flow.Outbox) {
	ctx := context.Background()
	now := time.Now()
	const n = 200
	for i := range n {
		if _, err := o.Leave(ctx, message(fmt.Sprint("c", i), int64(i)), now); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				m, ok, err := o.Claim(ctx, now, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				claimed[m.ID]++
				total := 0
				for _, k := range claimed {
					total += k
				}
				mu.Unlock()
				if total > 2*n {
					return // claims that never run out: the test below says so
				}
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Errorf("%d messages claimed, want %d", len(claimed), n)
	}
	for id, k := range claimed {
		if k != 1 {
			t.Errorf("message %s claimed %d times", id, k)
		}
	}
}

// testLeaseRunsOut: a claimer that dies holding a message lets it go when its lease runs out.
func testLeaseRunsOut(t *testing.T, o flow.Outbox) {
	ctx := context.Background()
	now := time.Now()
	if _, err := o.Leave(ctx, message("l", 1), now); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := o.Claim(ctx, now, time.Minute); !ok {
		t.Fatal("not claimed")
	}
	if _, ok, _ := o.Claim(ctx, now.Add(30*time.Second), time.Minute); ok {
		t.Error("claimed again within the lease")
	}
	if m, ok, _ := o.Claim(ctx, now.Add(61*time.Second), time.Minute); !ok || m.ID != "l" {
		t.Error("not claimed again after the lease ran out")
	}
}

// testReleaseRetryAndDone: a release keeps the attempt's progress and makes
// the message due again at next; a done one is never claimed again, but listed.
func testReleaseRetryAndDone(t *testing.T, o flow.Outbox) {
	ctx := context.Background()
	now := time.Now()
	if _, err := o.Leave(ctx, message("r", 1), now); err != nil {
		t.Fatal(err)
	}
	m, _, _ := o.Claim(ctx, now, time.Minute)
	m.Sent, m.Attempts, m.Error = []string{"sms +14155550172"}, 1, "email: VoIPBin 503"
	if err := o.Release(ctx, m, now.Add(10*time.Second), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := o.Claim(ctx, now.Add(5*time.Second), time.Minute); ok {
		t.Error("claimed before its retry was due")
	}
	again, ok, _ := o.Claim(ctx, now.Add(11*time.Second), time.Minute)
	if !ok {
		t.Fatal("not claimed when its retry was due")
	}
	if diff := cmp.Diff(m, again); diff != "" {
		t.Errorf("the retry's message lost the attempt's progress (-want +got):\n%s", diff)
	}
	again.DoneMS = now.UnixMilli()
	if err := o.Release(ctx, again, now.Add(time.Second), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := o.Claim(ctx, now.Add(time.Hour), time.Minute); ok {
		t.Error("a delivered message was claimed again")
	}
	if got, _ := o.Messages(ctx, 10); len(got) != 1 || got[0].DoneMS == 0 {
		t.Errorf("messages %+v, want the delivered one kept", got)
	}
}

// testRetention: a message is forgotten when its retention has passed.
func testRetention(t *testing.T, o flow.Outbox) {
	ctx := context.Background()
	now := time.Now()
	if _, err := o.Leave(ctx, message("k", 1), now); err != nil {
		t.Fatal(err)
	}
	m, _, _ := o.Claim(ctx, now, time.Minute)
	m.DoneMS = now.UnixMilli()
	if err := o.Release(ctx, m, now, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if got, err := o.Messages(ctx, 10); err != nil || len(got) != 0 {
		t.Errorf("messages after their retention: %+v, %v; want none", got, err)
	}
}
