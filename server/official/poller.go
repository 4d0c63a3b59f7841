// Package official polls services' own public status pages (Atlassian
// Statuspage, incident.io, RSS/Atom feeds), normalises what they say, keeps
// it in the database for every replica to show beside the crowd's status,
// and records when an official page first acknowledged one of Outcry's
// incidents (the crowd's lead time).
//
// Only the leader polls (server/roles.go); every replica reads the result
// through a Board. A failing source never breaks anything: its last known
// status stays, the read paths say since when it is unavailable, and it is
// logged once when it starts failing and once when it recovers.
package official

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outcry/outcry/models"
)

// Store is what the poller needs from the database (server/store; fenced
// by the leader's term).
type Store interface {
	OfficialSources(ctx context.Context) ([]models.OfficialSource, error)
	SaveOfficialPoll(ctx context.Context, src models.OfficialSource, incs []models.OfficialIncident) error
	OfficialIncidentsActiveSince(ctx context.Context, serviceID uint, since time.Time) ([]models.OfficialIncident, error)
	UnacknowledgedIncidents(ctx context.Context, serviceID uint, resolvedAfter time.Time) ([]models.Incident, error)
	AcknowledgeIncident(ctx context.Context, svc models.Service, incidentID uint64, ack time.Time, publicURL string, now time.Time) (bool, error)
}

// Catalog lists the services (server/catalog).
type Catalog interface {
	Services() []models.Service
}

// Defaults.
const (
	DefaultInterval = 60 * time.Second
	Timeout         = 10 * time.Second // one poll, connection to last byte
	MaxBody         = 4 << 20          // a larger body is a failed poll
	// Jitter spreads polls: each waits interval ± 10 %.
	Jitter = 0.1
	// Before and After bound the period in which an official problem
	// matches an Outcry incident: from Before its start to After its end.
	Before = 2 * time.Hour
	After  = 4 * time.Hour
	// parallel bounds the polls in flight.
	parallel = 8
	// A failing source is polled less often: the interval doubles with
	// each consecutive failure after the first, up to MaxBackoff times
	// it (1, 2, 4, 5, 5 … minutes at the default), so a page that is down
	// for hours is asked a dozen times an hour, not sixty, and one that
	// failed once is asked again at the usual time.
	MaxBackoff = 5
	// MaxRetryAfter caps how long a source's Retry-After (429, 503) may
	// hold its polls back.
	MaxRetryAfter = time.Hour
)

// Options configure a Poller.
type Options struct {
	Store   Store
	Catalog Catalog
	Client  *http.Client // server/safehttp's guarded client (redirects followed)
	// Interval between polls of one source (default 60 s), ±Jitter.
	Interval time.Duration
	// Now is the clock recorded times come from (first seen, failures,
	// acknowledgements); scheduling runs on the wall clock.
	Now       func() time.Time
	Log       *slog.Logger
	Metrics   *Metrics
	PublicURL string
	// Board receives what every poll shows (the leader's own read paths).
	Board *Board
	// Notify wakes the webhook dispatcher after an acknowledgement's event
	// is committed; nil for none.
	Notify func()
	// Tick is how often the scheduler looks for due sources (default 1 s,
	// or Interval/4 if shorter).
	Tick time.Duration
	// Timeout bounds one poll (default Timeout).
	Timeout time.Duration
}

// Poller polls the official sources of the catalogue's services.
type Poller struct {
	o     Options
	mu    sync.Mutex
	state map[uint]*source // by service id
}

// source is one service's source between polls.
type source struct {
	row     models.OfficialSource
	next    time.Time                           // wall clock: when it is due
	open    map[string]*models.OfficialIncident // unresolved incidents stored, by external id
	loaded  bool                                // open was read from the store this tenure
	failing bool                                // logged as failing
	fails   int                                 // consecutive failed polls
	// retryAfter: the wait the source asked for with its last answer.
	retryAfter time.Duration
	// busy: a poll owns row, open and failing (only it touches them); down
	// is row's health, kept under Poller.mu for the gauge.
	busy bool
	down bool
}

// New builds a poller; Run polls until its context ends.
func New(o Options) *Poller {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Tick <= 0 {
		o.Tick = min(time.Second, o.Interval/4)
	}
	if o.Timeout <= 0 {
		o.Timeout = Timeout
	}
	return &Poller{o: o, state: map[uint]*source{}}
}

