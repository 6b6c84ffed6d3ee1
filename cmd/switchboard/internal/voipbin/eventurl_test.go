package voipbin

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// TestEventURLProblem: the URLs VoIPBin's webhook sender refuses before its
// retries (bin-webhook-manager validateWebhookURL), each with the reason;
// names are resolved by a table, never by DNS.
func TestEventURLProblem(t *testing.T) {
	names := map[string][]string{
		"sb.example.com":       {"93.184.216.34"},
		"v6.example.com":       {"2606:2800:220:1:248:1893:25c8:1946"},
		"internal.example":     {"10.1.2.3"},
		"cgn.example":          {"100.64.0.7"},
		"mixed.example":        {"93.184.216.34", "192.168.1.10"},
		"mapped.example":       {"::ffff:127.0.0.1"},
		"ula.example":          {"fd12:3456::1"},
		"test-net.example":     {"203.0.113.5"},
		"bench.example":        {"198.19.0.1"},
		"metadata.example":     {"169.254.169.254"},
		"reserved.example":     {"250.1.2.3"},
		"cgn-edge.example":     {"100.128.0.1"}, // just past 100.64/10: public
		"private-edge.example": {"172.32.0.1"},  // just past 172.16/12: public
	}
	lookup := func(_ context.Context, host string) ([]net.IP, error) {
		addrs, ok := names[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		var ips []net.IP
		for _, a := range addrs {
			ips = append(ips, net.ParseIP(a))
		}
		return ips, nil
	}
	for _, tt := range []struct {
		name, url string
		want      string // a part of the problem; "": none
	}{
		{"public https", "https://sb.example.com/voipbin/events", ""},
		{"public http, with a port", "http://sb.example.com:8080/voipbin/events", ""},
		{"public IPv6", "https://v6.example.com/voipbin/events", ""},
		{"a public address", "https://93.184.216.34/voipbin/events", ""},
		{"just past 100.64/10", "https://cgn-edge.example/voipbin/events", ""},
		{"just past 172.16/12", "https://private-edge.example/voipbin/events", ""},
		{"no URL", "", "no URL"},
		{"not http", "ftp://sb.example.com/voipbin/events", `not "ftp"`},
		{"no scheme", "sb.example.com/voipbin/events", `not ""`},
		{"no host", "https:///voipbin/events", "no host name"},
		{"a name that does not resolve", "https://nowhere.example/voipbin/events", "does not resolve"},
		{"a private address by name", "https://internal.example/voipbin/events", "10.1.2.3, in 10.0.0.0/8"},
		{"shared address space (CGN)", "https://cgn.example/voipbin/events", "in 100.64.0.0/10"},
		{"one private address among public ones", "https://mixed.example/voipbin/events", "192.168.1.10"},
		{"loopback, IPv4-mapped IPv6", "https://mapped.example/voipbin/events", "in 127.0.0.0/8"},
		{"unique local IPv6", "https://ula.example/voipbin/events", "in fc00::/7"},
		{"documentation", "https://test-net.example/voipbin/events", "in 203.0.113.0/24"},
		{"benchmarking", "https://bench.example/voipbin/events", "in 198.18.0.0/15"},
		{"link-local (cloud metadata)", "https://metadata.example/voipbin/events", "in 169.254.0.0/16"},
		{"reserved", "https://reserved.example/voipbin/events", "in 240.0.0.0/4"},
		{"loopback literal", "http://127.0.0.1:3000/voipbin/events", "in 127.0.0.0/8"},
		{"localhost literal IPv6", "http://[::1]:3000/voipbin/events", "in ::1/128"},
		{"unspecified", "http://0.0.0.0:3000/voipbin/events", "in 0.0.0.0/8"},
		{"broadcast", "http://255.255.255.255/voipbin/events", "255.255.255.255"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := EventURLProblem(t.Context(), tt.url, lookup)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("EventURLProblem(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}
