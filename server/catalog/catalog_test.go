package catalog_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/catalog"
)

// memStore is a store in memory that records which services each call
// reads or writes.
type memStore struct {
	mu      sync.Mutex
	byID    map[uint]models.Service
	slugs   map[string]bool
	nextID  uint
	reads   int    // services read by Services
	written []uint // IDs written by Create/Update/Delete
}

func (m *memStore) Services(context.Context) ([]models.Service, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]models.Service, 0, len(m.byID))
	for _, s := range m.byID {
		out = append(out, s)
	}
	m.reads += len(out)
	return out, nil
}

func (m *memStore) CountServices(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.byID)), nil
}

func (m *memStore) CreateService(_ context.Context, s *models.Service) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.slugs[s.Slug] {
		return models.Errorf(models.CodeConflict, "taken")
	}
	m.slugs[s.Slug] = true
	m.nextID++
	s.ID, s.CreatedAt, s.UpdatedAt = m.nextID, time.Unix(int64(m.nextID), 0), time.Unix(int64(m.nextID), 0)
	m.byID[s.ID] = *s
	m.written = append(m.written, s.ID)
	return nil
}

func (m *memStore) UpdateService(_ context.Context, s *models.Service) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byID[s.ID] = *s
	m.written = append(m.written, s.ID)
	return nil
}

func (m *memStore) DeleteService(_ context.Context, slug string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.byID {
		if s.Slug == slug {
			delete(m.byID, id)
			delete(m.slugs, slug)
			m.written = append(m.written, id)
			return nil
		}
	}
	return models.Errorf(models.CodeNotFound, "no %s", slug)
}

func (m *memStore) InsertRollups(context.Context, []models.Rollup) error { return nil }

// TestChangesTouchOnlyTheirService: with 5,000 services, creating, changing
// and deleting one writes that one service and reads none of the others
// (no reload of the catalogue), and every other lookup stays as it was.
func TestChangesTouchOnlyTheirService(t *testing.T) {
	ctx := context.Background()
	st := &memStore{byID: map[uint]models.Service{}, slugs: map[string]bool{}}
	for i := range 5000 {
		s := models.Service{Slug: fmt.Sprintf("svc-%05d", i), Name: fmt.Sprintf("Service %d", i), Problems: []string{"login"}}
		if err := st.CreateService(ctx, &s); err != nil {
			t.Fatal(err)
		}
	}
	st.written = nil
	cat, err := catalog.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	before := cat.Services()
	if st.reads != 5000 || len(before) != 5000 {
		t.Fatalf("start read %d services, listed %d", st.reads, len(before))
	}
	st.reads = 0

	fresh := models.Service{Slug: "aaa-new", Name: "New", Problems: []string{"login"}}
	if err := cat.Create(ctx, &fresh); err != nil {
		t.Fatal(err)
	}
	changed, _ := cat.Lookup("svc-00042")
	changed.Name = "Renamed"
	if err := cat.Update(ctx, &changed); err != nil {
		t.Fatal(err)
	}
	if err := cat.Delete(ctx, "svc-04999"); err != nil {
		t.Fatal(err)
	}
	if st.reads != 0 {
		t.Errorf("three changes read %d services from the store", st.reads)
	}
	if want := []uint{fresh.ID, changed.ID, 5000}; !reflect.DeepEqual(st.written, want) {
		t.Errorf("the changes wrote services %v, want %v", st.written, want)
	}
	if got, ok := cat.Lookup("aaa-new"); !ok || got.ID != fresh.ID {
		t.Errorf("the new service: %+v %v", got, ok)
	}
	if got, _ := cat.Lookup("svc-00042"); got.Name != "Renamed" {
		t.Errorf("the changed service is called %q", got.Name)
	}
	if _, ok := cat.Lookup("svc-04999"); ok {
		t.Error("the deleted service is still found")
	}
	after := cat.Services()
	if len(after) != 5000 || after[0].Slug != "aaa-new" {
		t.Fatalf("after the changes: %d services, first %q", len(after), after[0].Slug)
	}
	for i, s := range after[1:] {
		want := before[i]
		if want.Slug == "svc-00042" {
			want.Name = "Renamed"
		}
		if !reflect.DeepEqual(s, want) {
			t.Fatalf("service %d is %+v, was %+v", i, s, want)
		}
	}
	if st.reads != 0 {
		t.Errorf("listing after changes read %d services from the store", st.reads)
	}
}

// TestFailedChangeChangesNothing: a change the store refuses is not seen.
func TestFailedChangeChangesNothing(t *testing.T) {
	ctx := context.Background()
	st := &memStore{byID: map[uint]models.Service{}, slugs: map[string]bool{}}
	cat, _ := catalog.New(ctx, st)
	a := models.Service{Slug: "a", Name: "A", Problems: []string{"x"}}
	if err := cat.Create(ctx, &a); err != nil {
		t.Fatal(err)
	}
	dup := models.Service{Slug: "a", Name: "Other", Problems: []string{"x"}}
	if err := cat.Create(ctx, &dup); models.ErrorCode(err) != models.CodeConflict {
		t.Fatalf("duplicate: %v", err)
	}
	if err := cat.Delete(ctx, "nope"); models.ErrorCode(err) != models.CodeNotFound {
		t.Fatalf("delete unknown: %v", err)
	}
	if got, _ := cat.Lookup("a"); got.Name != "A" || len(cat.Services()) != 1 {
		t.Errorf("after refused changes: %+v, %d services", got, len(cat.Services()))
	}
}

// TestReload: another replica's changes (made in the store behind this
// catalogue's back) are seen after Reload: added, changed and removed.
func TestReload(t *testing.T) {
	ctx := context.Background()
	st := &memStore{byID: map[uint]models.Service{}, slugs: map[string]bool{}}
	for _, slug := range []string{"a", "b", "c"} {
		s := models.Service{Slug: slug, Name: slug, Problems: []string{"x"}}
		_ = st.CreateService(ctx, &s)
	}
	cat, _ := catalog.New(ctx, st)
	b, _ := cat.Lookup("b")
	b.Name = "B2"
	_ = st.UpdateService(ctx, &b)
	_ = st.DeleteService(ctx, "c")
	d := models.Service{Slug: "d", Name: "d", Problems: []string{"x"}}
	_ = st.CreateService(ctx, &d)
	if err := cat.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	var slugs []string
	for _, s := range cat.Services() {
		slugs = append(slugs, s.Slug+"="+s.Name)
	}
	if !reflect.DeepEqual(slugs, []string{"a=a", "b=B2", "d=d"}) {
		t.Errorf("after Reload: %v", slugs)
	}
	if _, ok := cat.Lookup("c"); ok {
		t.Error("a service deleted elsewhere is still found")
	}
}
