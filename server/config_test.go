package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "outcry.db" || c.RedisURL != "" || c.RedisPrefix != "outcry:" ||
		c.PublicURL != "http://localhost:8080" || !c.Demo || c.WebhookAllowPrivate || c.AccessLog != "all" ||
		c.LogFormat != "json" || c.Retention != 30*24*time.Hour || c.RollupRetention != 400*24*time.Hour ||
		c.ShutdownTimeout != 20*time.Second || c.ReporterLimit != redis_rate.PerMinute(5) || c.NetworkLimit != redis_rate.PerMinute(300) ||
		c.HeapFloorMB != 64 || c.SQLiteSyncEvery != 100*time.Millisecond {
		t.Fatalf("defaults: %+v", c)
	}
	if strings.Join(c.TrustedProxies, ",") != "127.0.0.0/8,::1/128" {
		t.Fatalf("trusted proxies %v", c.TrustedProxies)
	}
}

// Every bad value is named, and all of them are reported at once.
func TestLoadCollectsEveryError(t *testing.T) {
	bad := map[string]string{
		"OUTCRY_ADDR":                   "no-port",
		"OUTCRY_DATABASE_URL":           "mysql://db:3306/outcry",
		"OUTCRY_REPORTER_LIMIT":         "5 per minute",
		"OUTCRY_NETWORK_LIMIT":          "0/m",
		"OUTCRY_RETENTION":              "-1h",
		"OUTCRY_ROLLUP_RETENTION":       "30d",
		"OUTCRY_SHUTDOWN_TIMEOUT":       "NaNd",
		"OUTCRY_DEMO":                   "maybe",
		"OUTCRY_WEBHOOK_ALLOW_PRIVATE":  "sometimes",
		"OUTCRY_OFFICIAL_ALLOW_PRIVATE": "often",
		"OUTCRY_OFFICIAL_INTERVAL":      "1s",
		"OUTCRY_LOG_LEVEL":              "loud",
		"OUTCRY_LOG_FORMAT":             "xml",
		"OUTCRY_ACCESS_LOG":             "some",
		"OUTCRY_TRUSTED_PROXIES":        "10.0.0.0/33",
		"OUTCRY_REDIS_URL":              "http://127.0.0.1:6379",
		"OUTCRY_ADMIN_TOKEN":            "short",
		"OUTCRY_HASH_SECRET":            "short",
		"OUTCRY_PUBLIC_URL":             "status.example.com",
		"OUTCRY_HEAP_FLOOR_MB":          "-1",
		"OUTCRY_SQLITE_SYNC_EVERY":      "2m",
	}
	_, err := Load(envOf(bad))
	if err == nil {
		t.Fatal("Load accepted every bad value")
	}
	for k := range bad {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("the error does not name %s: %v", k, err)
		}
	}
	// One at a time, each alone is enough to fail.
	for k, v := range bad {
		if _, err := Load(envOf(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q alone: %v", k, v, err)
		}
	}
}

