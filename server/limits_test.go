package server_test

import (
	"strings"
	"testing"

	"github.com/outcry/outcry/server"
)

func load(env map[string]string) (server.Config, error) {
	return server.Load(func(k string) string { return env[k] })
}

// TestPostgresNeedsRedisAndASecret: replicas on Postgres without Redis
// would each keep their own limits and counters, without
// OUTCRY_HASH_SECRET their own hash keys, and without OUTCRY_ADMIN_TOKEN
// their own generated admin tokens: they refuse to start, saying so.
func TestPostgresNeedsRedisAndASecret(t *testing.T) {
	_, err := load(map[string]string{"OUTCRY_DATABASE_URL": "postgres://outcry@127.0.0.1:5432/outcry"})
	if err == nil || !strings.Contains(err.Error(), "OUTCRY_REDIS_URL is not set") || !strings.Contains(err.Error(), "OUTCRY_HASH_SECRET is not set") ||
		!strings.Contains(err.Error(), "OUTCRY_ADMIN_TOKEN is not set") {
		t.Fatalf("Postgres without Redis, secret and admin token: %v", err)
	}
	if _, err := load(map[string]string{
		"OUTCRY_DATABASE_URL": "postgresql://outcry@db/outcry", "OUTCRY_REDIS_URL": "redis://127.0.0.1:6379/0",
		"OUTCRY_HASH_SECRET": "a-secret-of-sixteen-or-more", "OUTCRY_ADMIN_TOKEN": "an-admin-token-of-sixteen",
	}); err != nil {
		t.Fatalf("Postgres with Redis and a secret: %v", err)
	}
	if _, err := load(map[string]string{"OUTCRY_DATABASE_URL": "outcry.db"}); err != nil {
		t.Fatalf("SQLite without Redis (the embedded default): %v", err)
	}
}

func TestRedisURLForms(t *testing.T) {
	for _, u := range []string{
		"redis://127.0.0.1:6379/0", "rediss://cache:6380/1", "unix:///run/redis.sock",
		"redis+sentinel://10.0.0.1:26379/0?master_name=outcry&addr=10.0.0.2:26379",
		"redis+cluster://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000",
	} {
		if _, err := load(map[string]string{"OUTCRY_REDIS_URL": u}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:6379", "memcached://x", "127.0.0.1:6379"} {
		if _, err := load(map[string]string{"OUTCRY_REDIS_URL": u}); err == nil || !strings.Contains(err.Error(), "OUTCRY_REDIS_URL") {
			t.Errorf("%s accepted: %v", u, err)
		}
	}
	// The error names a scheme, never the rest: it may hold a password.
	for _, u := range []string{":hunter2-secret@cache:6379/0", "redis:hunter2-secret@cache:6379", "memcached://:hunter2-secret@cache"} {
		_, err := load(map[string]string{"OUTCRY_REDIS_URL": u})
		if err == nil || !strings.Contains(err.Error(), "OUTCRY_REDIS_URL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, v := range []string{"0", "65", "x"} {
		if _, err := load(map[string]string{"OUTCRY_NETWORK_EVIDENCE": v}); err == nil {
			t.Errorf("OUTCRY_NETWORK_EVIDENCE=%s accepted", v)
		}
	}
}
