package server

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

// catalog keeps every service in memory for the hot paths and writes changes
// through to the store; lookups see a change as soon as it returns.
type catalog struct {
	st     *store.Store
	mu     sync.Mutex // serialises changes
	bySlug atomic.Pointer[map[string]models.Service]
	list   atomic.Pointer[[]models.Service]
}

func newCatalog(ctx context.Context, st *store.Store) (*catalog, error) {
	c := &catalog{st: st}
	return c, c.reload(ctx)
}

func (c *catalog) reload(ctx context.Context) error {
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
func (c *catalog) Lookup(slug string) (models.Service, bool) {
	s, ok := (*c.bySlug.Load())[slug]
	return s, ok
}

// Services lists every service, by slug.
func (c *catalog) Services() []models.Service { return *c.list.Load() }

func (c *catalog) change(ctx context.Context, f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := f(); err != nil {
		return err
	}
	return c.reload(ctx)
}

// Create stores a new service.
func (c *catalog) Create(ctx context.Context, s *models.Service) error {
	return c.change(ctx, func() error { return c.st.CreateService(ctx, s) })
}

// Update saves a changed service.
func (c *catalog) Update(ctx context.Context, s *models.Service) error {
	return c.change(ctx, func() error { return c.st.UpdateService(ctx, s) })
}

// Delete removes a service and its data.
func (c *catalog) Delete(ctx context.Context, slug string) error {
	return c.change(ctx, func() error { return c.st.DeleteService(ctx, slug) })
}
