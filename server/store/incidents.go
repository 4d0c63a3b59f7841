package store

import (
	"context"

	"github.com/outcry/outcry/models"
)

// Incidents lists a service's incidents, newest first.
func (s *Store) Incidents(ctx context.Context, serviceID uint, limit int) ([]models.Incident, error) {
	var out []models.Incident
	err := s.r.WithContext(ctx).Where("service_id = ?", serviceID).
		Order("started_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "incidents")
}
