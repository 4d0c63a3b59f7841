package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// TestComposeFile loads docker-compose.yml with the Compose Specification's
// own loader (Docker cannot run here) so the file cannot silently rot.
func TestComposeFile(t *testing.T) {
	wd, _ := os.Getwd()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(wd, "docker-compose.yml")},
		cli.WithEnv([]string{"OUTCRY_ADMIN_TOKEN=compose-test-token-123"}), cli.WithName("outcry"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	app, err := p.GetService("outcry")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetService("redis"); err != nil {
		t.Fatal(err)
	}
	if len(app.Ports) != 1 || app.Ports[0].Target != 8080 || app.Ports[0].Published != "8080" {
		t.Errorf("outcry ports = %+v, want 8080:8080", app.Ports)
	}
	env := map[string]string{}
	for k, v := range app.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	want := map[string]string{
		"OUTCRY_ADDR": ":8080", "OUTCRY_REDIS_URL": "redis://redis:6379/0",
		"OUTCRY_ADMIN_TOKEN": "compose-test-token-123", "OUTCRY_DATABASE_URL": "/data/outcry.db",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := app.DependsOn["redis"]; !ok {
		t.Error("outcry does not depend on redis")
	}
	if app.Build == nil || app.Build.Context == "" {
		t.Error("outcry is not built from the Dockerfile")
	}
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "EXPOSE 8080") || !strings.Contains(string(df), "go build") {
		t.Error("Dockerfile does not build outcry and expose 8080")
	}
}
