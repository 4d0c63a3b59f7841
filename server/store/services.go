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
	res := s.w.WithContext(ctx).Model(svc).Select("Name", "Problems", "ColdStart", "UpdatedAt").Updates(svc)
	if res.Error == nil && res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "service %s not found", svc.Slug)
	}
	return translate(res.Error, "service "+svc.Slug)
}

// DeleteService removes a service with its reports, rollups and incidents.
func (s *Store) DeleteService(ctx context.Context, slug string) error {
	var svc models.Service
	if err := s.w.WithContext(ctx).Where("slug = ?", slug).Take(&svc).Error; err != nil {
		return translate(err, "service "+slug)
	}
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		for _, m := range []any{&models.Report{}, &models.Rollup{}, &models.Incident{}, &models.DetectorState{}} {
			if err := tx.Where("service_id = ?", svc.ID).Delete(m).Error; err != nil {
				return err
			}
		}
		return tx.Delete(&svc).Error
	})
	return translate(err, "service "+slug)
}

// CountServices is how many services exist (demo seeding checks for zero).
func (s *Store) CountServices(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&models.Service{}).Count(&n).Error
	return n, translate(err, "services")
}
