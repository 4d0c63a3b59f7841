package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runSimulate is `outcry simulate`: it sends a realistic burst of reports
// from many distinct addresses (X-Forwarded-For, which a local instance
// trusts from loopback) so a newcomer can watch an incident open and resolve.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the running Outcry instance (loopback only)")
	slug := fs.String("service", "chatgpt", "the service to report problems with")
	outage := fs.Bool("outage", false, "send an outage-sized burst (otherwise a normal trickle)")
	region := fs.String("region", "", "send every report from this region (a regional outage)")
	rate := fs.Int("rate", 0, "reports per minute (default 240 with --outage, 6 without)")
	dur := fs.Duration("duration", 0, "how long to send (default 6m with --outage, 2m without)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *rate <= 0 {
		*rate = map[bool]int{true: 240, false: 6}[*outage]
	}
	if *dur <= 0 {
		*dur = map[bool]time.Duration{true: 6 * time.Minute, false: 2 * time.Minute}[*outage]
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		fmt.Fprintln(stderr, "outcry simulate: --url must be an http(s) URL")
		return 2
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintln(stderr, "outcry simulate: only a local instance (localhost, 127.0.0.1, [::1]) may be targeted")
		return 2
	}
	sim := &simulator{base: strings.TrimRight(*base, "/"), slug: *slug, region: strings.ToUpper(*region),
		client: &http.Client{Timeout: 10 * time.Second}, out: stdout}
	if err := sim.loadProblems(ctx); err != nil {
		fmt.Fprintln(stderr, "outcry simulate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "sending %d reports/min about %s for %s to %s (Ctrl-C stops)\n", *rate, *slug, *dur, *base)
	sent, failed := sim.run(ctx, *rate, *dur)
	fmt.Fprintf(stdout, "done: %d accepted, %d refused; watch %s/s/%s or %s/api/v1/services/%s\n",
		sent, failed, sim.base, *slug, sim.base, *slug)
	return 0
}

type simulator struct {
	base, slug, region string
	problems           []string
	client             *http.Client
	out                io.Writer
	next               atomic.Uint32
}

func (s *simulator) loadProblems(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/services/"+url.PathEscape(s.slug), nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("is Outcry running at %s? %w", s.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET service %s answered %s", s.slug, resp.Status)
	}
	var svc struct {
		Problems []string `json:"problems"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&svc); err != nil || len(svc.Problems) == 0 {
		return fmt.Errorf("service %s has no problem categories", s.slug)
	}
	s.problems = svc.Problems
	return nil
}

// Regions reporting during a global outage, roughly by user base.
var simRegions = []string{"US", "US", "US", "IN", "IN", "BR", "GB", "DE", "JP", "KR", "ID", "FR", "CA", "MX", "PH", "TR"}

func (s *simulator) run(ctx context.Context, perMinute int, d time.Duration) (sent, failed int64) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	interval := time.Minute / time.Duration(perMinute)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var wg sync.WaitGroup
	var ok, bad atomic.Int64
	sem := make(chan struct{}, 32)
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return ok.Load(), bad.Load()
		case <-tick.C:
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			switch accepted := s.send(ctx); {
			case accepted:
				ok.Add(1)
			case ctx.Err() == nil: // the run's own end is not a refusal
				bad.Add(1)
			}
		})
	}
}

func (s *simulator) send(ctx context.Context) bool {
	k := s.next.Add(1)
	// 100.64.0.0/10 (shared address space) only names a reporter; it is never
	// dialled. Each reporter gets its own /24 (for 16,384 reporters) so
	// network limits do not bite and each counts: a network adds one counted
	// report per service and 15 minutes.
	addr := fmt.Sprintf("100.%d.%d.%d", 64+(k>>8)%64, k%256, 1+(k>>14)%254)
	region := s.region
	if region == "" {
		region = simRegions[rand.IntN(len(simRegions))]
	}
	// Most people report the first categories (login, app) in an outage.
	p := s.problems[min(len(s.problems)-1, int(rand.ExpFloat64()*1.2))]
	body, _ := json.Marshal(map[string]string{"problem": p, "region": region})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/v1/services/"+url.PathEscape(s.slug)+"/reports", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusAccepted
}
