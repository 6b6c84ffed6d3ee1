package voipbin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin/voipbintest"
)

// TestClientKeepsWhatIsNotOurs: the client's writes send back every field
// VoIPBin would otherwise overwrite, against a stand-in that overwrites.
func TestClientKeepsWhatIsNotOurs(t *testing.T) {
	api := voipbintest.NewREST(t)
	c := &voipbin.Client{API: api.URL, AccessKey: voipbintest.AccessKey}
	ctx := context.Background()
	cu, err := c.GetCustomer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := api.Customer
	if err := c.UpdateCustomer(ctx, cu.WithWebhook(http.MethodPost, "https://sb.example.com/voipbin/events")); err != nil {
		t.Fatal(err)
	}
	got := api.Customer
	got.WebhookMethod, got.WebhookURI = before.WebhookMethod, before.WebhookURI
	if got != before || api.Customer.WebhookURI != "https://sb.example.com/voipbin/events" {
		t.Errorf("customer after a webhook change:\n got %+v\nwant %+v", api.Customer, before)
	}

	numbers, err := c.Numbers(ctx)
	if err != nil || len(numbers) != 1 {
		t.Fatal(numbers, err)
	}
	n := numbers[0]
	if n.Type != voipbin.NumberNormal || !n.CallerID() || !voipbin.IsNil(n.CallFlowID) {
		t.Errorf("number as read: %+v", n)
	}
	flow, err := c.CreateFlow(ctx, voipbin.Flow{Name: "switchboard", Actions: nil})
	if err == nil {
		t.Fatalf("a flow without [answer, fetch] was taken: %+v", flow)
	}
	if err := c.SetNumberFlows(ctx, n.ID, voipbintest.SMSFlow, n.MessageFlowID); err != nil {
		t.Fatal(err)
	}
	if after, _ := api.Number(n.ID); after.MessageFlowID != voipbintest.SMSFlow || after.Name != n.Name || after.Detail != n.Detail || after.CallFlowID != voipbintest.SMSFlow {
		t.Errorf("number after a call flow change: %+v, was %+v", after, n)
	}
}

// TestClientBuysVirtual: the number bought is virtual, whatever the
// account's identity, and already on the flow given.
func TestClientBuysVirtual(t *testing.T) {
	api := voipbintest.NewREST(t)
	api.Customer.IdentityVerificationStatus = "none"
	c := &voipbin.Client{API: api.URL, AccessKey: voipbintest.AccessKey}
	ctx := context.Background()
	avail, err := c.AvailableVirtualNumbers(ctx, 1)
	if err != nil || len(avail) != 1 {
		t.Fatal(avail, err)
	}
	n, err := c.BuyVirtualNumber(ctx, avail[0], voipbintest.SMSFlow, "switchboard")
	if err != nil {
		t.Fatalf("%v (refused %v)", err, api.Problems)
	}
	if n.Type != voipbin.NumberVirtual || n.CallFlowID != voipbintest.SMSFlow || n.CallerID() {
		t.Errorf("bought %+v", n)
	}
}

// TestClientReads: the nil UUID reads as "none"; lists are read to their
// end across pages.
func TestClientReads(t *testing.T) {
	api := voipbintest.NewREST(t)
	for i := range 150 {
		api.Agents = append(api.Agents, voipbintest.Agent{ID: voipbintest.ID(1000 + i), Name: fmt.Sprint(i)})
	}
	c := &voipbin.Client{API: api.URL, AccessKey: voipbintest.AccessKey}
	ctx := context.Background()
	oc, err := c.GetOutboundConfig(ctx)
	if err != nil || !voipbin.IsNil(oc.DefaultOutgoingSourceNumberID) || oc.DefaultOutgoingSourceNumberID == "" {
		t.Errorf("outbound config %+v, %v", oc, err)
	}
	agents, err := c.Agents(ctx)
	if err != nil || len(agents) != 150 {
		t.Errorf("read %d agents of 150: %v", len(agents), err)
	}
}

