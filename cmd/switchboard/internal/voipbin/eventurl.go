package voipbin

import (
	"context"
	"fmt"
	"net"
	"net/url"
)

// LookupIP resolves a host name to its addresses, as net.Resolver.LookupIP
// does with network "ip". Tests pass their own: they resolve no real name.
type LookupIP func(ctx context.Context, host string) ([]net.IP, error)

// blockedNetworks are the addresses VoIPBin's webhook sender refuses to post
// an event to (bin-webhook-manager webhookhandler/urlvalidator.go
// privateNetworks): private, loopback, link-local, CGN (100.64/10),
// documentation, benchmarking and reserved ranges. Contains matches an
// IPv4-mapped IPv6 address (::ffff:10.0.0.1) too, as there.
var blockedNetworks = func() []*net.IPNet {
	var out []*net.IPNet
	for _, cidr := range []string{
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8",
		"100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15",
		"240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "2001:db8::/32",
	} {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			panic(err) // a typo above; the tests catch it
		}
		out = append(out, n)
	}
	return out
}()

// EventURLProblem says why VoIPBin would drop every event posted to rawURL,
// or "": VoIPBin checks a customer's webhook URL before each delivery, ahead
// of its retries (bin-webhook-manager webhookhandler/message.go sendMessage,
// urlvalidator.go validateWebhookURL), and an event whose URL fails is lost
// at once. It fails a URL that is not http or https, has no host, whose host
// does not resolve, or that resolves to any blocked address (one is enough).
func EventURLProblem(ctx context.Context, rawURL string, lookup LookupIP) string {
	u, err := url.Parse(rawURL)
	switch {
	case rawURL == "":
		return "no URL"
	case err != nil:
		return fmt.Sprintf("%s is not a URL: %v", rawURL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%s: VoIPBin posts events only to http or https URLs, not %q", rawURL, u.Scheme)
	case u.Hostname() == "":
		return fmt.Sprintf("%s has no host name", rawURL)
	}
	host := u.Hostname()
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		if ips, err = lookup(ctx, host); err != nil || len(ips) == 0 {
			return fmt.Sprintf("%s does not resolve (%v): VoIPBin could not deliver a single event", host, err)
		}
	}
	for _, ip := range ips {
		for _, n := range blockedNetworks {
			if n.Contains(ip) {
				return fmt.Sprintf("%s resolves to %s, in %s (private, loopback, shared or reserved): VoIPBin refuses to post events there", host, ip, n)
			}
		}
	}
	return ""
}
