package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

const bucketSecs = int64(models.BucketSize / time.Second)

// Rollup recomputes the 15-minute rollups of counted reports for every
// bucket from since's bucket up to now. It is idempotent: a bucket is
// recomputed from the raw reports and replaced, so running it every minute
// keeps the open bucket current and closes finished ones.
func (s *Store) Rollup(ctx context.Context, since time.Time) error {
	from := models.BucketOf(since).Unix()
	type row struct {
		ServiceID uint
		Bucket    int64
		Region    string
		Problem   string
		Count     int
	}
	var rows []row
	err := s.r.WithContext(ctx).Model(&models.Report{}).
		Select("service_id, (minute / ?) * ? AS bucket, region, problem, COUNT(*) AS count", bucketSecs, bucketSecs).
		// Services deleted meanwhile have no rollups: their reports may
		// still be being deleted, or come from a batch in flight.
		Where("counted = ? AND minute >= ? AND service_id IN (SELECT id FROM services)", true, from).
		Group("service_id, bucket, region, problem").
		Scan(&rows).Error
	if err != nil {
		return translate(err, "rollup")
	}
	if len(rows) == 0 {
		return nil
	}
	out := make([]models.Rollup, len(rows))
	for i, r := range rows {
		out[i] = models.Rollup{ServiceID: r.ServiceID, Bucket: r.Bucket, Region: r.Region, Problem: r.Problem, Count: r.Count}
	}
	err = s.w.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "service_id"}, {Name: "bucket"}, {Name: "region"}, {Name: "problem"}},
		DoUpdates: clause.AssignmentColumns([]string{"count"}),
	}).CreateInBatches(out, 200).Error
	return translate(err, "rollup")
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
