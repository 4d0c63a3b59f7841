package store

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// OfficialSources lists every stored official source state (the poller
// loads them at the start of a tenure).
func (s *Store) OfficialSources(ctx context.Context) ([]models.OfficialSource, error) {
	var out []models.OfficialSource
	err := s.r.WithContext(ctx).Order("service_id").Find(&out).Error
	return out, translate(err, "official sources")
}

// OfficialSourcesSince lists the sources whose shown state changed at or
// after t (followers read what changed since their last read; the rows
// changed at exactly t are read again, which is harmless).
func (s *Store) OfficialSourcesSince(ctx context.Context, t time.Time) ([]models.OfficialSource, error) {
	var out []models.OfficialSource
	q := s.r.WithContext(ctx)
	if !t.IsZero() {
		q = q.Where("updated_at >= ?", t.UTC())
	}
	err := q.Find(&out).Error
	return out, translate(err, "official sources")
}

// SaveOfficialPoll stores one poll's outcome: the source's state and the
// incidents the page lists now. An incident already stored keeps its first
// update, first sighting and SeenAfter (what lead times are measured
// from); its title, status, impact, resolution and link follow the page.
func (s *Store) SaveOfficialPoll(ctx context.Context, src models.OfficialSource, incs []models.OfficialIncident) error {
	return s.saveOfficialPoll(ctx, src, incs, nil)
}

func (s *Store) saveOfficialPoll(ctx context.Context, src models.OfficialSource, incs []models.OfficialIncident, check func(*gormDB) error) error {
	src.UpdatedAt = src.UpdatedAt.UTC()
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		if err := s.serviceExists(tx, src.ServiceID); err != nil {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "service_id"}}, UpdateAll: true}).Create(&src).Error; err != nil {
			return err
		}
		if len(incs) == 0 {
			return nil
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "service_id"}, {Name: "external_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"title", "status", "impact", "resolved_at", "url", "updated_at"}),
		}).Create(&incs).Error
	})
	return translate(err, "official poll")
}

// OfficialIncidentsActiveSince lists a service's official incidents that
// were unresolved at some point at or after since, oldest first.
func (s *Store) OfficialIncidentsActiveSince(ctx context.Context, serviceID uint, since time.Time) ([]models.OfficialIncident, error) {
	var out []models.OfficialIncident
	err := s.r.WithContext(ctx).Where("service_id = ? AND (resolved_at IS NULL OR resolved_at >= ?)", serviceID, since.UTC()).
		Order("first_seen_at, id").Find(&out).Error
	return out, translate(err, "official incidents")
}

// UnacknowledgedIncidents lists a service's incidents that the official
// page has not acknowledged and that are open or resolved at or after
// resolvedAfter.
func (s *Store) UnacknowledgedIncidents(ctx context.Context, serviceID uint, resolvedAfter time.Time) ([]models.Incident, error) {
	var out []models.Incident
	err := s.r.WithContext(ctx).Where("service_id = ? AND official_acknowledged_at IS NULL AND (resolved_at IS NULL OR resolved_at >= ?)",
		serviceID, resolvedAfter.UTC()).Order("id").Find(&out).Error
	return out, translate(err, "incidents")
}

// AcknowledgeIncident records when the official page first acknowledged
// an incident and, in the same transaction, the incident.updated event
// that tells subscribers (carrying official_acknowledged_at and
// lead_seconds). An incident already acknowledged is left as it is
// (ok=false). The service's official source row is touched, so followers
// re-read what their pages show.
func (s *Store) AcknowledgeIncident(ctx context.Context, svc models.Service, incidentID uint64, ack time.Time, publicURL string, now time.Time) (bool, error) {
	return s.acknowledgeIncident(ctx, svc, incidentID, ack, publicURL, now, nil, 0)
}

func (s *Store) acknowledgeIncident(ctx context.Context, svc models.Service, incidentID uint64, ack time.Time, publicURL string, now time.Time, check func(*gormDB) error, term int64) (bool, error) {
	ack, now = ack.UTC(), now.UTC()
	done := false
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		if err := s.serviceExists(tx, svc.ID); err != nil {
			return err
		}
		res := tx.Model(&models.Incident{}).Where("id = ? AND service_id = ? AND official_acknowledged_at IS NULL", incidentID, svc.ID).
			Update("official_acknowledged_at", ack)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var inc models.Incident
		if err := tx.Where("id = ?", incidentID).Take(&inc).Error; err != nil {
			return err
		}
		ev, err := models.NewIncidentEvent(models.EventIncidentUpdated, svc, inc, publicURL, now)
		if err != nil {
			return err
		}
		ev.Term = term
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		done = true
		return tx.Model(&models.OfficialSource{}).Where("service_id = ?", svc.ID).Update("updated_at", now).Error
	})
	return done, translate(err, "incident acknowledgement")
}

// LeadSummary is how a service's official page compared with the crowd
// for the incidents that started at or after since.
func (s *Store) LeadSummary(ctx context.Context, serviceID uint, since time.Time) (models.LeadSummary, error) {
	var rows []struct {
		ID                     uint64
		StartedAt              time.Time
		OpenedAt               *time.Time
		OfficialAcknowledgedAt *time.Time
	}
	err := s.r.WithContext(ctx).Model(&models.Incident{}).Select("id, started_at, opened_at, official_acknowledged_at").
		Where("service_id = ? AND started_at >= ?", serviceID, since.UTC()).Scan(&rows).Error
	if err != nil {
		return models.LeadSummary{}, translate(err, "incidents")
	}
	sum := models.LeadSummary{Incidents: len(rows), Acks: map[uint64]time.Time{}}
	var leads []int64
	for _, r := range rows {
		if r.OfficialAcknowledgedAt != nil {
			sum.Acks[r.ID] = r.OfficialAcknowledgedAt.UTC()
			in := models.Incident{StartedAt: r.StartedAt, OpenedAt: r.OpenedAt, OfficialAcknowledgedAt: r.OfficialAcknowledgedAt}
			leads = append(leads, *in.LeadSeconds())
		}
	}
	sum.Acknowledged = len(leads)
	if len(leads) > 0 {
		slices.Sort(leads)
		m := leads[len(leads)/2]
		if len(leads)%2 == 0 {
			m = (leads[len(leads)/2-1] + leads[len(leads)/2]) / 2
		}
		sum.MedianLeadSeconds = &m
	}
	return sum, nil
}

// SaveOfficialPoll is Store.SaveOfficialPoll under the fence.
func (f *Fenced) SaveOfficialPoll(ctx context.Context, src models.OfficialSource, incs []models.OfficialIncident) error {
	return f.saveOfficialPoll(ctx, src, incs, f.check)
}

// AcknowledgeIncident is Store.AcknowledgeIncident under the fence, with
// the event stamped with the term.
func (f *Fenced) AcknowledgeIncident(ctx context.Context, svc models.Service, incidentID uint64, ack time.Time, publicURL string, now time.Time) (bool, error) {
	return f.acknowledgeIncident(ctx, svc, incidentID, ack, publicURL, now, f.check, f.f.Term)
}
