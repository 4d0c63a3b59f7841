package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// leaseName names the one lease: its holder runs the detector, the webhook
// dispatcher and the periodic jobs.
const leaseName = "leader"

// leaseRow is the lease: who holds it, since when, until when (database
// time), and its term, which rises on every change of tenure and never
// goes back: the fencing token.
type leaseRow struct {
	Name       string    `gorm:"primaryKey;size:32"`
	Holder     string    `gorm:"size:100;not null"`
	Term       int64     `gorm:"not null"`
	AcquiredAt time.Time `gorm:"not null"`
	ExpiresAt  time.Time `gorm:"not null"`
}

func (leaseRow) TableName() string { return "leader_leases" }

// AcquireLease takes the lease for holder, or renews it, for ttl from the
// database's now(): replicas' clocks do not matter. It returns the term
// held; ok is false while another holder's lease is live. A renewal keeps
// the term; a new tenure (another holder, or this one after its lease
// lapsed) gets the next. One statement, so two replicas cannot both win.
//
// A SQLite file has one process, always the leader: term 1.
func (s *Store) AcquireLease(ctx context.Context, holder string, ttl time.Duration) (term int64, ok bool, err error) {
	if s.dialect != Postgres {
		return 1, true, nil
	}
	var terms []int64
	err = s.w.WithContext(ctx).Raw(`
INSERT INTO leader_leases (name, holder, term, acquired_at, expires_at)
VALUES (?, ?, 1, now(), now() + ? * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET
  holder = EXCLUDED.holder,
  term = CASE WHEN leader_leases.holder = EXCLUDED.holder AND leader_leases.expires_at > now()
              THEN leader_leases.term ELSE leader_leases.term + 1 END,
  acquired_at = CASE WHEN leader_leases.holder = EXCLUDED.holder AND leader_leases.expires_at > now()
              THEN leader_leases.acquired_at ELSE now() END,
  expires_at = EXCLUDED.expires_at
WHERE leader_leases.holder = EXCLUDED.holder OR leader_leases.expires_at <= now()
RETURNING term`, leaseName, holder, ttl.Milliseconds()).Scan(&terms).Error
	if err != nil || len(terms) == 0 {
		return 0, false, translate(err, "leader lease")
	}
	return terms[0], true, nil
}

// ReleaseLease ends holder's lease now (shutdown), so another replica takes
// over at its next attempt instead of waiting out the TTL. The row stays:
// the next holder's term continues from it.
func (s *Store) ReleaseLease(ctx context.Context, holder string) error {
	if s.dialect != Postgres {
		return nil
	}
	err := s.w.WithContext(ctx).Exec("UPDATE leader_leases SET expires_at = now() WHERE name = ? AND holder = ? AND expires_at > now()",
		leaseName, holder).Error
	return translate(err, "leader lease")
}

// Lease is the lease as stored (for tests and the cluster's operators).
func (s *Store) Lease(ctx context.Context) (holder string, term int64, expires time.Time, err error) {
	var row leaseRow
	err = s.r.WithContext(ctx).Where("name = ?", leaseName).Take(&row).Error
	return row.Holder, row.Term, row.ExpiresAt, translate(err, "leader lease")
}

// Fence is a leader's tenure: its holder id and term.
type Fence struct {
	Holder string
	Term   int64
}

// ErrNotLeader is what a fenced write returns once its tenure is over.
var ErrNotLeader = models.Errorf(models.CodeUnavailable, "this replica is no longer the leader")

// Fenced is the store as one leader's tenure writes to it: the incident
// transaction, the dispatcher's claim and the published statuses first
// check, inside their own transaction, that the lease is still f's and
// live. On PostgreSQL the check reads the lease row FOR SHARE, so a
// takeover waits until that transaction commits: every committed write
// happened under one live term, and a paused old leader that wakes up
// writes nothing. On SQLite (one process) the check passes.
type Fenced struct {
	*Store
	f Fence
}

// Fenced returns the store fenced by f.
func (s *Store) Fenced(f Fence) *Fenced { return &Fenced{Store: s, f: f} }

// Fence is the tenure this view writes under.
func (f *Fenced) Fence() Fence { return f.f }

// check fails with ErrNotLeader unless the lease is still f's and live.
func (f *Fenced) check(tx *gormDB) error {
	if f.dialect != Postgres {
		return nil
	}
	// A takeover holds the row only for its one statement; waiting longer
	// than this means something is wrong, and the write is better retried.
	if err := tx.Exec("SET LOCAL lock_timeout = '2s'").Error; err != nil {
		return err
	}
	var n []int
	err := tx.Model(&leaseRow{}).Select("1").
		Where("name = ? AND holder = ? AND term = ? AND expires_at > now()", leaseName, f.f.Holder, f.f.Term).
		Clauses(clause.Locking{Strength: "SHARE"}).Find(&n).Error
	if err != nil {
		return err
	}
	if len(n) == 0 {
		return ErrNotLeader
	}
	return nil
}

// checkTx is check in a pgx transaction (PostgreSQL: copyStatuses).
func (f *Fenced) checkTx(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
		return err
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM leader_leases WHERE name = $1 AND holder = $2 AND term = $3 AND expires_at > now() FOR SHARE`,
		leaseName, f.f.Holder, f.f.Term).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotLeader
	}
	return err
}

// ApplyIncident is Store.ApplyIncident under the fence; its event carries
// the term.
func (f *Fenced) ApplyIncident(ctx context.Context, ch models.IncidentChange) error {
	return f.applyIncident(ctx, ch, f.check, f.f.Term)
}

// ClaimDeliveries is Store.ClaimDeliveries under the fence.
func (f *Fenced) ClaimDeliveries(ctx context.Context, c models.Claim) ([]models.ClaimedDelivery, error) {
	return f.claim(ctx, c, f.check)
}

// PutStatuses is Store.PutStatuses under the fence.
func (f *Fenced) PutStatuses(ctx context.Context, seq int64, changed []models.ServiceStatus, removed []uint) error {
	return f.putStatuses(ctx, seq, changed, removed, f)
}
