package detector

import (
	"time"

	"github.com/outcry/outcry/models"
)

// TickStats describe one finished tick, for metrics (RunnerDeps.OnTick).
type TickStats struct {
	Took           time.Duration          // wall time of the tick, seeding included
	Services       int                    // services evaluated
	RegionalSeries int                    // regional series tracked over all services
	Statuses       []models.ServiceStatus // what was published (read only)
	LastMinute     models.MinuteCounts    // counted reports of the last complete minute
	Learning       int                    // services whose models are still learning their history (not judged yet)
}

// tickStats gathers the stats of a tick that began at began.
func (r *Runner) tickStats(began time.Time, now time.Time, list []models.ServiceStatus) TickStats {
	ts := TickStats{Took: time.Since(began), Services: len(list), Statuses: list,
		LastMinute: r.minutes[now.Truncate(time.Minute).Add(-time.Minute).Unix()]}
	for _, tr := range r.tracked {
		ts.RegionalSeries += len(tr.regions)
		if tr.learning {
			ts.Learning++
		}
	}
	return ts
}
