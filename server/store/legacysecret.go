package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
)

// TakeSetting reads a setting if it exists, without creating it.
func (s *Store) TakeSetting(ctx context.Context, key string) (string, bool, error) {
	var got models.Setting
	err := s.w.WithContext(ctx).Where("key = ?", key).Take(&got).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, translate(err, "setting "+key)
	}
	return got.Value, true, nil
}

// EraseSetting deletes a setting so that its value does not stay behind in
// the file: on SQLite with secure_delete (freed pages are zeroed) and a
// truncating WAL checkpoint (the log drops the old page). Copies taken
// before (backups) still hold it.
func (s *Store) EraseSetting(ctx context.Context, key string) error {
	db := s.w.WithContext(ctx)
	sqlite := s.w.Dialector.Name() == "sqlite"
	if sqlite {
		if err := pragma(db, "PRAGMA secure_delete = ON"); err != nil {
			return translate(err, "setting "+key)
		}
	}
	if err := db.Where("key = ?", key).Delete(&models.Setting{}).Error; err != nil {
		return translate(err, "setting "+key)
	}
	if sqlite {
		if err := pragma(db, "PRAGMA secure_delete = OFF"); err != nil {
			return translate(err, "setting "+key)
		}
		if err := pragma(db, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return translate(err, "setting "+key)
		}
	}
	return nil
}

// pragma runs a PRAGMA that answers a row, reading it to the end (a
// statement left mid-step would block the writer's next commit).
func pragma(db *gorm.DB, q string) error {
	rows, err := db.Raw(q).Rows()
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}
