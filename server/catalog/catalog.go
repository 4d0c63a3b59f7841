// Package catalog keeps the service catalogue in memory for the hot paths
// (every report and page looks a service up) and writes changes through to
// the store. It also holds the demo catalogue and its synthetic history.
package catalog

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/outcry/outcry/models"
)

// Store is what the catalogue needs from durable storage.
type Store interface {
	Services(ctx context.Context) ([]models.Service, error)
	CountServices(ctx context.Context) (int64, error)
	CreateService(ctx context.Context, svc *models.Service) error
	UpdateService(ctx context.Context, svc *models.Service) error
	DeleteService(ctx context.Context, slug string) error
	InsertRollups(ctx context.Context, rows []models.Rollup) error
}

// Catalog keeps every service in memory for the hot paths and writes changes
// through to the store; lookups see a change as soon as it returns. A change
// costs one store write and one map entry, whatever the catalogue's size:
// the whole catalogue is read only at start.
type Catalog struct {
	st     Store
	mu     sync.Mutex // serialises changes and rebuilding the list
	bySlug sync.Map   // slug → models.Service: lock-free lookups
	list   atomic.Pointer[[]models.Service]
	dirty  atomic.Bool // list misses a change
	// CheckURL vets an official status URL's address before a change is
	// stored (server wires safehttp.CheckDestination with the private
	// address opt-in); nil accepts any.
	CheckURL func(raw string) error
}

// New loads the catalogue from the store.
func New(ctx context.Context, st Store) (*Catalog, error) {
	c := &Catalog{st: st}
	all, err := st.Services(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		c.bySlug.Store(s.Slug, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Slug < all[j].Slug })
	c.list.Store(&all)
	return c, nil
}

// Reload re-reads the whole catalogue from the store: replicas call it when
// another replica changed the services (a change made here needs none).
func (c *Catalog) Reload(ctx context.Context) error {
	all, err := c.st.Services(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := make(map[string]bool, len(all))
	for _, s := range all {
		keep[s.Slug] = true
		c.bySlug.Store(s.Slug, s)
	}
	c.bySlug.Range(func(k, _ any) bool {
		if !keep[k.(string)] {
			c.bySlug.Delete(k)
		}
		return true
	})
	c.dirty.Store(true)
	return nil
}

// Lookup finds a service by slug, in memory.
func (c *Catalog) Lookup(slug string) (models.Service, bool) {
	v, ok := c.bySlug.Load(slug)
	if !ok {
		return models.Service{}, false
	}
	return v.(models.Service), true
}

// Services lists every service, by slug. After changes the list is rebuilt
// once, by the next caller (the detector, once a tick), not by the change.
// The slice is shared: callers must not modify it.
func (c *Catalog) Services() []models.Service {
	if !c.dirty.Load() {
		return *c.list.Load()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty.Load() {
		var all []models.Service
		c.bySlug.Range(func(_, v any) bool {
			all = append(all, v.(models.Service))
			return true
		})
		sort.Slice(all, func(i, j int) bool { return all[i].Slug < all[j].Slug })
		c.list.Store(&all)
		c.dirty.Store(false)
	}
	return *c.list.Load()
}

// Create stores a new service.
func (c *Catalog) Create(ctx context.Context, s *models.Service) error {
	if err := c.checkURL(s); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.CreateService(ctx, s); err != nil {
		return err
	}
	c.bySlug.Store(s.Slug, *s)
	c.dirty.Store(true)
	return nil
}

// Update saves a changed service.
func (c *Catalog) Update(ctx context.Context, s *models.Service) error {
	if err := c.checkURL(s); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.UpdateService(ctx, s); err != nil {
		return err
	}
	c.bySlug.Store(s.Slug, *s)
	c.dirty.Store(true)
	return nil
}

func (c *Catalog) checkURL(s *models.Service) error {
	if c.CheckURL == nil || s.OfficialStatusURL == "" {
		return nil
	}
	if err := s.Validate(); err != nil {
		return err
	}
	return c.CheckURL(s.OfficialStatusURL)
}

// Delete removes a service and its data.
func (c *Catalog) Delete(ctx context.Context, slug string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.DeleteService(ctx, slug); err != nil {
		return err
	}
	c.bySlug.Delete(slug)
	c.dirty.Store(true)
	return nil
}