// Run loads the stored states and polls every due source until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	if rows, err := p.o.Store.OfficialSources(ctx); err != nil {
		if ctx.Err() == nil {
			p.o.Log.Warn("reading official sources failed; polling from scratch", "err", err)
		}
	} else {
		p.mu.Lock()
		for _, r := range rows {
			s := &source{row: r, failing: r.FailingSince != nil, down: r.FailingSince != nil}
			p.state[r.ServiceID] = s
		}
		p.mu.Unlock()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, parallel)
	t := time.NewTicker(p.o.Tick)
	defer t.Stop()
	for {
		for _, svc := range p.due() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				p.Poll(ctx, svc)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// due lists the services whose source is due now (wall clock) and marks
// them busy; sources of services gone or without a URL are forgotten.
func (p *Poller) due() []models.Service {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	live := map[uint]bool{}
	var out []models.Service
	for _, svc := range p.o.Catalog.Services() {
		if svc.OfficialStatusURL == "" {
			continue
		}
		live[svc.ID] = true
		s := p.state[svc.ID]
		if s == nil {
			s = &source{}
			p.state[svc.ID] = s
		}
		if s.busy {
			continue
		}
		// A changed URL is a new source: polled now, not when the old one's
		// backoff or Retry-After would have allowed.
		if now.Before(s.next) && (s.row.URL == "" || s.row.URL == svc.OfficialStatusURL) {
			continue
		}
		s.busy = true
		out = append(out, svc)
	}
	for id := range p.state {
		if !live[id] {
			delete(p.state, id)
		}
	}
	p.o.Metrics.setFailing(p.countFailing())
	return out
}

func (p *Poller) countFailing() int {
	n := 0
	for _, s := range p.state {
		if s.down {
			n++
		}
	}
	return n
}

// nextPoll is how long a source waits for its next poll after fails
// consecutive failures (0: the last poll succeeded): the interval ± Jitter,
// doubled for each failure after the first up to MaxBackoff times, and
// never less than the Retry-After the source asked for (capped at
// MaxRetryAfter).
func nextPoll(interval time.Duration, fails int, retryAfter time.Duration) time.Duration {
	mult := 1
	for i := 1; i < fails && mult < MaxBackoff; i++ {
		mult *= 2
	}
	d := jittered(interval * time.Duration(min(mult, MaxBackoff)))
	return max(d, min(retryAfter, MaxRetryAfter))
}

// retryAfter reads a Retry-After header (delay seconds or an HTTP date) as
// a wait from now; 0 when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(MaxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// jittered is d ± Jitter.
func jittered(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1 - Jitter + 2*Jitter*rand.Float64()))
}

// Poll polls svc's source once (Run calls it when due; tests call it
// directly) and records what it found.
func (p *Poller) Poll(ctx context.Context, svc models.Service) {
	p.mu.Lock()
	s := p.state[svc.ID]
	if s == nil {
		s = &source{}
		p.state[svc.ID] = s
	}
	s.busy = true
	p.mu.Unlock()
	defer func() {
		down := s.row.FailingSince != nil
		p.mu.Lock()
		s.busy, s.down = false, down
		s.next = time.Now().Add(nextPoll(p.o.Interval, s.fails, s.retryAfter))
		p.o.Metrics.setFailing(p.countFailing())
		p.mu.Unlock()
	}()
	if s.row.URL != svc.OfficialStatusURL {
		// A new or changed URL starts afresh: no validators, no endpoint, and
		// none of the old URL's failures (its backoff, its Retry-After, its
		// "unavailable since").
		s.row = models.OfficialSource{ServiceID: svc.ID, URL: svc.OfficialStatusURL, Status: models.OfficialUnknown}
		s.fails, s.failing, s.retryAfter = 0, false, 0
	}
	if !s.loaded && !p.loadOpen(ctx, svc, s) {
		return
	}
	before := models.OfficialStatusOf(s.row)
	res := p.fetch(ctx, svc, &s.row)
	if ctx.Err() != nil {
		return
	}
	now := p.o.Now().UTC()
	incs := p.record(s, svc, res, now)
	changed := !models.OfficialStatusOf(s.row).Same(before) || s.row.UpdatedAt.IsZero()
	if changed {
		s.row.UpdatedAt = now // followers read the rows stamped since their last read
	}
	if err := p.o.Store.SaveOfficialPoll(ctx, s.row, incs); err != nil {
		if ctx.Err() == nil {
			p.o.Log.Warn("saving an official poll failed", "service", svc.Slug, "err", err)
		}
		s.row.BodySHA256, s.row.ETag, s.row.LastModified = "", "", "" // parse again next time
		return
	}
	for i := range incs {
		if incs[i].ResolvedAt == nil {
			c := incs[i]
			s.open[c.ExternalID] = &c
		} else {
			delete(s.open, incs[i].ExternalID)
		}
	}
	if p.o.Board != nil && changed {
		p.o.Board.Set(svc.ID, models.OfficialStatusOf(s.row), s.row.UpdatedAt)
	}
	if res.err == nil && p.acknowledge(ctx, svc, now) {
		s.row.UpdatedAt = now // the acknowledgement stamped the stored row
	}
}

