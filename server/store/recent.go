package store

import (
	"context"

	"github.com/outcry/outcry/models"
)

// RecentIncidents lists the latest incidents of every service, newest
// first. Incidents are inserted when they open, so the primary key orders
// them by start: the query reads limit rows of the key's index, never the
// whole table.
func (s *Store) RecentIncidents(ctx context.Context, limit int) ([]models.Incident, error) {
	var out []models.Incident
	err := s.r.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "incidents")
}
