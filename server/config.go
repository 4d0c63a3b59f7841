// Package server is Outcry's composition root: configuration, wiring of the
// adapters under server/…, and the process lifecycle.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/outcry/outcry/server/store"
)

// Config is everything Outcry reads from its environment (OUTCRY_*).
type Config struct {
	Addr            string           // OUTCRY_ADDR
	DatabaseURL     string           // OUTCRY_DATABASE_URL: a SQLite file path (or sqlite://path), or postgres://…
	RedisURL        string           // OUTCRY_REDIS_URL: empty = in-process limits and counters
	RedisPrefix     string           // OUTCRY_REDIS_PREFIX: prefix of every Redis key
	AdminToken      string           // OUTCRY_ADMIN_TOKEN(_FILE): generated and logged once when empty
	HashSecret      string           // OUTCRY_HASH_SECRET(_FILE): keys reporter hashes; required with Postgres
	HashKeyFile     string           // OUTCRY_HASH_KEY_FILE: the daily key's file without a secret (default: beside the SQLite file)
	TrustedProxies  []string         // OUTCRY_TRUSTED_PROXIES: CIDRs whose X-Forwarded-For is believed
	Demo            bool             // OUTCRY_DEMO: seed a demo catalogue into an empty database
	ReporterLimit   redis_rate.Limit // OUTCRY_REPORTER_LIMIT: reports per address, e.g. 5/m
	NetworkLimit    redis_rate.Limit // OUTCRY_NETWORK_LIMIT: reports per /24 or /48, e.g. 300/m
	NetworkEvidence int              // OUTCRY_NETWORK_EVIDENCE: counted reports one /24 or /48 may add to a service per 15 minutes
	Retention       time.Duration    // OUTCRY_RETENTION: how long raw reports are kept
	RollupRetention time.Duration    // OUTCRY_ROLLUP_RETENTION: how long 15-minute counts are kept
	PublicURL       string           // OUTCRY_PUBLIC_URL: the address people reach us at, for links
	LogLevel        slog.Level       // OUTCRY_LOG_LEVEL: debug, info, warn, error
	LogFormat       string           // OUTCRY_LOG_FORMAT: json or text
	AccessLog       string           // OUTCRY_ACCESS_LOG: all, errors (status >= 400) or off
	ShutdownTimeout time.Duration    // OUTCRY_SHUTDOWN_TIMEOUT
	LeaderTTL       time.Duration    // OUTCRY_LEADER_TTL: how long the leader lease lives unrenewed (PostgreSQL)
	LeaderRenew     time.Duration    // OUTCRY_LEADER_RENEW: how often it is renewed, or tried by followers
	// WebhookAllowPrivate (OUTCRY_WEBHOOK_ALLOW_PRIVATE) lets webhooks reach
	// loopback and private addresses: for tests and private deployments.
	WebhookAllowPrivate bool
	// OfficialInterval (OUTCRY_OFFICIAL_INTERVAL) is how often the leader
	// polls each service's official status page (±10 % jitter).
	OfficialInterval time.Duration
	// OfficialAllowPrivate (OUTCRY_OFFICIAL_ALLOW_PRIVATE) lets official
	// status URLs reach loopback and private addresses: tests and private
	// deployments, like OUTCRY_WEBHOOK_ALLOW_PRIVATE.
	OfficialAllowPrivate bool
	// HeapFloorMB (OUTCRY_HEAP_FLOOR_MB) is the GC's smallest heap goal in
	// MiB while the live heap is smaller (internal/gcfloor); 0 leaves the
	// GC alone, as does GOGC set in the environment.
	HeapFloorMB int
	// SQLiteSyncEvery (OUTCRY_SQLITE_SYNC_EVERY) is store.Options.SyncEvery:
	// 0 fsyncs every SQLite commit before its answer; above 0 a commit is
	// answered once it is in the operating system and is on disk within
	// this long.
	SQLiteSyncEvery time.Duration
}

