package handlers

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/outcry/outcry/server/hashkey"
)

// TestIdentifyCacheAnswersLikeTheHashes: the cache of recent identities
// gives exactly the computed hashes, for many addresses (slots are shared)
// and across a change of day (the key changes, so must the hashes).
func TestIdentifyCacheAnswersLikeTheHashes(t *testing.T) {
	id := NewIdentifier(hashkey.FromSecret([]byte("0123456789abcdef0123")))
	day1 := time.Date(2030, 1, 2, 23, 59, 59, 0, time.UTC)
	day2 := day1.Add(time.Second)
	for round := range 2 {
		for i := range 3000 {
			addr := netip.MustParseAddr(fmt.Sprintf("10.%d.%d.7", i/256, i%256))
			if i%3 == 0 {
				addr = netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::1", i))
			}
			for _, now := range []time.Time{day1, day2} {
				r, n := id.Identify(addr, now)
				wr, wn := id.identify(addr, now.Format(time.DateOnly))
				if r != wr || n != wn {
					t.Fatalf("round %d, %s at %s: cached %s %s, computed %s %s", round, addr, now, r, n, wr, wn)
				}
			}
		}
	}
	a := netip.MustParseAddr("192.0.2.1")
	r1, n1 := id.Identify(a, day1)
	r2, n2 := id.Identify(a, day2)
	if r1 == r2 || n1 == n2 {
		t.Fatal("the hashes did not change with the day")
	}
}