// loadOpen reads svc's official incidents still open into s, once per
// source (false: the read failed, and was logged).
func (p *Poller) loadOpen(ctx context.Context, svc models.Service, s *source) bool {
	open, err := p.o.Store.OfficialIncidentsActiveSince(ctx, svc.ID, p.o.Now())
	if err != nil {
		p.o.Metrics.poll("error")
		if ctx.Err() == nil {
			p.o.Log.Warn("reading official incidents failed", "service", svc.Slug, "err", err)
		}
		return false
	}
	s.open = map[string]*models.OfficialIncident{}
	for i := range open {
		if open[i].ResolvedAt == nil {
			s.open[open[i].ExternalID] = &open[i]
		}
	}
	s.loaded = true
	return true
}

// record takes a fetch's outcome into s at now: the failures and backoff,
// the row's status and, from a fresh reading, the incidents to store.
func (p *Poller) record(s *source, svc models.Service, res fetched, now time.Time) []models.OfficialIncident {
	prevOK := s.row.LastOKAt
	s.row.LastPollAt = &now
	s.retryAfter = res.retryAfter
	if res.err != nil {
		p.o.Metrics.poll("error")
		s.fails++
		s.row.LastError = truncate(res.err.Error(), 500)
		if s.row.FailingSince == nil {
			s.row.FailingSince = &now
		}
		if !s.failing {
			s.failing = true
			p.o.Log.Warn("official status source failing; showing it as unavailable until it answers", "service", svc.Slug,
				"url", svc.OfficialStatusURL, "since", s.row.FailingSince, "err", res.err, "retry_after", res.retryAfter)
		}
		return nil
	}
	if s.failing {
		p.o.Log.Info("official status source recovered", "service", svc.Slug, "url", svc.OfficialStatusURL,
			"failing_for", now.Sub(*s.row.FailingSince).Round(time.Second))
	}
	s.failing, s.fails, s.row.FailingSince, s.row.LastError, s.row.LastOKAt = false, 0, nil, "", &now
	switch {
	case res.notModified:
		p.o.Metrics.poll("not_modified")
	case res.unchanged:
		p.o.Metrics.poll("unchanged")
	default:
		p.o.Metrics.poll("ok")
		return p.apply(s, res.reading, now, prevOK)
	}
	return nil
}

