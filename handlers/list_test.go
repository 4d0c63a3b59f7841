package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/models"
)

func (w *pgWorld) remove(slug string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.statuses, slug)
	w.seq++
}

func listPage(t *testing.T, r http.Handler, target string) handlers.ServicePage {
	t.Helper()
	rec := pgGet(r, "GET", target)
	var p handlers.ServicePage
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	return p
}

// TestCursorWalkWhileChanging: walking the catalogue page by page returns
// every service that exists throughout the walk exactly once, while
// services are created and deleted (before and after the cursor) between
// pages, and never returns one twice.
func TestCursorWalkWhileChanging(t *testing.T) {
	w, r := pgServer(t)
	for _, slug := range []string{"chatgpt", "sora", "evil"} {
		w.remove(slug)
	}
	for i := range 100 {
		w.set(pgStatus(uint(10+i), fmt.Sprintf("svc-%03d", i*2), fmt.Sprintf("Service %d", i), models.LevelOK, i))
	}
	stable := map[string]bool{}
	for i := range 100 {
		if i%10 != 3 { // every tenth is deleted during the walk
			stable[fmt.Sprintf("svc-%03d", i*2)] = true
		}
	}
	seen := map[string]int{}
	next, pages := "/api/v1/services?limit=7", 0
	for next != "" {
		p := listPage(t, r, next)
		if pages > 0 && p.Problems != nil {
			t.Error("a page after the first has a problems section")
		}
		for _, it := range p.Items {
			seen[it.Slug]++
		}
		// Between pages: delete one ahead and one behind, create one ahead
		// and one behind (odd numbers sort between the existing slugs).
		w.remove(fmt.Sprintf("svc-%03d", (pages*10+3)*2))
		w.remove(fmt.Sprintf("svc-%03d", ((pages+5)*10%100+3)*2))
		for _, n := range []int{pages*14 + 1, 199 - pages*14} {
			if n > 0 && n < 200 {
				w.set(pgStatus(uint(1000+n), fmt.Sprintf("svc-%03d", n), "New", models.LevelOK, 0))
			}
		}
		pages++
		if pages > 100 {
			t.Fatal("the walk does not end")
		}
		next = ""
		if p.Next != nil {
			next = *p.Next
			if !strings.Contains(next, "limit=7") {
				t.Fatalf("the next link %q loses the page size", next)
			}
		}
	}
	for slug, n := range seen {
		if n > 1 {
			t.Errorf("%s was returned %d times", slug, n)
		}
	}
	for slug := range stable {
		if seen[slug] != 1 {
			t.Errorf("%s, present throughout, was returned %d times", slug, seen[slug])
		}
	}
	if pages < 14 {
		t.Errorf("100 services in pages of 7 took %d pages", pages)
	}
}

func TestListSearchProblemsAndLimits(t *testing.T) {
	_, r := pgServer(t)
	p := listPage(t, r, "/api/v1/services")
	if p.Problems == nil || p.ProblemsTotal == nil || *p.ProblemsTotal != 2 {
		t.Fatalf("the first page's problems section: %+v", p)
	}
	// Problems come worst first: the outage (sora), then the warning.
	if got := *p.Problems; len(got) != 2 || got[0].Slug != "sora" || got[1].Slug != "evil" {
		t.Errorf("problems now: %+v", got)
	}
	if len(p.Items) != 3 || p.Items[0].Slug != "chatgpt" || p.Items[2].Slug != "sora" || p.Next != nil {
		t.Errorf("items by slug: %+v, next %v", p.Items, p.Next)
	}
	p = listPage(t, r, "/api/v1/services?q=SOR")
	if len(p.Items) != 1 || p.Items[0].Slug != "sora" || *p.ProblemsTotal != 1 {
		t.Errorf("search SOR: %+v", p)
	}
	p = listPage(t, r, "/api/v1/services?q=script")
	if len(p.Items) != 1 || p.Items[0].Slug != "evil" {
		t.Errorf("searching a name: %+v", p.Items)
	}
	for _, bad := range []string{"limit=0", "limit=201", "limit=x", "cursor=" + strings.Repeat("a", 65), "q=" + strings.Repeat("q", 101)} {
		rec := pgGet(r, "GET", "/api/v1/services?"+bad)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"code":"invalid"`) {
			t.Errorf("%s answered %d %s", bad, rec.Code, rec.Body)
		}
	}
	home := pgGet(r, "GET", "/?q=sor").Body.String()
	if !strings.Contains(home, "Problems now") || !strings.Contains(home, "Sora") || strings.Contains(home, `<span class="name">ChatGPT`) {
		t.Error("the home page's search does not filter on the server")
	}
}

// TestHomePageSize: the home page stays well under 200 KB however large
// the catalogue, at its largest page and with every service in trouble.
func TestHomePageSize(t *testing.T) {
	w, r := pgServer(t)
	long := strings.Repeat("Ω", 120)
	series := pgStatus(1, "x", "x", models.LevelOK, 0).Series
	for i := range 5000 {
		st := pgStatus(uint(10+i), fmt.Sprintf("service-with-a-long-slug-%05d", i), long, models.LevelOutage, 123456)
		st.Series = series
		w.set(st)
	}
	for _, target := range []string{"/", "/?limit=100", "/?limit=100&cursor=service-with-a-long-slug-02000", "/?q=%CE%A9&limit=100"} {
		rec := pgGet(r, "GET", target)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", target, rec.Code)
		}
		t.Logf("%s: %d bytes", target, rec.Body.Len())
		if n := rec.Body.Len(); n > 200<<10 {
			t.Errorf("%s is %d KB", target, n>>10)
		}
		if !strings.Contains(rec.Body.String(), `rel="next"`) {
			t.Errorf("%s has no link to the next page", target)
		}
	}
	if rec := pgGet(r, "GET", "/?limit=500"); rec.Code != http.StatusOK || rec.Body.Len() > 200<<10 {
		t.Errorf("an over-large limit: %d, %d KB", rec.Code, rec.Body.Len()>>10)
	}
}
