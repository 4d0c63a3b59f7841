package store

import (
	"context"

	"github.com/outcry/outcry/models"
)

// Services lists every service, by slug.
func (s *Store) Services(ctx context.Context) ([]models.Service, error) {
	var out []models.Service
	err := s.r.WithContext(ctx).Order("slug").Find(&out).Error
	return out, translate(err, "services")
}

// CreateService stores a new service; a taken slug is a conflict.
func (s *Store) CreateService(ctx context.Context, svc *models.Service) error {
	if err := svc.Validate(); err != nil {
		return err
	}
	return translate(s.w.WithContext(ctx).Create(svc).Error, "service "+svc.Slug)
}

// UpdateService saves a changed service (found by ID).
func (s *Store) UpdateService(ctx context.Context, svc *models.Service) error {
	if err := svc.Validate(); err != nil {
		return err
	}
	res := s.w.WithContext(ctx).Model(svc).Select("Name", "Problems", "ColdStart", "OfficialStatusURL", "OfficialComponents", "UpdatedAt").Updates(svc)
	if res.Error == nil && res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "service %s not found", svc.Slug)
	}
	return translate(res.Error, "service "+svc.Slug)
}

// DeleteService removes a service with its incidents, detector states,
// rollups and reports. The service row goes first, with its small tables,
// in one transaction, so the detector cannot write for it any more
// (ApplyIncident checks the service inside its own transaction); its rollups
// and reports follow in slices of deleteSlice rows, so the writer is never
// held for long (reports are found by idx_reports_service).
func (s *Store) DeleteService(ctx context.Context, slug string) error {
	var id uint
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		var svc models.Service
		if err := tx.Where("slug = ?", slug).Take(&svc).Error; err != nil {
			return err
		}
		id = svc.ID
		if err := tx.Delete(&svc).Error; err != nil {
			return err
		}
		for _, m := range []any{&models.Incident{}, &models.DetectorState{}, &models.ModelState{}, &models.OfficialSource{}, &models.OfficialIncident{}} {
			if err := tx.Where("service_id = ?", id).Delete(m).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return translate(err, "service "+slug)
	}
	if err := s.deleteRollupsOf(ctx, id); err != nil {
		return translate(err, "rollups of "+slug)
	}
	if err := s.deleteSlices(ctx, "DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE service_id = ? LIMIT ?)", id); err != nil {
		return translate(err, "reports of "+slug)
	}
	return nil
}

// deleteRollupsOf deletes every rollup of a deleted service, a slice at a
// time (DeleteService, and writeRollups for a service deleted while its
// groups were being recomputed).
func (s *Store) deleteRollupsOf(ctx context.Context, id uint) error {
	return s.deleteSlices(ctx, "DELETE FROM rollups WHERE (service_id, bucket, region, problem) IN "+
		"(SELECT service_id, bucket, region, problem FROM rollups WHERE service_id = ? LIMIT ?)", id)
}

// deleteSlice is how many rows one slice of a bulk delete removes.
const deleteSlice = 5000

// deleteSlices runs a DELETE of at most deleteSlice rows (its parameters:
// args, then the limit) until it deletes fewer.
func (s *Store) deleteSlices(ctx context.Context, query string, args ...any) error {
	for {
		res := s.w.WithContext(ctx).Exec(query, append(args, deleteSlice)...)
		if res.Error != nil || res.RowsAffected < deleteSlice {
			return res.Error
		}
	}
}

// CountServices is how many services exist (demo seeding checks for zero).
func (s *Store) CountServices(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&models.Service{}).Count(&n).Error
	return n, translate(err, "services")
}
