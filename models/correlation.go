package models

import (
	"math"
	"time"
)

// CorrelationWindow is how close in time two services' incidents must
// begin to be grouped as one correlated outage (docs/design.md, "Correlated
// outages"): an incident joins a group when it started within this of the
// group's start.
const CorrelationWindow = 10 * time.Minute

// falseIncidentsPerWeek is the detector's false-alert budget per service
// (detector.Params.Budget): the rate at which incidents open by chance.
const falseIncidentsPerWeek = 0.1

// bannerFalsePerWeek is how often the home page may claim a common cause
// for a group that chance alone assembled.
const bannerFalsePerWeek = 0.01

// MinBannerServices is the smallest correlation group (distinct services
// with open incidents) the home page announces as "possibly a common
// cause" in a catalogue of n services: at least 3, and enough that chance
// alone would assemble such a group less than bannerFalsePerWeek times a
// week. Incidents that open by chance at falseIncidentsPerWeek per service
// are a Poisson stream; a window of CorrelationWindow holds μ = n · rate ·
// window of them, and a week has week/window such windows, so k is the
// least with (week/window) · P(Poisson(μ) ≥ k) ≤ bannerFalsePerWeek.
// 3 up to a few hundred services, 4 at 1,000, 8 at 10,000, 18 at 50,000.
func MinBannerServices(n int) int {
	const week = 7 * 24 * time.Hour
	windows := float64(week) / float64(CorrelationWindow)
	mu := float64(n) * falseIncidentsPerWeek / windows
	// P(X ≥ k) = 1 − Σ_{i<k} e^−μ μ^i / i!
	term, cdf := math.Exp(-mu), 0.0
	for k := 0; k < 1000; k++ {
		if k >= 3 && windows*(1-cdf) <= bannerFalsePerWeek {
			return k
		}
		cdf += term
		term *= mu / float64(k+1)
	}
	return 1000
}
