package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"gorm.io/gorm/clause"
	gschema "gorm.io/gorm/schema"

	"github.com/outcry/outcry/models"
)

// CopyProgress is told how far a copy is: table, rows copied so far (this
// run), and the rows the source has.
type CopyProgress func(table string, copied, total int64)

// copyChunk is how many rows one read and one write of a copy carry.
const copyChunk = 2000

// CopyAll copies every table of src into dst, in an order that keeps
// foreign keys satisfied, and then moves dst's id sequences past the
// copied ids. It is idempotent and resumable: a row already in dst is
// overwritten with the source's (or, for the append-only reports and
// attempts, skipped, and their copy resumes after the highest id dst
// has). The leader lease and the published statuses are not copied; the
// new deployment makes its own. Stop writing to src first: what arrives
// meanwhile is copied by running it again.
func CopyAll(ctx context.Context, src, dst *Store, progress CopyProgress) error {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	c := &copier{src: src, dst: dst, progress: progress}
	steps := []func(context.Context) error{
		copyTable[models.Service](c, "services", []string{"id"}, false),
		copyTable[models.Setting](c, "settings", []string{"key"}, false),
		copyTable[models.Webhook](c, "webhooks", []string{"id"}, false),
		copyTable[models.Incident](c, "incidents", []string{"id"}, false),
		copyTable[models.DetectorState](c, "detector_states", []string{"service_id", "scope"}, false),
		copyTable[models.Rollup](c, "rollups", []string{"service_id", "bucket", "region", "problem"}, false),
		copyTable[models.Report](c, "reports", []string{"id"}, true),
		copyTable[models.Event](c, "events", []string{"id"}, false),
		copyTable[models.Delivery](c, "deliveries", []string{"id"}, false),
		copyTable[models.Attempt](c, "attempts", []string{"id"}, true),
		copyTable[models.OfficialSource](c, "official_sources", []string{"service_id"}, false),
		copyTable[models.OfficialIncident](c, "official_incidents", []string{"id"}, false),
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return dst.fixSequences(ctx)
}

type copier struct {
	src, dst *Store
	progress CopyProgress
	cache    sync.Map // GORM schema cache
}

// copyTable copies one table in chunks ordered by its primary key (keyset
// pagination on the source). appendOnly tables resume after the highest
// key dst has and skip rows dst already holds; the others are copied whole
// and overwrite dst's rows, so a re-run also carries changes.
func copyTable[T any](c *copier, table string, key []string, appendOnly bool) func(context.Context) error {
	return func(ctx context.Context) error {
		sch, err := gschema.Parse(new(T), &c.cache, c.dst.w.NamingStrategy)
		if err != nil {
			return err
		}
		var total int64
		if err := c.src.r.WithContext(ctx).Table(table).Count(&total).Error; err != nil {
			return translate(err, table)
		}
		order := ""
		for i, k := range key {
			if i > 0 {
				order += ", "
			}
			order += k
		}
		onConflict := clause.OnConflict{DoNothing: true}
		if !appendOnly {
			var set []string
			for _, col := range sch.DBNames {
				if !slices.Contains(key, col) {
					set = append(set, col)
				}
			}
			cols := make([]clause.Column, len(key))
			for i, k := range key {
				cols[i] = clause.Column{Name: k}
			}
			onConflict = clause.OnConflict{Columns: cols, DoUpdates: clause.AssignmentColumns(set)}
		}
		var after []any // the last key copied
		if appendOnly {
			var last []int64
			if err := c.dst.r.WithContext(ctx).Table(table).Select("COALESCE(MAX(id), 0)").Scan(&last).Error; err != nil {
				return translate(err, table)
			}
			if len(last) > 0 && last[0] > 0 {
				after = []any{last[0]}
			}
		}
		var copied int64
		for {
			q := c.src.r.WithContext(ctx).Table(table).Order(order).Limit(copyChunk)
			if after != nil {
				q = q.Where(fmt.Sprintf("(%s) > (%s)", order, placeholders(len(key))), after...)
			}
			var rows []T
			if err := q.Find(&rows).Error; err != nil {
				return translate(err, table)
			}
			if len(rows) == 0 {
				break
			}
			err := c.dst.w.WithContext(ctx).Table(table).Clauses(onConflict).Omit(clause.Associations).
				CreateInBatches(&rows, 500).Error
			if err != nil {
				return translate(err, table)
			}
			copied += int64(len(rows))
			c.progress(table, copied, total)
			after = keyOf(sch, &rows[len(rows)-1], key)
			if len(rows) < copyChunk {
				break
			}
		}
		if copied == 0 {
			c.progress(table, 0, total)
		}
		return nil
	}
}

// keyOf is row's primary key values, in key's order.
func keyOf[T any](sch *gschema.Schema, row *T, key []string) []any {
	out := make([]any, len(key))
	for i, k := range key {
		v, _ := sch.LookUpField(k).ValueOf(context.Background(), reflect.ValueOf(row).Elem())
		out[i] = v
	}
	return out
}

func placeholders(n int) string {
	s := "?"
	for i := 1; i < n; i++ {
		s += ", ?"
	}
	return s
}

// fixSequences moves PostgreSQL's id sequences past the highest copied id,
// so the next insert does not collide with a copied row.
func (s *Store) fixSequences(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	for _, t := range []string{"services", "reports", "incidents", "attempts", "official_incidents"} {
		err := s.w.WithContext(ctx).Exec(fmt.Sprintf(
			"SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)", t, t)).Error
		if err != nil {
			return translate(err, "sequence of "+t)
		}
	}
	return nil
}
