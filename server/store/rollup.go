package store

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

const bucketSecs = int64(models.BucketSize / time.Second)

// rollupPrints is what Rollup last saw of each bucket's counted reports (by
// bucket start), so that it recomputes only the buckets whose raw reports
// changed since, and the counts it last wrote for them, so that it writes
// only the groups whose count changed (in an outage's open bucket, the
// groups of the last minute's reports, not every group of the bucket).
// Each Store starts empty: its first Rollup recomputes and writes every
// bucket in its window.
type rollupPrints struct {
	mu     sync.Mutex // one Rollup at a time
	seen   map[int64]bucketPrint
	counts map[int64]map[rollupGroup]int // by bucket
}

// rollupGroup is one rollup row of a bucket, less the bucket.
type rollupGroup struct {
	service         uint
	region, problem string
}

// bucketPrint fingerprints the counted reports of one bucket: how many, and
// the largest and the sum of their ids. Reports are only ever inserted
// (deleted only by Prune, long after Rollup's window, and with their
// service), so the same print means the same rows: a new row raises the
// count. Only a deleted service's rows going while others arrive could
// leave the count as it was; on SQLite every new id exceeds every older
// one, so the largest id then changes; on PostgreSQL (ids are drawn before
// commit, so they may arrive out of order) the deleted and the arrived ids
// would also have to have the same sum.
type bucketPrint struct{ n, maxID, sumID int64 }

// Rollup brings the 15-minute rollups of counted reports up to date for
// every bucket from since's bucket up to now. It recomputes a bucket from
// its raw reports only when the bucket's counted reports changed since the
// last Rollup of this Store (a bucket fingerprint read from the index on
// minute, counted and id alone), and writes its groups: the result is what
// recomputing every bucket would give, wherever a late report landed (a
// batch committed minutes after its minute, on any replica), at the cost
// of the buckets that changed: during an outage the open bucket and, for a
// minute or two after it closes, the one before.
//
// A count is only ever raised, never lowered, by a recompute (except on a
// synthetic demo row): counts of counted reports only grow, so a smaller
// count comes from an older read, such as an old leader's Rollup finishing
// after the new leader's, and must not overwrite the newer one (nothing
// would recompute that bucket again).
func (s *Store) Rollup(ctx context.Context, since time.Time) error {
	s.rollups.mu.Lock()
	defer s.rollups.mu.Unlock()
	from := models.BucketOf(since).Unix()
	prints, err := s.bucketPrints(ctx, from)
	if err != nil {
		return err
	}
	changed := changedBuckets(s.rollups.seen, prints, from)
	out, err := s.recompute(ctx, changed)
	if err != nil {
		return err
	}
	// Write only what differs from the counts written last time: those are
	// stored already (or larger ones a newer read wrote, which the upsert
	// would keep anyway).
	counts := make(map[int64]map[rollupGroup]int)
	for _, run := range changed {
		for b := run[0]; b < run[1]; b += bucketSecs {
			counts[b] = make(map[rollupGroup]int)
		}
	}
	write := out[:0:0]
	for _, r := range out {
		g := rollupGroup{r.ServiceID, r.Region, r.Problem}
		counts[r.Bucket][g] = r.Count
		if old, ok := s.rollups.counts[r.Bucket][g]; !ok || old != r.Count {
			write = append(write, r)
		}
	}
	if err := s.writeRollups(ctx, write); err != nil {
		return err
	}
	if s.rollups.seen == nil {
		s.rollups.seen = make(map[int64]bucketPrint)
		s.rollups.counts = make(map[int64]map[rollupGroup]int)
	}
	for b := range s.rollups.seen {
		if _, ok := prints[b]; !ok || b < from {
			delete(s.rollups.seen, b)
		}
	}
	for b := range s.rollups.counts {
		if b < from {
			delete(s.rollups.counts, b)
		}
	}
	for b, p := range prints {
		s.rollups.seen[b] = p
	}
	maps.Copy(s.rollups.counts, counts)
	return nil
}

