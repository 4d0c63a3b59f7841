package detector

import (
	"time"

	"github.com/outcry/outcry/models"
)

// Loading history for seeding (seed.go): which services to read, and
// one service's rows grouped into the series it teaches.

// history is one service's rolled-up counts by bucket: in total and by region.
type history struct {
	first   int64 // the first bucket with reports
	global  map[int64]float64
	regions map[string]map[int64]float64
}

// groupHistory groups one service's per-region rows (bucket order); the
// total of a bucket is the sum of its regions.
func groupHistory(rows []models.BucketTotal) *history {
	h := &history{first: rows[0].Bucket, global: map[int64]float64{}, regions: map[string]map[int64]float64{}}
	for _, row := range rows {
		h.first = min(h.first, row.Bucket)
		h.global[row.Bucket] += float64(row.Count)
		m := h.regions[row.Region]
		if m == nil {
			m = map[int64]float64{}
			h.regions[row.Region] = m
		}
		m[row.Bucket] += float64(row.Count)
	}
	return h
}

// freshIDs are the services to read history for: nil (all, in one pass)
// when most of the catalogue is being seeded, as at start; else their IDs.
func freshIDs(fresh map[uint]models.Service, catalogue int) []uint {
	if 2*len(fresh) > catalogue {
		return nil
	}
	ids := make([]uint, 0, len(fresh))
	for id := range fresh {
		ids = append(ids, id)
	}
	return ids
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
