package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// modelStatesPerTx bounds one saving transaction (about 2.5 MB), so saving
// every model never holds the writer long.
const modelStatesPerTx = 500

// SaveModelStates stores learned models, replacing earlier ones, in short
// transactions.
func (s *Store) SaveModelStates(ctx context.Context, list []models.ModelState) error {
	for len(list) > 0 {
		n := min(len(list), modelStatesPerTx)
		if s.dialect == Postgres {
			if err := s.copyModelStates(ctx, list[:n]); err != nil {
				return translate(err, "model states")
			}
			list = list[n:]
			continue
		}
		err := s.w.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "service_id"}, {Name: "scope"}},
			DoUpdates: clause.AssignmentColumns([]string{"learned_until", "state"}),
		}).CreateInBatches(list[:n], 100).Error
		if err != nil {
			return translate(err, "model states")
		}
		list = list[n:]
	}
	return nil
}

// ModelStates streams every saved model to fn (its State is valid only
// during the call: it is the driver's buffer).
func (s *Store) ModelStates(ctx context.Context, fn func(models.ModelState) error) error {
	rows, err := s.r.WithContext(ctx).Raw(`SELECT service_id, scope, learned_until, state FROM model_states`).Rows()
	if err != nil {
		return translate(err, "model states")
	}
	defer rows.Close()
	var ms models.ModelState
	var state sql.RawBytes // the driver's own buffer: no copy of every model
	for rows.Next() {
		if err := rows.Scan(&ms.ServiceID, &ms.Scope, &ms.LearnedUntil, &state); err != nil {
			return translate(err, "model states")
		}
		ms.State = state
		if err := fn(ms); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "model states")
}

// copyModelStates saves list on PostgreSQL in one transaction: COPY into a
// temporary table, then one upsert from it. The same rows as parameterised
// multi-row upserts (GORM, 100 a statement) took longer than the 15 s a
// shutdown gives at 50,000 services, and the next start learned most
// models from history.
func (s *Store) copyModelStates(ctx context.Context, list []models.ModelState) error {
	db, err := s.w.DB()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: the postgres driver is not pgx")
		}
		return pgx.BeginFunc(ctx, sc.Conn(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE model_states_in (LIKE model_states) ON COMMIT DROP`); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"model_states_in"}, []string{"service_id", "scope", "learned_until", "state"},
				pgx.CopyFromSlice(len(list), func(i int) ([]any, error) {
					m := &list[i]
					return []any{int64(m.ServiceID), m.Scope, m.LearnedUntil, m.State}, nil
				}))
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO model_states SELECT * FROM model_states_in
				ON CONFLICT (service_id, scope) DO UPDATE SET learned_until = EXCLUDED.learned_until, state = EXCLUDED.state`)
			return err
		})
	})
}
