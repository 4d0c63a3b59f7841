package models

import "time"

// Bucket is one 15-minute bucket of a service's chart: counted reports and,
// once the detector has learned one, the expected count with its band.
type Bucket struct {
	Start    time.Time `json:"start"`
	Count    int       `json:"count"`
	Baseline *Band     `json:"baseline"`
}

// Band is an expected count and the range that counts as normal.
type Band struct {
	Expected float64 `json:"expected"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

// ServiceStatus is everything the read paths show of one service: computed by
// the runner, kept in memory, never read from the database per request.
type ServiceStatus struct {
	Service     Service
	Level       Level
	Reports15m  int // counted reports in the last 15 minutes
	TopProblems []Share
	TopRegions  []Share
	Series      []Bucket   // the last 24 hours, oldest first, 15-minute buckets
	Incident    *Incident  // the open incident with the widest scope, or nil
	Regional    []Incident // other open incidents (regional ones)
	UpdatedAt   time.Time
	Version     uint64 // changes whenever anything shown changes (ETags)
	// HeadVersion changes whenever anything shown but the chart series
	// changes: the service, the level, the counts, the incidents. The
	// leader publishes those changes to followers at once and changes of
	// the chart alone at a bounded pace (server/leader). Not published.
	HeadVersion uint64 `json:"-"`
}

// Counts are counted (unique) reports in some span, in total and by problem
// and region.
type Counts struct {
	Total    int
	Problems map[string]int
	Regions  map[string]int
}

// Add adds o into c.
func (c *Counts) Add(o Counts) {
	c.Total += o.Total
	if len(o.Problems) > 0 && c.Problems == nil {
		c.Problems = make(map[string]int, len(o.Problems))
	}
	for k, v := range o.Problems {
		c.Problems[k] += v
	}
	if len(o.Regions) > 0 && c.Regions == nil {
		c.Regions = make(map[string]int, len(o.Regions))
	}
	for k, v := range o.Regions {
		c.Regions[k] += v
	}
}

// MinuteCounts are the counts of every service that had reports in one
// minute (unix seconds of the minute's start).
type MinuteCounts struct {
	Minute   int64
	Services map[uint]Counts
}
