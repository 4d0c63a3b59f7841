package handlers

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// The catalogue is listed in pages: by slug from a cursor (the slug of the
// last service of the previous page), optionally filtered by a search in
// names and slugs, with the services that have problems now in a section of
// their own. Pages are cut from an index of the snapshot built once per
// snapshot (on the first list request after a tick), so a page costs a
// binary search and a short walk, and a search one pass over the names.
//
// Keyset pagination on the unique slug returns every service that exists
// during a walk exactly once, whatever is created or deleted meanwhile.

// catalogIndex is one snapshot arranged for listing.
type catalogIndex struct {
	seq      uint64
	bySlug   []*models.ServiceStatus // every service, by slug
	search   []string                // lower-case "name slug", aligned with bySlug
	problems []*models.ServiceStatus // level above ok: worst first, then most reports
	groups   []correlatedGroup       // open correlation groups the home page announces, oldest first
}

// catalogIndexer keeps the index of the latest snapshot.
type catalogIndexer struct {
	mu  sync.Mutex
	cur *catalogIndex
}

// index returns the index of the current snapshot, building it if the
// snapshot changed since the last one.
func (ci *catalogIndexer) index(sr StatusReader) *catalogIndex {
	seq, _ := sr.Published()
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if ci.cur != nil && ci.cur.seq == seq {
		return ci.cur
	}
	all := sr.All()
	ix := &catalogIndex{seq: seq, bySlug: make([]*models.ServiceStatus, len(all))}
	for i := range all {
		ix.bySlug[i] = &all[i]
		if all[i].Level.Rank() > 0 {
			ix.problems = append(ix.problems, &all[i])
		}
	}
	slices.SortFunc(ix.bySlug, func(a, b *models.ServiceStatus) int { return strings.Compare(a.Service.Slug, b.Service.Slug) })
	ix.search = make([]string, len(ix.bySlug))
	for i, st := range ix.bySlug {
		ix.search[i] = strings.ToLower(st.Service.Name + " " + st.Service.Slug)
	}
	ix.groups = correlatedGroups(ix.problems, models.MinBannerServices(len(all)))
	ci.cur = ix
	return ix
}

// correlatedGroup is a correlation group of open incidents as the home
// page's banner shows it: the services, by name, and since when.
type correlatedGroup struct {
	ID       uint64
	Since    time.Time // the earliest start of its open incidents
	Services []serviceLink
}

type serviceLink struct {
	Name string
	URL  string
}

// correlatedGroups are the correlation groups among the open incidents of
// list with at least least services, oldest first. Only services with
// problems have open incidents, so this reads the problems alone.
func correlatedGroups(list []*models.ServiceStatus, least int) []correlatedGroup {
	byID := map[uint64]*correlatedGroup{}
	for _, st := range list {
		seen := map[uint64]bool{}
		add := func(in *models.Incident) {
			if in.CorrelationID == nil || !in.Open() {
				return
			}
			id := *in.CorrelationID
			g := byID[id]
			if g == nil {
				g = &correlatedGroup{ID: id, Since: in.StartedAt}
				byID[id] = g
			}
			if in.StartedAt.Before(g.Since) {
				g.Since = in.StartedAt
			}
			if !seen[id] { // a service with a global and a regional incident counts once
				seen[id] = true
				g.Services = append(g.Services, serviceLink{Name: st.Service.Name, URL: "/s/" + st.Service.Slug})
			}
		}
		if st.Incident != nil {
			add(st.Incident)
		}
		for i := range st.Regional {
			add(&st.Regional[i])
		}
	}
	var out []correlatedGroup
	for _, g := range byID {
		if len(g.Services) >= least {
			slices.SortFunc(g.Services, func(a, b serviceLink) int { return strings.Compare(a.Name, b.Name) })
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(a, b correlatedGroup) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// listQuery is one page request: a search, a cursor and a page size.
type listQuery struct {
	Q      string // as typed (trimmed)
	q      string // lower-case, for matching
	Cursor string
	Limit  int
}

// Page sizes: the API's default and maximum, and the home page's.
const (
	listDefault     = 50
	listMax         = 200
	directoryLimit  = 50
	directoryMax    = 100
	problemsShown   = 20 // services with problems shown before the list
	maxQueryRunes   = 100
	maxCursorLength = 64 // a slug
)

// parseListQuery reads ?q=, ?cursor= and ?limit= (def by default, at most
// most); it reports a clear error for a bad limit or cursor.
func parseListQuery(c *gin.Context, def, most int) (listQuery, error) {
	lq := listQuery{Q: strings.TrimSpace(c.Query("q")), Cursor: c.Query("cursor"), Limit: def}
	if utf8.RuneCountInString(lq.Q) > maxQueryRunes {
		return lq, models.Errorf(models.CodeInvalid, "q must be at most %d characters", maxQueryRunes)
	}
	lq.q = strings.ToLower(lq.Q)
	if len(lq.Cursor) > maxCursorLength {
		return lq, models.Errorf(models.CodeInvalid, "cursor must be the slug of a service (at most %d characters)", maxCursorLength)
	}
	var err error
	lq.Limit, err = queryInt(c, "limit", def, 1, most)
	return lq, err
}

// variant is the query as a cache key.
func (lq listQuery) variant() string {
	return lq.q + "\x00" + lq.Cursor + "\x00" + strconv.Itoa(lq.Limit)
}

// link is path with the query of lq at cursor (omitting defaults).
func (lq listQuery) link(path, cursor string, def int) string {
	v := url.Values{}
	if lq.Q != "" {
		v.Set("q", lq.Q)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if lq.Limit != def {
		v.Set("limit", strconv.Itoa(lq.Limit))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// page is the services of one page and the cursor of the next ("" at the end).
func (ix *catalogIndex) page(lq listQuery) (items []*models.ServiceStatus, next string) {
	i, _ := slices.BinarySearchFunc(ix.bySlug, lq.Cursor, func(st *models.ServiceStatus, slug string) int {
		return strings.Compare(st.Service.Slug, slug)
	})
	if i < len(ix.bySlug) && lq.Cursor != "" && ix.bySlug[i].Service.Slug == lq.Cursor {
		i++
	}
	for ; i < len(ix.bySlug); i++ {
		if lq.q != "" && !strings.Contains(ix.search[i], lq.q) {
			continue
		}
		if len(items) == lq.Limit {
			return items, items[len(items)-1].Service.Slug
		}
		items = append(items, ix.bySlug[i])
	}
	return items, ""
}

// problemsNow are the first n services with problems (matching the search).
func (ix *catalogIndex) problemsNow(q string, n int) (shown []*models.ServiceStatus, total int) {
	for _, st := range ix.problems {
		if q != "" && !strings.Contains(strings.ToLower(st.Service.Name+" "+st.Service.Slug), q) {
			continue
		}
		total++
		if len(shown) < n {
			shown = append(shown, st)
		}
	}
	return shown, total
}