// bucketPrints fingerprints the counted reports of every bucket from from
// on. It reads only the index on (minute, counted, id), one group a minute
// in index order, and folds the minutes into buckets.
func (s *Store) bucketPrints(ctx context.Context, from int64) (map[int64]bucketPrint, error) {
	type row struct{ Minute, N, MaxID, SumID int64 }
	var rows []row
	err := s.printQuery(s.r.WithContext(ctx), from).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "rollup")
	}
	out := make(map[int64]bucketPrint)
	for _, r := range rows {
		b := r.Minute / bucketSecs * bucketSecs
		p := out[b]
		p.n += r.N
		p.maxID = max(p.maxID, r.MaxID)
		p.sumID += r.SumID
		out[b] = p
	}
	return out, nil
}

// changedBuckets is the buckets from from on whose print differs from the
// one seen last (a bucket seen before and now without counted reports
// included), as runs of consecutive buckets [lo, hi), oldest first.
func changedBuckets(seen, now map[int64]bucketPrint, from int64) [][2]int64 {
	var bs []int64
	for b, p := range now {
		if old, ok := seen[b]; !ok || old != p {
			bs = append(bs, b)
		}
	}
	for b := range seen {
		if _, ok := now[b]; !ok && b >= from {
			bs = append(bs, b)
		}
	}
	slices.Sort(bs)
	var runs [][2]int64
	for _, b := range bs {
		if n := len(runs); n > 0 && runs[n-1][1] == b {
			runs[n-1][1] = b + bucketSecs
			continue
		}
		runs = append(runs, [2]int64{b, b + bucketSecs})
	}
	return runs
}

// recompute counts the counted reports of live services in each run of
// buckets, by service, bucket, region and problem.
func (s *Store) recompute(ctx context.Context, runs [][2]int64) ([]models.Rollup, error) {
	type row struct {
		ServiceID uint
		Bucket    int64
		Region    string
		Problem   string
		Count     int
	}
	var out []models.Rollup
	for _, run := range runs {
		var rows []row
		err := s.recomputeQuery(s.r.WithContext(ctx), run[0], run[1]).Scan(&rows).Error
		if err != nil {
			return nil, translate(err, "rollup")
		}
		for _, r := range rows {
			out = append(out, models.Rollup{ServiceID: r.ServiceID, Bucket: r.Bucket, Region: r.Region, Problem: r.Problem, Count: r.Count})
		}
	}
	return out, nil
}

// printQuery fingerprints each minute's counted reports from from on.
func (s *Store) printQuery(db *gorm.DB, from int64) *gorm.DB {
	return db.Table(s.reportsByMinute()).
		Select("minute, COUNT(*) AS n, MAX(id) AS max_id, CAST(SUM(id) AS BIGINT) AS sum_id").
		Where("minute >= ? AND counted = ?", from, true).
		Group("minute")
}

// recomputeQuery counts the counted reports of live services with a minute
// in [lo, hi) by service, bucket, region and problem.
func (s *Store) recomputeQuery(db *gorm.DB, lo, hi int64) *gorm.DB {
	return db.Table(s.reportsByMinute()).
		Select("service_id, (minute / ?) * ? AS bucket, region, problem, COUNT(*) AS count", bucketSecs, bucketSecs).
		// Services deleted meanwhile have no rollups: their reports may
		// still be being deleted, or come from a batch in flight.
		Where("minute >= ? AND minute < ? AND counted = ? AND service_id IN (SELECT id FROM services)", lo, hi, true).
		Group("service_id, bucket, region, problem")
}

// writeRollups upserts recomputed groups, raising a stored count (or
// replacing a demo row's), never lowering a real one.
//
// A service deleted after its groups were read (its rollups already
// deleted, by this replica or another) must not get them back: after the
// upsert, the rollups of every written service that no longer exists are
// deleted. DeleteService deletes a service's rollups after the service
// itself, so whichever of the two comes last removes them.
func (s *Store) writeRollups(ctx context.Context, rows []models.Rollup) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.w.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "service_id"}, {Name: "bucket"}, {Name: "region"}, {Name: "problem"}},
		DoUpdates: clause.Set{{Column: clause.Column{Name: "count"},
			Value: gorm.Expr("CASE WHEN rollups.demo OR rollups.count < excluded.count THEN excluded.count ELSE rollups.count END")}},
	}).CreateInBatches(rows, 200).Error
	if err != nil {
		return translate(err, "rollup")
	}
	written := make(map[uint]bool)
	for _, r := range rows {
		written[r.ServiceID] = true
	}
	ids := slices.Collect(maps.Keys(written))
	for chunk := range slices.Chunk(ids, 1000) { // far below either dialect's limit on parameters
		var live []uint
		if err := s.r.WithContext(ctx).Model(&models.Service{}).Where("id IN ?", chunk).Pluck("id", &live).Error; err != nil {
			return translate(err, "rollup")
		}
		for _, id := range live {
			delete(written, id)
		}
	}
	for id := range written {
		if err := s.deleteRollupsOf(ctx, id); err != nil {
			return translate(err, "rollup")
		}
	}
	return nil
}