// apply takes a fresh reading into s.row and returns the incidents to
// store: the page's incidents (new ones first seen now, after prevOK), the
// ones it no longer lists (resolved now, when it lists only unresolved
// ones), and the episode of non-operational status the page is in, which
// counts as an acknowledgement like an incident.
func (p *Poller) apply(s *source, r Reading, now time.Time, prevOK *time.Time) []models.OfficialIncident {
	prevStatus := s.row.Status
	s.row.Kind, s.row.Status, s.row.Description = r.Kind, r.Status, truncate(r.Description, 500)
	if r.PageURL != "" && (strings.HasPrefix(r.PageURL, "https://") || strings.HasPrefix(r.PageURL, "http://")) {
		s.row.PageURL = truncate(r.PageURL, 2048)
	} else if s.row.PageURL == "" {
		s.row.PageURL = pageRoot(s.row.URL)
	}
	switch {
	case !r.UpdatedAt.IsZero():
		u := r.UpdatedAt.UTC()
		s.row.StatusAt = &u
	case prevStatus != r.Status || s.row.StatusAt == nil:
		s.row.StatusAt = &now
	}
	var out []models.OfficialIncident
	seen := map[string]bool{}
	for _, in := range r.Incidents {
		seen[in.ExternalID] = true
		old := s.open[in.ExternalID]
		oi := models.OfficialIncident{ServiceID: s.row.ServiceID, ExternalID: in.ExternalID, Title: truncate(in.Title, 500),
			Status: truncate(in.Status, 32), Impact: string(in.Impact), FirstUpdateAt: in.FirstUpdateAt, FirstSeenAt: now,
			SeenAfter: prevOK, ResolvedAt: in.ResolvedAt, URL: truncate(in.URL, 2048), CreatedAt: now, UpdatedAt: now}
		if old != nil {
			oi.ID, oi.FirstUpdateAt, oi.FirstSeenAt, oi.SeenAfter, oi.CreatedAt = old.ID, old.FirstUpdateAt, old.FirstSeenAt, old.SeenAfter, old.CreatedAt
		} else if in.ResolvedAt != nil && r.Kind == KindFeed {
			// A feed item already resolved when first seen is history: kept
			// (it may match a recent incident), with its own times.
			oi.SeenAfter = nil
		}
		out = append(out, oi)
	}
	if r.OnlyUnresolved {
		for id, old := range s.open {
			if !seen[id] && !strings.HasPrefix(id, episodePrefix) {
				c := *old
				c.ResolvedAt, c.Status, c.UpdatedAt = &now, "resolved", now
				out = append(out, c)
			}
		}
	}
	// The status itself: an episode of problem status is an official
	// incident of its own, from when the page says it changed (never
	// earlier than the last poll that saw it operational) until it reads
	// operational again.
	var episode *models.OfficialIncident
	for id, o := range s.open {
		if strings.HasPrefix(id, episodePrefix) {
			episode = o
		}
	}
	switch {
	case r.Status.Problem() && episode == nil:
		at := now
		if s.row.StatusAt != nil {
			at = *s.row.StatusAt
		}
		out = append(out, models.OfficialIncident{ServiceID: s.row.ServiceID, ExternalID: episodePrefix + now.Format(time.RFC3339Nano),
			Title: truncate(s.row.Description, 500), Status: "status", Impact: string(r.Status), FirstUpdateAt: &at,
			FirstSeenAt: now, SeenAfter: prevOK, URL: s.row.PageURL, CreatedAt: now, UpdatedAt: now})
	case r.Status.Problem() && episode != nil && r.Status.Rank() > models.OfficialLevel(episode.Impact).Rank():
		c := *episode
		c.Impact, c.Title, c.UpdatedAt = string(r.Status), truncate(s.row.Description, 500), now
		out = append(out, c)
	case !r.Status.Problem() && episode != nil && r.Status != models.OfficialUnknown:
		c := *episode
		c.ResolvedAt, c.UpdatedAt = &now, now
		out = append(out, c)
	}
	return out
}

// episodePrefix starts the external id of a status episode.
const episodePrefix = "status@"

// acknowledge records, for each of svc's incidents not yet acknowledged
// (open, or resolved within After), the first official acknowledgement
// that overlaps it: an official incident or status episode active at some
// point from Before its start to After its end (or now, while open).
func (p *Poller) acknowledge(ctx context.Context, svc models.Service, now time.Time) (acked bool) {
	incs, err := p.o.Store.UnacknowledgedIncidents(ctx, svc.ID, now.Add(-After))
	if err != nil || len(incs) == 0 {
		if err != nil && ctx.Err() == nil {
			p.o.Log.Warn("reading incidents to acknowledge failed", "service", svc.Slug, "err", err)
		}
		return false
	}
	earliest := incs[0].StartedAt
	for _, in := range incs {
		if in.StartedAt.Before(earliest) {
			earliest = in.StartedAt
		}
	}
	offs, err := p.o.Store.OfficialIncidentsActiveSince(ctx, svc.ID, earliest.Add(-Before))
	if err != nil || len(offs) == 0 {
		if err != nil && ctx.Err() == nil {
			p.o.Log.Warn("reading official incidents failed", "service", svc.Slug, "err", err)
		}
		return false
	}
	for _, in := range incs {
		ack, ok := Match(in, offs, now)
		if !ok {
			continue
		}
		done, err := p.o.Store.AcknowledgeIncident(ctx, svc, in.ID, ack, p.o.PublicURL, now)
		if err != nil {
			if ctx.Err() == nil {
				p.o.Log.Warn("recording an official acknowledgement failed", "service", svc.Slug, "incident", in.ID, "err", err)
			}
			continue
		}
		if done {
			acked = true
			p.o.Metrics.acks.Inc()
			p.o.Log.Info("the official status page acknowledged an incident", "service", svc.Slug, "incident", in.ID,
				"acknowledged_at", ack, "lead", ack.Sub(in.Opened()).Round(time.Second))
			if p.o.Board != nil {
				p.o.Board.Bump(svc.ID)
			}
			if p.o.Notify != nil {
				p.o.Notify()
			}
		}
	}
	return acked
}

