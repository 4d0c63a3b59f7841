package catalog

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/outcry/outcry/models"
)

// DemoDays is how much synthetic history the demo catalogue starts with, so
// that baselines and charts mean something on the first run.
const DemoDays = 14

// demoPeak is each demo service's typical busiest rate of counted reports
// per minute: on a normal day a few people always have a problem.
var demoPeak = map[string]float64{
	"chatgpt": 4, "openai-api": 1.2, "gemini": 1.5, "claude": 1, "sora": 0.6, "copilot": 0.8, "perplexity": 0.5,
}

// demoRegions split reports roughly like the users of these services.
var demoRegions = []struct {
	code  string
	share float64
	tz    float64 // hours from UTC: shifts that region's daily cycle
}{
	{"US", 0.34, -6}, {"IN", 0.14, 5.5}, {"GB", 0.08, 0}, {"DE", 0.07, 1}, {"BR", 0.07, -3},
	{"KR", 0.06, 9}, {"JP", 0.06, 9}, {"ID", 0.05, 7}, {"FR", 0.05, 1}, {"CA", 0.04, -5}, {"ZZ", 0.04, 0},
}

// demoHistory builds DemoDays of 15-minute rollups ending at the bucket
// before now: a daily cycle per region (people report when they are awake),
// quieter weekends, Poisson noise, marked Demo. It is deterministic per
// service so every fresh start looks the same.
func demoHistory(svc models.Service, now time.Time) []models.Rollup {
	peak := demoPeak[svc.Slug]
	if peak == 0 {
		peak = 0.5
	}
	rng := rand.New(rand.NewPCG(uint64(svc.ID), 2024_12_11))
	end := models.BucketOf(now)
	start := end.Add(-DemoDays * 24 * time.Hour)
	var out []models.Rollup
	for b := start; b.Before(end); b = b.Add(models.BucketSize) {
		for _, r := range demoRegions {
			local := b.Add(time.Duration(r.tz * float64(time.Hour)))
			hour := float64(local.Hour()) + float64(local.Minute())/60
			// Low at 4am local, high mid-afternoon.
			daily := 0.55 - 0.45*math.Cos(2*math.Pi*(hour-4)/24)
			if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
				daily *= 0.75
			}
			mean := peak * 15 * r.share * daily
			n := poisson(rng, mean)
			if n == 0 {
				continue
			}
			// Split among problems, most to the first categories.
			counts := make(map[string]int)
			for i := 0; i < n; i++ {
				counts[svc.Problems[min(len(svc.Problems)-1, int(rng.ExpFloat64()*1.3))]]++
			}
			for p, c := range counts {
				out = append(out, models.Rollup{ServiceID: svc.ID, Bucket: b.Unix(), Region: r.code, Problem: p, Count: c, Demo: true})
			}
		}
	}
	return out
}

// poisson draws from a Poisson distribution (Knuth; means here are small).
func poisson(rng *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// seedDemoHistory gives every demo service its synthetic history.
func seedDemoHistory(ctx context.Context, cat *Catalog, now time.Time) error {
	for _, svc := range cat.Services() {
		if !svc.Demo {
			continue
		}
		if err := cat.st.InsertRollups(ctx, demoHistory(svc, now)); err != nil {
			return err
		}
	}
	return nil
}
