package store

import (
	"context"
	"database/sql"

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
