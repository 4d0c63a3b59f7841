package models

// ModelState is one series' learned baseline model (opaque bytes the
// detector writes and reads), saved at least every hour (a share of the
// models at each tick) and at shutdown those not saved lately, so a start
// loads what was learned instead of learning weeks of history again.
// LearnedUntil is the unix second up to which the model has learned; the
// history after it is taught at start.
type ModelState struct {
	ServiceID    uint   `gorm:"primaryKey;autoIncrement:false"`
	Scope        string `gorm:"primaryKey;size:8"`
	LearnedUntil int64  `gorm:"not null"`
	State        []byte `gorm:"not null"`
}
