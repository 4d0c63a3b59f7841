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
// through to the store; lookups see a change as soon as it returns.
type Catalog struct {
	st     Store
	mu     sync.Mutex // serialises changes
	bySlug atomic.Pointer[map[string]models.Service]
	list   atomic.Pointer[[]models.Service]
}

// New loads the catalogue from the store.
func New(ctx context.Context, st Store) (*Catalog, error) {
	c := &Catalog{st: st}
	return c, c.reload(ctx)
}

// Reload re-reads the catalogue from the store: replicas call it when
// another replica changed the services.
func (c *Catalog) Reload(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reload(ctx)
}

func (c *Catalog) reload(ctx context.Context) error {
	all, err := c.st.Services(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]models.Service, len(all))
	for _, s := range all {
		m[s.Slug] = s
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Slug < all[j].Slug })
	c.bySlug.Store(&m)
	c.list.Store(&all)
	return nil
}

// Lookup finds a service by slug, in memory.
func (c *Catalog) Lookup(slug string) (models.Service, bool) {
	s, ok := (*c.bySlug.Load())[slug]
	return s, ok
}

// Services lists every service, by slug.
func (c *Catalog) Services() []models.Service { return *c.list.Load() }

func (c *Catalog) change(ctx context.Context, f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := f(); err != nil {
		return err
	}
	return c.reload(ctx)
}

// Create stores a new service.
func (c *Catalog) Create(ctx context.Context, s *models.Service) error {
	return c.change(ctx, func() error { return c.st.CreateService(ctx, s) })
}

// Update saves a changed service.
func (c *Catalog) Update(ctx context.Context, s *models.Service) error {
	return c.change(ctx, func() error { return c.st.UpdateService(ctx, s) })
}

// Delete removes a service and its data.
func (c *Catalog) Delete(ctx context.Context, slug string) error {
	return c.change(ctx, func() error { return c.st.DeleteService(ctx, slug) })
}
