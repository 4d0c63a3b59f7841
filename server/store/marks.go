package store

import (
	"context"
	"time"

	"github.com/outcry/outcry/models"
)

// CountedSince returns the reports stored as counted at or after since
// (service, reporter and network hashes, time), oldest first: what the
// rate limiter needs to restore its dedupe and network evidence markers
// after a restart or a loss of Redis. It reads through the index on
// minute, so it costs the rows of the window asked for.
func (s *Store) CountedSince(ctx context.Context, since time.Time) ([]models.CountedMark, error) {
	rows, err := s.r.WithContext(ctx).Model(&models.Report{}).
		Select("service_id", "reporter_hash", "network_hash", "created_at").
		Where("minute >= ? AND counted = ?", since.Unix()/60*60, true).
		Order("minute").Rows()
	if err != nil {
		return nil, translate(err, "counted reports")
	}
	defer rows.Close()
	var out []models.CountedMark
	for rows.Next() {
		var m models.CountedMark
		if err := rows.Scan(&m.ServiceID, &m.Reporter, &m.Network, &m.At); err != nil {
			return nil, translate(err, "counted reports")
		}
		if !m.At.Before(since) {
			out = append(out, m)
		}
	}
	return out, translate(rows.Err(), "counted reports")
}
