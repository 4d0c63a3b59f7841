package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// Incidents lists a service's incidents, newest first.
func (s *Store) Incidents(ctx context.Context, serviceID uint, limit int) ([]models.Incident, error) {
	var out []models.Incident
	err := s.r.WithContext(ctx).Where("service_id = ?", serviceID).
		Order("started_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "incidents")
}

// OpenIncidents lists every incident not yet resolved.
func (s *Store) OpenIncidents(ctx context.Context) ([]models.Incident, error) {
	var out []models.Incident
	err := s.r.WithContext(ctx).Where("resolved_at IS NULL").Order("id").Find(&out).Error
	return out, translate(err, "incidents")
}

// DetectorStates lists the saved detector states.
func (s *Store) DetectorStates(ctx context.Context) ([]models.DetectorState, error) {
	var out []models.DetectorState
	err := s.r.WithContext(ctx).Find(&out).Error
	return out, translate(err, "detector states")
}

// ApplyIncident persists one incident transition in a single transaction:
// the incident (insert or update), the correlation group of the incidents
// it adopts, the detector state, and — when the change is announced — the
// webhook outbox event. A crash therefore can
// neither lose an announced change nor announce one that was not stored.
func (s *Store) ApplyIncident(ctx context.Context, ch models.IncidentChange) error {
	return s.applyIncident(ctx, ch, nil, 0)
}

// applyIncident is ApplyIncident, first passing check (a leader's fence)
// when it is set, with the event stamped with term.
func (s *Store) applyIncident(ctx context.Context, ch models.IncidentChange, check func(*gormDB) error, term int64) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		if err := s.serviceExists(tx, ch.Service.ID); err != nil {
			return err
		}
		if ch.EventType != "" {
			ch.Incident.NotifiedLevel, ch.Incident.NotifiedPeak, ch.Incident.NotifiedAt = ch.Incident.Level, ch.Incident.Peak, ch.At
		}
		if ch.Incident.NotifiedAt.IsZero() {
			ch.Incident.NotifiedAt = ch.Incident.StartedAt
		}
		// The official acknowledgement is the official poller's to write
		// (AcknowledgeIncident): the detector's copy never overwrites it, and
		// its events carry the stored one.
		// The correlation id is written only where it is still unset (below):
		// a group's id, once given, is never changed or taken away by a save
		// of a copy that does not know it.
		omit := []string{"OfficialAcknowledgedAt", "CorrelationID"}
		if ch.Incident.ID == 0 {
			at := ch.At.UTC()
			ch.Incident.OpenedAt = &at // when the detector opened it: what lead times count from
		} else {
			omit = append(omit, "OpenedAt")
		}
		if err := tx.Omit(omit...).Save(ch.Incident).Error; err != nil {
			return err
		}
		if g := ch.Incident.CorrelationID; g != nil {
			ids := append([]uint64{ch.Incident.ID}, ch.Adopt...)
			err := tx.Model(&models.Incident{}).Where("id IN ? AND correlation_id IS NULL", ids).
				Update("correlation_id", *g).Error
			if err != nil {
				return err
			}
		}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "service_id"}, {Name: "scope"}},
			DoUpdates: clause.AssignmentColumns([]string{"state", "updated_at"}),
		}).Create(&ch.State).Error
		if err != nil || ch.EventType == "" {
			return err
		}
		// The event carries what is stored, which the detector's copy may not
		// know: the acknowledgement, and a correlation group another
		// service's incident formed with this one.
		var stored struct {
			OfficialAcknowledgedAt *time.Time
			CorrelationID          *uint64
		}
		if err := tx.Model(&models.Incident{}).Select("official_acknowledged_at", "correlation_id").Where("id = ?", ch.Incident.ID).Scan(&stored).Error; err != nil {
			return err
		}
		ch.Incident.OfficialAcknowledgedAt = stored.OfficialAcknowledgedAt
		inc := *ch.Incident
		inc.CorrelationID = stored.CorrelationID
		ev, err := models.NewIncidentEvent(ch.EventType, ch.Service, inc, ch.PublicURL, ch.At)
		if err != nil {
			return err
		}
		ev.Term = term
		return tx.Create(&ev).Error
	})
	return translate(err, "incident")
}

// serviceExists fails with CodeNotFound if the service was deleted, so a
// detector tick racing DeleteService cannot bring back its rows. On
// PostgreSQL the row is locked FOR SHARE until the transaction ends:
// DeleteService, which deletes the service row first, waits for it, then
// deletes what it wrote.
func (s *Store) serviceExists(tx *gormDB, id uint) error {
	q := tx.Model(&models.Service{}).Select("id").Where("id = ?", id)
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "SHARE"})
	}
	var got []uint
	if err := q.Find(&got).Error; err != nil {
		return err
	}
	if len(got) == 0 {
		return models.Errorf(models.CodeNotFound, "service %d was deleted", id)
	}
	return nil
}

// FindIncidents lists incidents across services with their service's slug
// and name, newest first (by id: the order they were opened), as q selects.
// Each filter has an index: resolved_at (open incidents are few), service
// and id, correlation; the cursor is an id, so a walk by it never returns an
// incident twice.
func (s *Store) FindIncidents(ctx context.Context, q models.IncidentQuery) ([]models.ServiceIncident, error) {
	db := s.r.WithContext(ctx).Table("incidents").
		Select("incidents.*, services.slug AS service_slug, services.name AS service_name").
		Joins("JOIN services ON services.id = incidents.service_id")
	if q.Open != nil {
		if *q.Open {
			db = db.Where("incidents.resolved_at IS NULL")
		} else {
			db = db.Where("incidents.resolved_at IS NOT NULL")
		}
	}
	if q.ServiceID != 0 {
		db = db.Where("incidents.service_id = ?", q.ServiceID)
	}
	if q.Level != "" {
		db = db.Where("incidents.level = ?", q.Level)
	}
	if !q.Since.IsZero() {
		db = db.Where("incidents.started_at >= ?", q.Since.UTC())
	}
	if q.Correlation != 0 {
		db = db.Where("incidents.correlation_id = ?", q.Correlation)
	}
	if q.Before != 0 {
		db = db.Where("incidents.id < ?", q.Before)
	}
	var out []models.ServiceIncident
	err := db.Order("incidents.id DESC").Limit(q.Limit).Find(&out).Error
	return out, translate(err, "incidents")
}

// IncidentEvents lists the latest incident events (opened, updated,
// resolved: every announced transition), newest first, of one service or
// (serviceID 0) of all. Event ids are ULIDs of their time, so the order is
// by id, on the primary key or the (service_id, id) index. Events are kept
// as long as deliveries are (OUTCRY_RETENTION).
func (s *Store) IncidentEvents(ctx context.Context, serviceID uint, limit int) ([]models.Event, error) {
	db := s.r.WithContext(ctx).Where("type IN ?", models.IncidentEventTypes)
	if serviceID != 0 {
		db = db.Where("service_id = ?", serviceID)
	}
	var out []models.Event
	err := db.Order("id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "events")
}
