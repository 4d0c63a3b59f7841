package webhook

import (
	"context"
	"time"
)

// Prune deletes finished deliveries (with their attempt logs) last touched
// before before, and events older than that nobody still waits for.
// Pending deliveries and their events are kept, however old. It returns the
// number of deliveries deleted.
func (s *Service) Prune(ctx context.Context, before time.Time) (int64, error) {
	return s.st.PruneDeliveries(ctx, before)
}