// Load reads the configuration through getenv (os.Getenv in production),
// collecting every problem into one error.
func Load(getenv func(string) string) (Config, error) {
	e := &env{getenv: getenv}
	c := Config{
		Addr:             e.get("OUTCRY_ADDR", ":8080"),
		DatabaseURL:      e.get("OUTCRY_DATABASE_URL", "outcry.db"),
		RedisURL:         e.get("OUTCRY_REDIS_URL", ""),
		RedisPrefix:      e.get("OUTCRY_REDIS_PREFIX", "outcry:"),
		AdminToken:       e.secret("OUTCRY_ADMIN_TOKEN"),
		HashSecret:       e.secret("OUTCRY_HASH_SECRET"),
		HashKeyFile:      e.get("OUTCRY_HASH_KEY_FILE", ""),
		ReporterLimit:    e.limit("OUTCRY_REPORTER_LIMIT", "5/m"),
		NetworkLimit:     e.limit("OUTCRY_NETWORK_LIMIT", "300/m"),
		Retention:        e.dur("OUTCRY_RETENTION", "30d"),
		RollupRetention:  e.dur("OUTCRY_ROLLUP_RETENTION", "400d"),
		PublicURL:        strings.TrimRight(e.get("OUTCRY_PUBLIC_URL", ""), "/"),
		LogFormat:        e.get("OUTCRY_LOG_FORMAT", "json"),
		ShutdownTimeout:  e.dur("OUTCRY_SHUTDOWN_TIMEOUT", "20s"),
		LeaderTTL:        e.dur("OUTCRY_LEADER_TTL", "10s"),
		LeaderRenew:      e.dur("OUTCRY_LEADER_RENEW", "2s"),
		OfficialInterval: e.dur("OUTCRY_OFFICIAL_INTERVAL", "60s"),
	}
	if c.OfficialInterval > 0 && c.OfficialInterval < 10*time.Second {
		e.fail("OUTCRY_OFFICIAL_INTERVAL=%s: poll official status pages at most every 10s", c.OfficialInterval)
	}
	if c.LeaderRenew > 0 && c.LeaderTTL > 0 && 2*c.LeaderRenew > c.LeaderTTL {
		e.fail("OUTCRY_LEADER_RENEW=%s: renew at least twice per OUTCRY_LEADER_TTL (%s)", c.LeaderRenew, c.LeaderTTL)
	}
	c.checkAddr(e)
	if c.RollupRetention < 183*24*time.Hour {
		e.fail("OUTCRY_ROLLUP_RETENTION: keep 15-minute counts at least 183d (six months); baselines learn from them")
	}
	c.Demo = e.boolean("OUTCRY_DEMO", "true")
	c.WebhookAllowPrivate = e.boolean("OUTCRY_WEBHOOK_ALLOW_PRIVATE", "false")
	c.OfficialAllowPrivate = e.boolean("OUTCRY_OFFICIAL_ALLOW_PRIVATE", "false")
	if err := c.LogLevel.UnmarshalText([]byte(e.get("OUTCRY_LOG_LEVEL", "info"))); err != nil {
		e.fail("OUTCRY_LOG_LEVEL: want debug, info, warn or error")
	}
	c.AccessLog = e.get("OUTCRY_ACCESS_LOG", "all")
	if c.AccessLog != "all" && c.AccessLog != "errors" && c.AccessLog != "off" {
		e.fail("OUTCRY_ACCESS_LOG=%q: want all, errors or off", c.AccessLog)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		e.fail("OUTCRY_LOG_FORMAT=%q: want json or text", c.LogFormat)
	}
	c.TrustedProxies = e.proxies("OUTCRY_TRUSTED_PROXIES", "127.0.0.0/8,::1/128")
	c.checkURLs(e)
	c.NetworkEvidence = e.whole("OUTCRY_NETWORK_EVIDENCE", "1", 1, 64, "want a whole number from 1 to 64")
	c.HeapFloorMB = e.whole("OUTCRY_HEAP_FLOOR_MB", "64", 0, 1<<16, "want a whole number of MiB from 0 (off) to 65536")
	c.SQLiteSyncEvery = e.syncEvery("OUTCRY_SQLITE_SYNC_EVERY", "100ms")
	c.checkSecrets(e)
	if len(e.errs) > 0 {
		return c, fmt.Errorf("configuration: %w", errors.Join(e.errs...))
	}
	return c, nil
}

