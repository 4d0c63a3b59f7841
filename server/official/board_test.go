package official

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

type rows []models.OfficialSource

func (r rows) OfficialSourcesSince(context.Context, time.Time) ([]models.OfficialSource, error) {
	return r, nil
}

// Versions change exactly when what is shown changes; readers never see a
// half-written board while writers publish (run with -race).
func TestBoardVersions(t *testing.T) {
	b := NewBoard()
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	op := models.OfficialStatus{Status: models.OfficialOperational, Source: "https://a"}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a reader on another core, as the read paths are
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if st, ok := b.Official(1); ok && (st.Source != "https://a" || st.Version == 0) {
				t.Errorf("read %+v", st)
				return
			}
		}
	}()

	b.Set(1, op, t0)
	v1, _ := b.Official(1)
	if v1.Version == 0 || v1.Status != models.OfficialOperational {
		t.Fatalf("after Set: %+v", v1)
	}
	b.Set(1, op, t0)
	if again, _ := b.Official(1); again.Version != v1.Version {
		t.Errorf("the same status as of the same stamp changed the version: %d → %d", v1.Version, again.Version)
	}
	major := op
	major.Status = models.OfficialMajorOutage
	b.Set(1, major, t0.Add(time.Minute))
	v2, _ := b.Official(1)
	if v2.Version <= v1.Version || v2.Status != models.OfficialMajorOutage {
		t.Errorf("a new status: %+v (was version %d)", v2, v1.Version)
	}
	b.Bump(1)
	if v3, _ := b.Official(1); v3.Version <= v2.Version || v3.Status != models.OfficialMajorOutage {
		t.Errorf("Bump: %+v", v3)
	}
	b.Bump(2) // none: nothing to bump
	if _, ok := b.Official(2); ok {
		t.Error("Bump made an entry")
	}

	since, err := b.Load(context.Background(), rows{
		{ServiceID: 2, URL: "https://a", Status: models.OfficialDegraded, UpdatedAt: t0.Add(2 * time.Minute)},
		{ServiceID: 3, URL: "https://a", Status: models.OfficialOperational, UpdatedAt: t0.Add(3 * time.Minute)},
	}, t0)
	if err != nil || !since.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("Load: %v, %v", since, err)
	}
	s2, ok2 := b.Official(2)
	s3, ok3 := b.Official(3)
	if !ok2 || !ok3 || s2.Status != models.OfficialDegraded || s2.Version == s3.Version {
		t.Errorf("loaded %+v %+v", s2, s3)
	}
	b.Forget(func(id uint) bool { return id != 2 })
	if _, ok := b.Official(2); ok {
		t.Error("Forget kept 2")
	}
	if _, ok := b.Official(3); !ok {
		t.Error("Forget dropped 3")
	}
	close(stop)
	wg.Wait()
}