// reportsByMinute is the reports table read through the index on (minute,
// counted, id). SQLite, without statistics, otherwise reads Rollup's query
// through idx_reports_service: every report of every service, the whole
// retention period rather than the buckets asked for (1.3 s of CPU a
// minute at 400,000 rows; docs/benchmarks.md). PostgreSQL's planner has
// statistics.
func (s *Store) reportsByMinute() string {
	if s.dialect == SQLite {
		return "reports INDEXED BY idx_reports_minute_counted"
	}
	return "reports"
}

// Prune deletes raw reports older than keepReports and rollups older than
// keepRollups, in slices so the writer is never held for long.
func (s *Store) Prune(ctx context.Context, now time.Time, keepReports, keepRollups time.Duration) (reports, rollups int64, err error) {
	cut := now.Add(-keepReports).Unix()
	for {
		res := s.w.WithContext(ctx).Exec(
			"DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE minute < ? LIMIT ?)", cut, deleteSlice)
		if res.Error != nil {
			return reports, rollups, translate(res.Error, "reports")
		}
		reports += res.RowsAffected
		if res.RowsAffected < deleteSlice {
			break
		}
	}
	res := s.w.WithContext(ctx).Where("bucket < ?", now.Add(-keepRollups).Unix()).Delete(&models.Rollup{})
	return reports, res.RowsAffected, translate(res.Error, "rollups")
}

// History returns per-bucket totals of every service from since on, oldest
// first: one row per service and bucket with Region "", plus one per region
// when byRegion is set.
func (s *Store) History(ctx context.Context, since time.Time, byRegion bool) ([]models.BucketTotal, error) {
	var out []models.BucketTotal
	from := models.BucketOf(since).Unix()
	// SQLite without statistics scans the whole primary key for this
	// (every rollup ever kept: 4.5 s of CPU at 39 million rows, every 15
	// minutes for the chart); the bucket index reads only the span's rows
	// (1 s). PostgreSQL's planner has statistics.
	table := "rollups"
	if s.dialect == SQLite {
		table = "rollups INDEXED BY idx_rollups_bucket"
	}
	err := s.r.WithContext(ctx).Table(table).
		Select("service_id, bucket, '' AS region, SUM(count) AS count").
		Where("bucket >= ?", from).Group("service_id, bucket").Order("bucket, service_id").
		Scan(&out).Error
	if err != nil || !byRegion {
		return out, translate(err, "history")
	}
	var regional []models.BucketTotal
	err = s.r.WithContext(ctx).Table(table).
		Select("service_id, bucket, region, SUM(count) AS count").
		Where("bucket >= ?", from).Group("service_id, bucket, region").Order("bucket, service_id, region").
		Scan(&regional).Error
	return append(out, regional...), translate(err, "history")
}

// Setting returns the stored value of key, creating it with create() on
// first use; concurrent first uses (replicas) agree on whichever was stored
// first.
func (s *Store) Setting(ctx context.Context, key string, create func() string) (string, error) {
	st := models.Setting{Key: key, Value: create()}
	err := s.w.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&st).Error
	if err != nil {
		return "", translate(err, "setting "+key)
	}
	var got models.Setting
	err = s.w.WithContext(ctx).Where("key = ?", key).Take(&got).Error
	return got.Value, translate(err, "setting "+key)
}

// InsertRollups stores rollups as they are (demo history); existing buckets
// are left alone.
func (s *Store) InsertRollups(ctx context.Context, rows []models.Rollup) error {
	err := s.w.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
	return translate(err, "rollups")
}
