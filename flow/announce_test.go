package flow_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard/switchboard/flow"
)

// announcedCall is a greeted call whose caller said line, decided on its
// arrival and announced by the fetch after it.
func announcedCall(t *testing.T, line string) (*call, []flow.Action) {
	t.Helper()
	c := greeted(t, nil)
	time.Sleep(2 * time.Millisecond) // the words come after the call began waiting for them
	c.say("w1", line)
	return c, c.fetch().Actions
}

// greetingActions is what a greeted call has spent: VoIPBin's answer and
// fetch, and the greeting's answer.
func greetingActions(t *testing.T) int {
	c, _ := greeted(t, nil).load()
	return c.Actions
}

// TestCorrectionWhileAnnounced: the fetch that hands a transfer out answers
// its announcement and a fetch; a line the caller says while they hear it
// ("no wait, ...") still reaches the call, decides the transfer again on all
// their lines, and the next fetch hands out the new one, said as a change of
// plan. Only then has the call left us.
func TestCorrectionWhileAnnounced(t *testing.T) {
	c, first := announcedCall(t, "I have a question about my invoice")
	want := []flow.Action{{Kind: flow.ActTalk, Text: "Routing you to Billing & Accounts. Please hold.", Language: "en-US"}, {Kind: flow.ActListen}}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Fatalf("the fetch after the decision (-want +got):\n%s", diff)
	}
	base := greetingActions(t)
	announced, _ := c.load()
	if announced.Left() || announced.Actions != base+flow.Cost(first)+2 {
		t.Errorf("after the announcement: left %v, %d actions; want the call still ours, the connect counted", announced.Left(), announced.Actions)
	}
	c.say("w2", "no wait, our whole site is down, it's an outage")
	second := c.fetch().Actions
	want = []flow.Action{{Kind: flow.ActTalk, Text: "Sorry, let me get you to On-call Engineering instead.", Language: "en-US"}}
	if len(second) != 2 || lastConnect(second) != flow.Emergency || !cmp.Equal(want, second[:1]) {
		t.Errorf("the fetch after the correction answered %+v; want %+v and on-call at once", second, want)
	}
	after, _ := c.load()
	if !after.Left() || after.Department != flow.Emergency || after.Reason != "priority" || len(after.Turns) != 2 {
		t.Errorf("after the correction: left %v, %q by %q, turns %q; want left to on-call by priority on both lines",
			after.Left(), after.Department, after.Reason, after.Turns)
	}
	if spent := flow.Cost(first) + flow.Cost(second); after.Actions != base+spent {
		t.Errorf("actions counted %d; want %d: the greeting's and what both fetches handed out", after.Actions, base+spent)
	}
}

// TestAnnouncedTransferWithoutCorrection: no more words, the fetch after the
// announcement hands out the connect alone and the call leaves us; a
// correction to the same department connects without a second announcement.
func TestAnnouncedTransferWithoutCorrection(t *testing.T) {
	c, first := announcedCall(t, "my invoice shows a double charge")
	if !announced(first) {
		t.Fatalf("first fetch %+v; want the announcement and a fetch", first)
	}
	if acts := c.fetch().Actions; len(acts) != 1 || lastConnect(acts) != "billing" {
		t.Errorf("the fetch after the announcement answered %+v; want the connect to billing alone", acts)
	}
	if after, _ := c.load(); !after.Left() {
		t.Errorf("the call has not left us after its connect was handed out")
	}

	c, _ = announcedCall(t, "my invoice shows a double charge")
	c.say("w2", "yes the invoice, it is a billing question")
	if acts := c.fetch().Actions; len(acts) != 1 || lastConnect(acts) != "billing" {
		t.Errorf("after a correction to the same department the fetch answered %+v; want the connect alone", acts)
	}
}

// TestPriorityConnectsAtOnce: on-call is not announced in two fetches; the
// priority lane reads every line, so nothing the caller adds changes it.
func TestPriorityConnectsAtOnce(t *testing.T) {
	_, acts := announcedCall(t, "our whole site is down, it's an outage")
	if len(acts) != 2 || lastConnect(acts) != flow.Emergency {
		t.Errorf("the fetch after priority words answered %+v; want on-call at once", acts)
	}
}

// TestAnnouncementWaitsForTheCaller: a caller heard speaking after the
// announcement holds the connect in short pauses until their words decide.
func TestAnnouncementWaitsForTheCaller(t *testing.T) {
	c, _ := announcedCall(t, "I'd like to buy twenty more licenses")
	if _, err := c.events.Speech(t.Context(), "tr-1", flow.Caller, false); err != nil {
		t.Fatal(err)
	}
	acts := c.fetch().Actions
	if want := []flow.Action{{Kind: flow.ActListen, Millis: c.cfg.Routing.Dialog.QuickMS}}; !cmp.Equal(want, acts) {
		t.Fatalf("fetch while the caller speaks answered %+v; want %+v", acts, want)
	}
	time.Sleep(2 * time.Millisecond) // their words come after the speech began
	c.say("w2", "actually no, I need a refund for last month")
	acts = c.handedOut() // another department: announced as a change of plan, then connected
	if lastConnect(acts) != "billing" || acts[0].Text != "Sorry, let me get you to Billing & Accounts instead." {
		t.Errorf("after the correction the fetches answered %+v; want the change of plan and billing", acts)
	}
}

// TestHangupDuringAnnouncement: a caller who hangs up while they hear where
// they are going is not connected: the fetch after the announcement ends
// the call, which has left us then.
func TestHangupDuringAnnouncement(t *testing.T) {
	c, _ := announcedCall(t, "my invoice shows a double charge")
	if err := c.events.HungUp(t.Context(), "h1", c.id); err != nil {
		t.Fatalf("hangup during the announcement refused: %v", err)
	}
	acts := c.fetch().Actions
	if lastConnect(acts) != "" || len(acts) != 1 || acts[0].Kind != flow.ActHangup {
		t.Errorf("the fetch after a hangup answered %+v; want the hangup alone", acts)
	}
	if after, _ := c.load(); after.State != flow.StateEnded || !after.Left() {
		t.Errorf("after the hangup: %s, left %v; want ended and left", after.State, after.Left())
	}
}