// TestClientAuthAndStop logs in with a JWT, stops a transcribe twice (the
// second is answered 200 too) and shows a refusal as VoIPBin gave it.
func TestClientAuthAndStop(t *testing.T) {
	api := voipbintest.NewREST(t)
	c := &voipbin.Client{API: api.URL}
	ctx := context.Background()
	if err := c.Login(ctx, voipbintest.Username, "wrong"); err == nil {
		t.Error("a wrong password logged in")
	}
	if err := c.Login(ctx, voipbintest.Username, voipbintest.Password); err != nil {
		t.Fatal(err)
	}
	id := api.Transcribing()
	for range 2 {
		if err := c.StopTranscribe(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if api.Status(id) != "done" {
		t.Errorf("transcribe %s", api.Status(id))
	}
	var apiErr *voipbin.APIError
	if err := c.StopTranscribe(ctx, voipbintest.ID(9)); !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Retryable() {
		t.Errorf("an unknown transcribe: %v", err)
	}
}

// TestClientReadsAQueue reads a queue, its wait flow and the flow's actions;
// a queue without a wait flow reads as the nil UUID; an unknown one is
// VoIPBin's 404.
func TestClientReadsAQueue(t *testing.T) {
	api := voipbintest.NewREST(t)
	hold := voipbintest.ID(80)
	api.Flows = append(api.Flows, voipbintest.Flow{ID: hold, Name: "hold", Actions: []json.RawMessage{json.RawMessage(`{"type":"sleep","option":{"duration":30000}}`)}})
	api.Queues = []voipbin.Queue{{ID: voipbintest.ID(70), Name: "sales", WaitFlowID: hold, WaitTimeout: 60000}, {ID: voipbintest.ID(71), Name: "bare"}}
	c := &voipbin.Client{API: api.URL, AccessKey: voipbintest.AccessKey}
	ctx := context.Background()
	q, err := c.Queue(ctx, voipbintest.ID(70))
	if err != nil || q.WaitFlowID != hold || q.WaitTimeout != 60000 || q.Name != "sales" {
		t.Fatalf("queue %+v, %v", q, err)
	}
	f, err := c.GetFlow(ctx, q.WaitFlowID)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := voipbin.FlowActions(f)
	if err != nil || len(acts) != 1 || voipbin.PassMS(acts) != 30000 {
		t.Errorf("wait flow actions %+v, %v", acts, err)
	}
	if q, err := c.Queue(ctx, voipbintest.ID(71)); err != nil || !voipbin.IsNil(q.WaitFlowID) || q.WaitFlowID == "" || q.WaitTimeout != 0 {
		t.Errorf("a queue without a wait flow: %+v, %v", q, err)
	}
	var apiErr *voipbin.APIError
	if _, err := c.Queue(ctx, voipbintest.ID(9)); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("an unknown queue: %v", err)
	}
}

// TestRedactURL: every credential a URL can carry is replaced, the rest of
// the URL kept so the error still says where it went.
func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://127.0.0.1:9/v1.0/customer?accesskey=abc", "http://127.0.0.1:9/v1.0/customer?accesskey=***"},
		{"http://127.0.0.1:9/v1.0/numbers?page_size=100&accesskey=abc", "http://127.0.0.1:9/v1.0/numbers?accesskey=***&page_size=100"},
		{"https://sb.example/voipbin/fetch?t=s3cret&lang=es-ES", "https://sb.example/voipbin/fetch?lang=es-ES&t=***"},
		{"https://user:pw@api.example/x?Token=abc", "https://user:***@api.example/x?Token=***"},
		{"https://api.example/v1.0/flows", "https://api.example/v1.0/flows"},
		{"http://[::1%zz/x?accesskey=abc", "http://[::1%zz/x?***"},
	} {
		if got := voipbin.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestClientErrorsCarryNoKey: an unreachable API gives an error naming the
// URL without the access key.
func TestClientErrorsCarryNoKey(t *testing.T) {
	for _, api := range []string{"http://127.0.0.1:1", "http://[::1%zz"} {
		c := &voipbin.Client{API: api, AccessKey: "k3y-abc"}
		_, err := c.GetCustomer(t.Context())
		if err == nil {
			t.Fatalf("%s: want an error", api)
		}
		if strings.Contains(err.Error(), "k3y-abc") {
			t.Errorf("the error carries the access key: %v", err)
		}
		var ue *url.Error
		if api == "http://127.0.0.1:1" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), "accesskey=***")) {
			t.Errorf("want the url.Error with accesskey=***: %v", err)
		}
	}
}