// Match is when the official page first acknowledged a problem matching
// in: the earliest acknowledgement (OfficialIncident.AcknowledgedAt) among
// the official incidents and status episodes active at some point within
// [start − Before, end + After], where end is the incident's resolution
// (now while it is open). Acknowledgements later than now never match.
func Match(in models.Incident, offs []models.OfficialIncident, now time.Time) (time.Time, bool) {
	from := in.StartedAt.Add(-Before)
	to := now
	if in.ResolvedAt != nil {
		to = in.ResolvedAt.Add(After)
	}
	var best time.Time
	found := false
	for i := range offs {
		o := &offs[i]
		ack := o.AcknowledgedAt()
		if ack.After(to) || ack.After(now) {
			continue
		}
		if o.ResolvedAt != nil && o.ResolvedAt.Before(from) {
			continue
		}
		if !found || ack.Before(best) {
			best, found = ack, true
		}
	}
	return best, found
}

// fetched is one poll's outcome.
type fetched struct {
	reading     Reading
	notModified bool // 304
	unchanged   bool // 200 with the body parsed last time
	err         error
	retryAfter  time.Duration // what a 429 or 503 asked for
}

// fetch polls row's endpoint (resolving it first when unknown) with the
// validators of its last answer. On success it updates the row's
// endpoint, kind, validators and body hash.
func (p *Poller) fetch(ctx context.Context, svc models.Service, row *models.OfficialSource) fetched {
	if row.Endpoint != "" {
		res, retry := p.get(ctx, svc, row, row.Endpoint, true)
		if !retry {
			return res
		}
		// The endpoint went away or changed format: resolve again.
		row.Endpoint, row.ETag, row.LastModified, row.BodySHA256 = "", "", "", ""
	}
	var errs []string
	for _, u := range Candidates(svc.OfficialStatusURL) {
		res, _ := p.get(ctx, svc, row, u, false)
		if res.err == nil {
			row.Endpoint = truncate(u, 2048)
			return res
		}
		if ctx.Err() != nil {
			return res
		}
		errs = append(errs, fmt.Sprintf("%s: %v", u, res.err))
		if isTransport(res.err) {
			break // the host does not answer: trying its other paths would only wait longer
		}
		if res.retryAfter > 0 {
			// The host asked us to wait: its other paths can wait too.
			return fetched{err: errors.New(strings.Join(errs, "; ")), retryAfter: res.retryAfter}
		}
	}
	return fetched{err: errors.New(strings.Join(errs, "; "))}
}

// errTransport marks a failure to reach the host at all (timeout, refused).
type errTransport struct{ error }

func (e errTransport) Unwrap() error { return e.error }

func isTransport(err error) bool {
	var t errTransport
	return errors.As(err, &t)
}

