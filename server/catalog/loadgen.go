package catalog

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/outcry/outcry/models"
)

// Synthetic catalogues for load tests (`outcry seed`): many services with a
// realistic long tail of history. A few hundred busy services get reports in
// most 15-minute buckets (their busiest at Busiest reports a minute at the
// daily peak, falling off as 1/rank); every other service gets a few
// reports a day. Reports follow each region's waking hours, and every
// rollup carries its region, so busy services grow regional series.

// BulkStore is what seeding needs from durable storage.
type BulkStore interface {
	BulkMode(ctx context.Context) error
	InsertServices(ctx context.Context, list []models.Service) error
	Services(ctx context.Context) ([]models.Service, error)
	InsertRollupsBulk(ctx context.Context, rows []models.Rollup) error
}

// LoadSpec describes a synthetic catalogue.
type LoadSpec struct {
	Services int       // how many services
	Days     int       // days of 15-minute rollups, ending at End
	Busy     int       // how many of them are busy (default 300, at most Services)
	Busiest  float64   // reports a minute of the busiest at its daily peak (default 3)
	PerDay   float64   // mean reports a day of each quiet service (default 3)
	End      time.Time // the history ends at this bucket
	Seed     uint64    // the generator's seed: the same spec makes the same data
}

// LoadStats is what Seed wrote.
type LoadStats struct {
	Services int
	Rollups  int64
	Reports  int64
}

// chunk is how many rollups are written per transaction.
const chunk = 200_000

var loadProblems = []string{"login", "app", "website", "api", "notifications", "payments"}

var loadWords = [2][]string{
	{"Acme", "Nimbus", "Blue", "Rapid", "Quantum", "Polar", "Silver", "Echo", "Nova", "Orbit", "Pixel", "Summit", "Atlas", "Cobalt", "Delta", "Zen"},
	{"Cloud", "Mail", "Pay", "Chat", "Drive", "Games", "Bank", "Stream", "Maps", "Shop", "Music", "Video", "Docs", "Air", "Fit", "News"},
}

// Seed creates spec.Services services with spec.Days of history in st and
// reports progress to progress (may be nil).
func Seed(ctx context.Context, st BulkStore, spec LoadSpec, progress func(LoadStats)) (LoadStats, error) {
	if spec.Busy == 0 {
		spec.Busy = 300
	}
	spec.Busy = min(spec.Busy, spec.Services)
	if spec.Busiest == 0 {
		spec.Busiest = 3
	}
	if spec.PerDay == 0 {
		spec.PerDay = 3
	}
	if err := st.BulkMode(ctx); err != nil {
		return LoadStats{}, err
	}
	end := models.BucketOf(spec.End)
	start := end.Add(-time.Duration(spec.Days) * 24 * time.Hour)
	list := make([]models.Service, spec.Services)
	for i := range list {
		w := loadWords
		list[i] = models.Service{
			Slug:     fmt.Sprintf("svc-%06d", i),
			Name:     fmt.Sprintf("%s %s %d", w[0][i%len(w[0])], w[1][(i/len(w[0]))%len(w[1])], i),
			Problems: loadProblems, CreatedAt: start, UpdatedAt: start,
		}
	}
	for i := 0; i < len(list); i += 10_000 {
		if err := st.InsertServices(ctx, list[i:min(i+10_000, len(list))]); err != nil {
			return LoadStats{}, err
		}
	}
	stats := LoadStats{Services: len(list)}
	created, err := st.Services(ctx)
	if err != nil {
		return stats, err
	}
	ids := make(map[string]uint, len(created))
	for _, s := range created {
		ids[s.Slug] = s.ID
	}
	rows := make([]models.Rollup, 0, chunk+4096)
	flush := func() error {
		if err := st.InsertRollupsBulk(ctx, rows); err != nil {
			return err
		}
		stats.Rollups += int64(len(rows))
		rows = rows[:0]
		if progress != nil {
			progress(stats)
		}
		return ctx.Err()
	}
	for i, svc := range list {
		rng := rand.New(rand.NewPCG(spec.Seed, uint64(i)))
		id := ids[svc.Slug]
		if i < spec.Busy {
			peak := spec.Busiest / (1 + float64(i)/10) // reports a minute at the daily peak
			rows, stats.Reports = busyHistory(rng, id, peak, start, end, rows, stats.Reports)
		} else {
			rows, stats.Reports = quietHistory(rng, id, spec.PerDay, start, end, rows, stats.Reports)
		}
		if len(rows) >= chunk {
			if err := flush(); err != nil {
				return stats, err
			}
		}
	}
	return stats, flush()
}

// daily is a region's share of its daily peak at bucket start b: low at 4am
// local, high mid-afternoon, quieter at weekends (as the demo history).
func daily(b time.Time, tz float64) float64 {
	local := b.Add(time.Duration(tz * float64(time.Hour)))
	hour := float64(local.Hour()) + float64(local.Minute())/60
	d := 0.55 - 0.45*math.Cos(2*math.Pi*(hour-4)/24)
	if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
		d *= 0.75
	}
	return d
}

// busyHistory appends a busy service's rollups: every bucket, every region,
// Poisson counts split among problems (most to the first).
func busyHistory(rng *rand.Rand, id uint, peak float64, start, end time.Time, rows []models.Rollup, reports int64) ([]models.Rollup, int64) {
	var counts [8]int
	for b := start; b.Before(end); b = b.Add(models.BucketSize) {
		for _, r := range demoRegions {
			n := poisson(rng, peak*15*r.share*daily(b, r.tz))
			if n == 0 {
				continue
			}
			reports += int64(n)
			counts = [8]int{}
			for range n {
				counts[min(len(loadProblems)-1, int(rng.ExpFloat64()*1.3))]++
			}
			for p, c := range counts[:len(loadProblems)] {
				if c > 0 {
					rows = append(rows, models.Rollup{ServiceID: id, Bucket: b.Unix(), Region: r.code, Problem: loadProblems[p], Count: c})
				}
			}
		}
	}
	return rows, reports
}

// quietHistory appends a quiet service's rollups: a few reports a day, each
// in a bucket and region drawn by the regions' waking hours.
func quietHistory(rng *rand.Rand, id uint, perDay float64, start, end time.Time, rows []models.Rollup, reports int64) ([]models.Rollup, int64) {
	buckets := int(end.Sub(start) / models.BucketSize)
	n := poisson(rng, perDay*float64(buckets)/96)
	reports += int64(n)
	type key struct {
		bucket          int64
		region, problem string
	}
	counts := make(map[key]int, n)
	for range n {
		// Draw a bucket and a region, keeping it with the region's daily
		// share (rejection sampling), so reports follow waking hours.
		for {
			b := start.Add(time.Duration(rng.IntN(buckets)) * models.BucketSize)
			r := demoRegions[pickRegion(rng)]
			if rng.Float64() < daily(b, r.tz) {
				counts[key{b.Unix(), r.code, loadProblems[min(len(loadProblems)-1, int(rng.ExpFloat64()*1.3))]}]++
				break
			}
		}
	}
	for k, c := range counts {
		rows = append(rows, models.Rollup{ServiceID: id, Bucket: k.bucket, Region: k.region, Problem: k.problem, Count: c})
	}
	return rows, reports
}

// pickRegion draws a region index by the regions' shares.
func pickRegion(rng *rand.Rand) int {
	x := rng.Float64()
	for i, r := range demoRegions {
		if x -= r.share; x < 0 {
			return i
		}
	}
	return len(demoRegions) - 1
}