// env reads OUTCRY_* variables through getenv, collecting every problem.
type env struct {
	getenv func(string) string
	errs   []error
}

func (e *env) fail(format string, args ...any) { e.errs = append(e.errs, fmt.Errorf(format, args...)) }

// get is k's value, trimmed, or def when it is empty.
func (e *env) get(k, def string) string {
	if v := strings.TrimSpace(e.getenv(k)); v != "" {
		return v
	}
	return def
}

// secret is k's value, or the content of the file k_FILE names (not both).
func (e *env) secret(k string) string {
	if v := e.getenv(k); v != "" {
		if e.getenv(k+"_FILE") != "" {
			e.fail("%s and %s_FILE are both set: set one", k, k)
		}
		return strings.TrimSpace(v)
	}
	if f := e.getenv(k + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			e.fail("%s_FILE: %w", k, err)
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return ""
}

// dur is a positive duration (parseDuration: days too).
func (e *env) dur(k, def string) time.Duration {
	v := e.get(k, def)
	d, err := parseDuration(v)
	if err != nil || d <= 0 {
		e.fail("%s=%q: want a positive duration such as 720h or 30d", k, v)
	}
	return d
}

// syncEvery is a duration from 0 (every commit) to a minute.
func (e *env) syncEvery(k, def string) time.Duration {
	v := e.get(k, def)
	d, err := parseDuration(v)
	if err != nil || d < 0 || d > time.Minute {
		e.fail("%s=%q: want 0 (fsync every commit) or a duration up to 1m such as 1s or 250ms", k, v)
	}
	return d
}

// limit is a rate limit (ParseLimit).
func (e *env) limit(k, def string) redis_rate.Limit {
	v := e.get(k, def)
	l, err := ParseLimit(v)
	if err != nil {
		e.fail("%s=%q: %w", k, v, err)
	}
	return l
}

// boolean is true or false (false when it is neither).
func (e *env) boolean(k, def string) bool {
	b, err := strconv.ParseBool(e.get(k, def))
	if err != nil {
		e.fail("%s=%q: want true or false", k, e.getenv(k))
	}
	return b
}

// whole is a whole number in [lo, hi]; want says so in the error.
func (e *env) whole(k, def string, lo, hi int, want string) int {
	n, err := strconv.Atoi(e.get(k, def))
	if err != nil || n < lo || n > hi {
		e.fail("%s=%q: %s", k, e.getenv(k), want)
	}
	return n
}

// proxies is a comma-separated list of CIDRs or addresses (an address is
// its own /32 or /128), or "none".
func (e *env) proxies(k, def string) []string {
	v := e.get(k, def)
	if v == "none" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if a, err2 := netip.ParseAddr(p); err2 == nil {
				p = netip.PrefixFrom(a, a.BitLen()).String()
			} else {
				e.fail("%s: %q is not a CIDR or address", k, p)
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// checkAddr checks the listen address and makes the public URL from it
// when OUTCRY_PUBLIC_URL is not set.
func (c *Config) checkAddr(e *env) {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || !isPort(port) {
		e.fail("OUTCRY_ADDR=%q: want host:port or :port with a port number", c.Addr)
	}
	if c.PublicURL == "" {
		// Links in alerts and embeds point here until OUTCRY_PUBLIC_URL says
		// where people really reach us.
		host, port, _ := net.SplitHostPort(c.Addr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		if port != "" && port != "80" {
			host = net.JoinHostPort(host, port)
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		c.PublicURL = "http://" + host
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if e.getenv("OUTCRY_PUBLIC_URL") != "" {
			e.fail("OUTCRY_PUBLIC_URL=%q: want an absolute http(s) URL such as https://status.example.com", c.PublicURL)
		} else {
			e.fail("OUTCRY_ADDR=%q: its host cannot make a public URL; set OUTCRY_PUBLIC_URL", c.Addr)
		}
	}
}

// checkURLs checks the schemes of the database and Redis URLs.
func (c *Config) checkURLs(e *env) {
	// A URL of another database (mysql://…, or a typo such as postgre://)
	// would otherwise be taken for the name of a SQLite file.
	if scheme, _, ok := strings.Cut(c.DatabaseURL, "://"); ok && scheme != "sqlite" && !store.IsPostgres(c.DatabaseURL) {
		e.fail("OUTCRY_DATABASE_URL: scheme %q: want a SQLite file (outcry.db, sqlite://outcry.db or file:outcry.db) or postgres://user:pass@host:5432/db", scheme)
	}
	if c.RedisURL != "" {
		// The error names the scheme only: the rest may hold a password
		// (and a value without "://" has no scheme to name).
		scheme, _, found := strings.Cut(c.RedisURL, "://")
		ok := false
		switch scheme {
		case "redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster":
			ok = found
		}
		if !ok {
			what := fmt.Sprintf("scheme %q", scheme)
			if !found {
				what = "no scheme"
			}
			e.fail("OUTCRY_REDIS_URL: %s: want redis://host:port/db, redis+sentinel://host:port/db?master_name=NAME or redis+cluster://host:port?addr=host2:port", what)
		}
	}
}

// checkSecrets checks what several replicas must share, and the secrets'
// lengths.
func (c *Config) checkSecrets(e *env) {
	if store.IsPostgres(c.DatabaseURL) {
		// Several replicas share one database: their limits, dedupe and
		// counters must be shared too, and they must hash reporters alike.
		if c.RedisURL == "" {
			e.errs = append(e.errs, errors.New("OUTCRY_DATABASE_URL is Postgres (several replicas) but OUTCRY_REDIS_URL is not set: replicas must share rate limits, dedupe and counters through Redis; set OUTCRY_REDIS_URL, or use SQLite for a single replica"))
		}
		if c.HashSecret == "" {
			e.errs = append(e.errs, errors.New("OUTCRY_DATABASE_URL is Postgres (several replicas) but OUTCRY_HASH_SECRET is not set: every replica must hash reporters with the same key, and the key must not live in the database"))
		}
		// A generated token is one replica's own: behind a load balancer the
		// admin API would refuse most calls, and each replica would log a
		// secret of its own.
		if c.AdminToken == "" {
			e.errs = append(e.errs, errors.New("OUTCRY_DATABASE_URL is Postgres (several replicas) but OUTCRY_ADMIN_TOKEN is not set: a generated token would be each replica's own, so the admin API would refuse calls that reach another replica"))
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		e.errs = append(e.errs, errors.New("OUTCRY_ADMIN_TOKEN: use at least 16 characters"))
	}
	if c.HashSecret != "" && len(c.HashSecret) < 16 {
		e.errs = append(e.errs, errors.New("OUTCRY_HASH_SECRET: use at least 16 characters"))
	}
}

func isPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

// maxDays bounds a duration given in days (about 100 years).
const maxDays = 36500

// parseDuration is time.ParseDuration that also takes days ("30d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil {
			return 0, err
		}
		// Bounded so the conversion cannot overflow (NaN fails both tests).
		if !(n >= 0 && n <= maxDays) {
			return 0, fmt.Errorf("%q: at most %d days", s, maxDays)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	return time.ParseDuration(s)
}

// ParseLimit reads "N/s", "N/m" or "N/h" (burst N), or "N/m:B" with burst B.
func ParseLimit(s string) (redis_rate.Limit, error) {
	rate, rest, ok := strings.Cut(s, "/")
	if !ok {
		return redis_rate.Limit{}, errors.New("want N/s, N/m or N/h, optionally :BURST")
	}
	period, burstS, hasBurst := strings.Cut(rest, ":")
	n, err := strconv.Atoi(rate)
	if err != nil || n <= 0 {
		return redis_rate.Limit{}, errors.New("the rate must be a positive whole number")
	}
	var l redis_rate.Limit
	switch period {
	case "s":
		l = redis_rate.PerSecond(n)
	case "m":
		l = redis_rate.PerMinute(n)
	case "h":
		l = redis_rate.PerHour(n)
	default:
		return redis_rate.Limit{}, errors.New("the period must be s, m or h")
	}
	if hasBurst {
		b, err := strconv.Atoi(burstS)
		if err != nil || b <= 0 {
			return redis_rate.Limit{}, errors.New("the burst must be a positive whole number")
		}
		l.Burst = b
	}
	return l, nil
}
