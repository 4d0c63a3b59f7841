package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// TestComposeFile loads docker-compose.yml with the Compose Specification's
// own loader (Docker cannot run here) so the file cannot silently rot: three
// replicas behind a proxy on 8080, sharing PostgreSQL and Redis, each with a
// healthcheck.
func TestComposeFile(t *testing.T) {
	wd, _ := os.Getwd()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(wd, "docker-compose.yml")},
		cli.WithEnv([]string{"OUTCRY_ADMIN_TOKEN=compose-test-token-123", "OUTCRY_HASH_SECRET=compose-hash-secret-123"}), cli.WithName("outcry"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	for _, name := range []string{"outcry1", "outcry2", "outcry3"} {
		app, err := p.GetService(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(app.Ports) != 0 {
			t.Errorf("%s publishes ports %+v; only the proxy should", name, app.Ports)
		}
		env := map[string]string{}
		for k, v := range app.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		want := map[string]string{
			"OUTCRY_ADDR": ":8080", "OUTCRY_REDIS_URL": "redis://redis:6379/0", "OUTCRY_DEMO": "false",
			"OUTCRY_ADMIN_TOKEN": "compose-test-token-123", "OUTCRY_HASH_SECRET": "compose-hash-secret-123",
			"OUTCRY_DATABASE_URL": "postgres://outcry:outcry-local-only@postgres:5432/outcry?sslmode=disable",
			"OUTCRY_LEADER_TTL":   "10s", "OUTCRY_LEADER_RENEW": "2s",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s env %s = %q, want %q", name, k, env[k], v)
			}
		}
		for _, dep := range []string{"postgres", "redis"} {
			if d, ok := app.DependsOn[dep]; !ok || d.Condition != "service_healthy" {
				t.Errorf("%s does not wait for a healthy %s", name, dep)
			}
		}
		if app.HealthCheck == nil || !slices.Contains(app.HealthCheck.Test, "http://127.0.0.1:8080/readyz") {
			t.Errorf("%s has no /readyz healthcheck", name)
		}
		if app.Build == nil || app.Build.Context == "" {
			t.Errorf("%s is not built from the Dockerfile", name)
		}
	}
	proxy, err := p.GetService("proxy")
	if err != nil {
		t.Fatal(err)
	}
	if len(proxy.Ports) != 1 || proxy.Ports[0].Target != 8080 || proxy.Ports[0].Published != "8080" {
		t.Errorf("proxy ports = %+v, want 8080:8080", proxy.Ports)
	}
	caddy := p.Configs["caddyfile"].Content
	for _, up := range []string{"outcry1:8080", "outcry2:8080", "outcry3:8080", "health_uri /readyz"} {
		if !strings.Contains(caddy, up) {
			t.Errorf("the Caddyfile lacks %q:\n%s", up, caddy)
		}
	}
	pg, err := p.GetService("postgres")
	if err != nil || pg.HealthCheck == nil {
		t.Errorf("postgres service %v, healthcheck %v", err, pg.HealthCheck)
	}
	redis, err := p.GetService("redis")
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(redis.Command, " ")
	if !strings.Contains(cmd, "--maxmemory 256mb") || !strings.Contains(cmd, "--maxmemory-policy volatile-ttl") || redis.HealthCheck == nil {
		t.Errorf("redis command %q: want a maxmemory with an eviction policy, and a healthcheck", cmd)
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "EXPOSE 8080") || !strings.Contains(string(df), "go build") {
		t.Error("Dockerfile does not build outcry and expose 8080")
	}
}
