package models

import "testing"

func TestMinBannerServices(t *testing.T) {
	for _, c := range []struct{ n, want int }{{0, 3}, {30, 3}, {100, 3}, {1000, 4}, {10000, 8}, {50000, 18}} {
		if got := MinBannerServices(c.n); got != c.want {
			t.Errorf("MinBannerServices(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	for n, last := 1, 0; n <= 100000; n *= 2 {
		k := MinBannerServices(n)
		if k < last {
			t.Errorf("MinBannerServices(%d) = %d, less than %d for fewer services", n, k, last)
		}
		last = k
	}
}