func TestLoadValues(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  0123456789abcdef-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(envOf(map[string]string{
		"OUTCRY_ADDR":                  "[::1]:9000",
		"OUTCRY_ADMIN_TOKEN_FILE":      tokenFile,
		"OUTCRY_REPORTER_LIMIT":        "10/h:3",
		"OUTCRY_RETENTION":             "1.5d",
		"OUTCRY_TRUSTED_PROXIES":       " 10.0.0.1 , 192.168.0.0/16,",
		"OUTCRY_PUBLIC_URL":            "https://status.example.com/",
		"OUTCRY_DEMO":                  "false",
		"OUTCRY_LOG_LEVEL":             "debug",
		"OUTCRY_ACCESS_LOG":            "errors",
		"OUTCRY_REDIS_URL":             "redis://127.0.0.1:6379/2",
		"OUTCRY_SHUTDOWN_TIMEOUT":      "5s",
		"OUTCRY_ROLLUP_RETENTION":      "183d",
		"OUTCRY_HASH_SECRET":           "0123456789abcdef0123",
		"OUTCRY_WEBHOOK_ALLOW_PRIVATE": "true",
		"OUTCRY_HEAP_FLOOR_MB":         "0",
		"OUTCRY_SQLITE_SYNC_EVERY":     "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := redis_rate.PerHour(10)
	want.Burst = 3
	if c.AdminToken != "0123456789abcdef-from-file" || c.ReporterLimit != want || c.Retention != 36*time.Hour ||
		strings.Join(c.TrustedProxies, ",") != "10.0.0.1/32,192.168.0.0/16" || c.PublicURL != "https://status.example.com" ||
		c.Demo || c.AccessLog != "errors" || c.ShutdownTimeout != 5*time.Second || !c.WebhookAllowPrivate || c.HeapFloorMB != 0 ||
		c.SQLiteSyncEvery != 0 {
		t.Fatalf("%+v", c)
	}
	if _, err := Load(envOf(map[string]string{"OUTCRY_ADMIN_TOKEN_FILE": filepath.Join(dir, "missing")})); err == nil ||
		!strings.Contains(err.Error(), "OUTCRY_ADMIN_TOKEN_FILE") {
		t.Fatalf("a missing token file: %v", err)
	}
	// A secret and its _FILE both set is ambiguous (which one hashes, which
	// one guards the admin API?): refused, naming both.
	for _, k := range []string{"OUTCRY_ADMIN_TOKEN", "OUTCRY_HASH_SECRET"} {
		_, err := Load(envOf(map[string]string{k: "0123456789abcdef0123", k + "_FILE": tokenFile}))
		if err == nil || !strings.Contains(err.Error(), k+" and "+k+"_FILE are both set") {
			t.Errorf("%s and %s_FILE both set: %v", k, k, err)
		}
	}
	for v, want := range map[string]time.Duration{"1s": time.Second, "1m": time.Minute} {
		if c, err := Load(envOf(map[string]string{"OUTCRY_SQLITE_SYNC_EVERY": v})); err != nil || c.SQLiteSyncEvery != want {
			t.Errorf("OUTCRY_SQLITE_SYNC_EVERY=%s: %v, %v", v, c.SQLiteSyncEvery, err)
		}
	}
	for _, v := range []string{"-1s", "often", "61s"} {
		if _, err := Load(envOf(map[string]string{"OUTCRY_SQLITE_SYNC_EVERY": v})); err == nil {
			t.Errorf("OUTCRY_SQLITE_SYNC_EVERY=%s accepted", v)
		}
	}
	if c, _ := Load(envOf(map[string]string{"OUTCRY_TRUSTED_PROXIES": "none"})); len(c.TrustedProxies) != 0 {
		t.Fatalf("none trusted %v", c.TrustedProxies)
	}
}

// The public URL follows the listen address until OUTCRY_PUBLIC_URL is set.
func TestLoadPublicURLFromAddr(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://localhost:8080",
		"0.0.0.0:9000":   "http://localhost:9000",
		"[::]:9000":      "http://localhost:9000",
		"[::1]:9000":     "http://[::1]:9000",
		"127.0.0.1:80":   "http://127.0.0.1",
		"example.org:81": "http://example.org:81",
	} {
		c, err := Load(envOf(map[string]string{"OUTCRY_ADDR": addr}))
		if err != nil || c.PublicURL != want {
			t.Errorf("OUTCRY_ADDR=%s: public URL %q, %v; want %q", addr, c.PublicURL, err, want)
		}
	}
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"5/m", "300/m", "10/h:3", "1/s", "0/m", "5/m:", "/m", "5/", "5/d", "-1/s", "9999999999999999999/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err != nil {
			return
		}
		if l.Rate <= 0 || l.Burst <= 0 || l.Period <= 0 {
			t.Fatalf("accepted %q as %+v", s, l)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "1.5d", "720h", "NaNd", "1e300d", "-1d", "d", "20s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err == nil && strings.HasSuffix(s, "d") && d < 0 {
			t.Fatalf("%q parsed as a negative %v", s, d)
		}
	})
}

// FuzzLoad: any value of any variable gives a configuration or an error
// naming the variable, never a panic.
func FuzzLoad(f *testing.F) {
	keys := []string{"OUTCRY_ADDR", "OUTCRY_REPORTER_LIMIT", "OUTCRY_RETENTION", "OUTCRY_TRUSTED_PROXIES",
		"OUTCRY_LOG_LEVEL", "OUTCRY_REDIS_URL", "OUTCRY_PUBLIC_URL", "OUTCRY_DEMO", "OUTCRY_ACCESS_LOG", "OUTCRY_SHUTDOWN_TIMEOUT"}
	for i, s := range []string{":8080", "5/m", "30d", "10.0.0.0/8", "info", "redis://x:1/0", "https://x", "true", "all", "20s", "[::", "%", ""} {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, k uint8, v string) {
		key := keys[int(k)%len(keys)]
		_, err := Load(envOf(map[string]string{key: v}))
		if err != nil && !strings.Contains(err.Error(), key) {
			t.Fatalf("%s=%q: the error does not name it: %v", key, v, err)
		}
	})
}
