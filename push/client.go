package push

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// publicClient returns an HTTP client that connects only to public unicast addresses. Web
// Push endpoints come from users' subscriptions: without this, a user could make the server
// post to its loopback interface, its private network or a cloud metadata service. The check
// runs on the address actually dialled, after name resolution and on every redirect.
func publicClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: dialPublicOnly}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would be dialled instead of the endpoint, and may well be private
	t.DialContext = dialer.DialContext
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// dialPublicOnly refuses to connect to an address that is not public unicast.
func dialPublicOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("push endpoint address %q: %w", address, err)
	}
	if !isPublic(ap.Addr()) {
		return fmt.Errorf("push endpoint address %s is not public", ap.Addr())
	}
	return nil
}

// isPublic reports whether a is a global unicast address outside the private, shared and
// special-purpose ranges.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// nonPublic lists special-purpose ranges that IsGlobalUnicast and IsPrivate let through.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64, may reach private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("2002::/16"),      // 6to4, may embed private IPv4
}