// get fetches u once. retry says the caller should resolve the endpoint
// again (404, 410, or a body in no known format).
func (p *Poller) get(ctx context.Context, svc models.Service, row *models.OfficialSource, u string, conditional bool) (fetched, bool) {
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{err: err}, false
	}
	req.Header.Set("Accept", "application/json, application/rss+xml, application/atom+xml;q=0.9, */*;q=0.5")
	req.Header.Set("User-Agent", userAgent(p.o.PublicURL))
	if conditional {
		if row.ETag != "" {
			req.Header.Set("If-None-Match", row.ETag)
		}
		if row.LastModified != "" {
			req.Header.Set("If-Modified-Since", row.LastModified)
		}
	}
	resp, err := p.o.Client.Do(req)
	if err != nil {
		return fetched{err: errTransport{cleanErr(err)}}, false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && conditional {
		return fetched{notModified: true}, false
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		gone := resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone
		f := fetched{err: fmt.Errorf("HTTP %d", resp.StatusCode)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			f.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return f, gone
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return fetched{err: errTransport{cleanErr(err)}}, false
	}
	if len(body) > MaxBody {
		return fetched{err: fmt.Errorf("the body is larger than %d MiB", MaxBody>>20)}, false
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	etag, lastMod := truncate(resp.Header.Get("ETag"), 512), truncate(resp.Header.Get("Last-Modified"), 128)
	if conditional && hash == row.BodySHA256 {
		row.ETag, row.LastModified = etag, lastMod
		return fetched{unchanged: true}, false
	}
	r, err := Parse(body, svc.OfficialComponents, p.o.Now())
	if err != nil {
		return fetched{err: err}, errors.Is(err, ErrUnrecognised)
	}
	row.ETag, row.LastModified, row.BodySHA256 = etag, lastMod, hash
	return fetched{reading: r}, false
}

// cleanErr drops the request URL Go's client wraps errors in (the source's
// URL is logged beside it already).
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func userAgent(public string) string {
	ua := "Outcry-Official-Status/1"
	if public != "" {
		ua += " (+" + public + ")"
	}
	return ua
}

// Candidates are the URLs tried, in order, to find a source's endpoint:
//
//   - a URL that names a document (its path ends in .json, .rss, .atom or
//     .xml, or contains /proxy/ or /feed) is fetched as given;
//   - a page root (https://status.example.com, or a path under it) is tried
//     as incident.io's native JSON (/proxy/<host>), then Statuspage's
//     /api/v2/summary.json, then the feeds /feed.rss, /history.rss and
//     /feed.atom, then the URL itself (a feed without an extension).
//
// incident.io goes first because its pages also answer a Statuspage-like
// /api/v2 shim with fewer details; a Statuspage page answers /proxy/… with
// 404, which costs one request when the endpoint is resolved (the first
// poll, or after the endpoint fails with 404 or a body in no known format).
func Candidates(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	path := strings.ToLower(u.Path)
	for _, ext := range []string{".json", ".rss", ".atom", ".xml"} {
		if strings.HasSuffix(path, ext) {
			return []string{raw}
		}
	}
	if strings.Contains(path, "/proxy/") || strings.Contains(path, "/feed") {
		return []string{raw}
	}
	base := strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
	return []string{
		u.Scheme + "://" + u.Host + "/proxy/" + u.Host,
		base + "/api/v2/summary.json",
		base + "/feed.rss",
		base + "/history.rss",
		base + "/feed.atom",
		raw,
	}
}

// pageRoot is the URL people read: the configured URL without a document
// path.
func pageRoot(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

// Metrics are the poller's series.
type Metrics struct {
	polls   *prometheus.CounterVec
	failing prometheus.Gauge
	acks    prometheus.Counter
}

// NewMetrics creates and registers the series on reg (nil: nowhere).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "outcry_official_polls_total",
			Help: "Polls of official status sources by result: ok (parsed), not_modified (304), unchanged (same body, not parsed), error."}, []string{"result"}),
		failing: prometheus.NewGauge(prometheus.GaugeOpts{Name: "outcry_official_sources_failing",
			Help: "Official status sources whose last poll failed (this replica's poller; only the leader polls)."}),
		acks: prometheus.NewCounter(prometheus.CounterOpts{Name: "outcry_official_acknowledgements_total",
			Help: "Outcry incidents an official status page was found to acknowledge."}),
	}
	for _, r := range []string{"ok", "not_modified", "unchanged", "error"} {
		m.polls.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.polls, m.failing, m.acks)
	}
	return m
}

func (m *Metrics) poll(result string) { m.polls.WithLabelValues(result).Inc() }
func (m *Metrics) setFailing(n int)   { m.failing.Set(float64(n)) }
