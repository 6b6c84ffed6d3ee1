package provision

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/voipbin"
)

// TestMessagesPreflight: what VoIPBin would refuse of messages and callbacks is said before a caller meets it.
func TestMessagesPreflight(t *testing.T) {
	acct := account{customer: voipbin.Customer{IdentityVerificationStatus: voipbin.Verified},
		outbound: voipbin.OutboundConfig{DestinationWhitelist: []string{"us"}},
		numbers:  []voipbin.Number{{Number: "+15550001000", Type: "normal", Status: "active"}}}
	for _, tt := range []struct {
		name string
		m    Messages
		edit func(*account)
		ok   bool
		want string
	}{
		{"fine", Messages{SMS: true, SMSFrom: "+15550001000", Email: true, Callbacks: true}, func(*account) {}, true, "callbacks to callers in [us] only"},
		{"unverified", Messages{Email: true}, func(a *account) { a.customer.IdentityVerificationStatus = "pending" }, false, "identity is not verified"},
		{"SMS from a number not ours", Messages{SMS: true, SMSFrom: "+15559999999"}, func(*account) {}, false, "not an active normal number"},
		{"a queue", Messages{Callbacks: true, QueueDepartments: []string{"support"}}, func(*account) {}, false, "support is a queue"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := acct
			a.customer = acct.customer
			tt.edit(&a)
			v := messagesPreflight(&tt.m, a)
			if len(v) != 1 || v[0].OK != tt.ok || !strings.Contains(v[0].Why, tt.want) {
				t.Errorf("%+v, want ok=%v and %q", v, tt.ok, tt.want)
			}
		})
	}
}
