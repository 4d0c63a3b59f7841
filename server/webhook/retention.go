package webhook

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
)

// Prune deletes finished deliveries (with their attempt logs) last touched
// before before, and events older than that nobody still waits for.
// Pending deliveries and their events are kept, however old. It returns the
// number of deliveries deleted.
func (s *Service) Prune(ctx context.Context, before time.Time) (int64, error) {
	before = before.UTC()
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		done := tx.Model(&models.Delivery{}).Select("id").Where("status <> ? AND updated_at < ?", models.DeliveryPending, before)
		if err := tx.Where("delivery_id IN (?)", done).Delete(&models.Attempt{}).Error; err != nil {
			return err
		}
		res := tx.Where("status <> ? AND updated_at < ?", models.DeliveryPending, before).Delete(&models.Delivery{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		waited := tx.Model(&models.Delivery{}).Select("event_id")
		return tx.Where("fanned_out = ? AND occurred_at < ? AND id NOT IN (?)", true, before, waited).Delete(&models.Event{}).Error
	})
	return n, notFound(err, "")
}
