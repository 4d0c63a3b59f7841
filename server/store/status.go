package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// statusRow is one service's status as the leader last published it
// (statusBody: JSON, the chart packed), stamped with the publish's sequence
// number so followers read only what changed.
type statusRow struct {
	ServiceID uint   `gorm:"primaryKey;autoIncrement:false"`
	Seq       int64  `gorm:"not null;index:idx_service_statuses_seq"`
	Body      []byte `gorm:"not null"`
}

func (statusRow) TableName() string { return "service_statuses" }

// PutStatuses stores the statuses that changed and drops those of removed
// services, all stamped seq (which must grow with every publish).
func (s *Store) PutStatuses(ctx context.Context, seq int64, changed []models.ServiceStatus, removed []uint) error {
	return s.putStatuses(ctx, seq, changed, removed, nil)
}

func (s *Store) putStatuses(ctx context.Context, seq int64, changed []models.ServiceStatus, removed []uint, check func(*gormDB) error) error {
	rows := make([]statusRow, len(changed))
	for i := range changed {
		b, err := encodeStatus(&changed[i])
		if err != nil {
			return models.Wrap(models.CodeInternal, err, "encoding a status")
		}
		rows[i] = statusRow{ServiceID: changed[i].Service.ID, Seq: seq, Body: b}
	}
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		if len(removed) > 0 {
			if err := tx.Where("service_id IN ?", removed).Delete(&statusRow{}).Error; err != nil {
				return err
			}
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "service_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"seq", "body"}),
		}).CreateInBatches(rows, 200).Error
	})
	return translate(err, "statuses")
}

// StatusesSince returns the statuses published after seq and the newest
// sequence number among them (seq itself if none).
func (s *Store) StatusesSince(ctx context.Context, seq int64) ([]models.ServiceStatus, int64, error) {
	var rows []statusRow
	if err := s.r.WithContext(ctx).Where("seq > ?", seq).Find(&rows).Error; err != nil {
		return nil, seq, translate(err, "statuses")
	}
	out := make([]models.ServiceStatus, len(rows))
	for i, r := range rows {
		if err := decodeStatus(r.Body, &out[i]); err != nil {
			return nil, seq, models.Wrap(models.CodeInternal, err, "decoding a status")
		}
		seq = max(seq, r.Seq)
	}
	return out, seq, nil
}

// CatalogVersion fingerprints the services table (count, highest id,
// latest change), so replicas notice another replica's catalogue change
// without reading every service.
func (s *Store) CatalogVersion(ctx context.Context) (string, error) {
	var v struct {
		N     int64
		MaxID int64
		Last  string
	}
	err := s.r.WithContext(ctx).Model(&models.Service{}).
		Select("COUNT(*) AS n, COALESCE(MAX(id), 0) AS max_id, COALESCE(CAST(MAX(updated_at) AS TEXT), '') AS last").
		Scan(&v).Error
	if err != nil {
		return "", translate(err, "services")
	}
	return fmt.Sprintf("%d/%d/%s", v.N, v.MaxID, v.Last), nil
}
