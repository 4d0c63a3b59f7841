package handlers

import (
	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// directoryPage is the view model of the home page: the services with
// problems now, then one page of the whole catalogue (by name order of
// slugs), searchable on the server. Its size is bounded by the page sizes,
// not by the catalogue: about 60 KB at the default, under 200 KB at most.
type directoryPage struct {
	pageMeta
	Groups        []correlatedGroup // open correlation groups large enough to announce
	Query         string
	Problems      []serviceView // the worst first
	ProblemsTotal int           // how many services have problems (matching the search)
	Services      []serviceView // this page, by slug
	Total         int           // services in the catalogue
	Cursor        string        // where this page starts ("" on the first)
	Next          string        // the next page's link, "" on the last
	First         string        // the first page's link (of the same search)
}

// directory is the home page. ?q= searches names and slugs, ?cursor= and
// ?limit= page through the catalogue; a bad cursor or limit falls back to
// the first page at the default size.
func (p *pages) directory(c *gin.Context) {
	lq, err := parseListQuery(c, directoryLimit, directoryMax)
	if err != nil {
		lq = listQuery{Q: lq.Q, q: lq.q, Limit: directoryLimit}
		if len([]rune(lq.Q)) > maxQueryRunes {
			lq.Q, lq.q = "", ""
		}
	}
	ix := p.h.catalog.index(p.h.Status)
	key := renderKey{kind: kindDirectory, variant: lq.variant()}
	p.cachedHTML(c, key, ix.seq, varyEnc, "index.html", func() any {
		d := directoryPage{
			pageMeta: pageMeta{Title: "Outcry · Is it down, or is it just me?", Description: "Live status of popular services, from reports by the people using them.",
				Feeds: allFeeds},
			Query: lq.Q, Total: len(ix.bySlug), Cursor: lq.Cursor, First: lq.link("/", "", directoryLimit),
			Groups: ix.groups,
		}
		problems, total := ix.problemsNow(lq.q, problemsShown)
		d.ProblemsTotal = total
		if lq.Cursor == "" {
			d.Problems = listViews(problems)
		}
		items, next := ix.page(lq)
		d.Services = listViews(items)
		if next != "" {
			d.Next = lq.link("/", next, directoryLimit)
		}
		return d
	})
}

// listViews are services as list rows, with an hourly sparkline (a quarter
// of the bytes of the service page's).
func listViews(list []*models.ServiceStatus) []serviceView {
	out := make([]serviceView, len(list))
	for i, st := range list {
		out[i] = serviceViewOf(*st)
		out[i].Spark = sparkline(hourly(st.Series))
	}
	return out
}

// hourly sums 15-minute buckets into hours (the last hour may be partial).
func hourly(series []models.Bucket) []int {
	per := int(60 / models.BucketSize.Minutes())
	out := make([]int, 0, (len(series)+per-1)/per)
	for i := 0; i < len(series); i += per {
		n := 0
		for _, b := range series[i:min(i+per, len(series))] {
			n += b.Count
		}
		out = append(out, n)
	}
	return out
}
