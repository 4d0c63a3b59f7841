package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// The command line's exit codes: 0 for help, 2 for a usage or configuration
// error (before anything is opened), with the reason on stderr.
func TestMainExitCodes(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout string
		stderr string
	}{
		{"help", []string{"help"}, nil, 0, "usage:", ""},
		{"unknown command", []string{"frobnicate"}, nil, 2, "", `unknown command "frobnicate"`},
		{"serve takes no arguments", []string{"serve", "extra"}, nil, 2, "", "serve takes no arguments"},
		{"bad configuration", nil, map[string]string{"OUTCRY_REPORTER_LIMIT": "lots"}, 2, "", "OUTCRY_REPORTER_LIMIT"},
		{"detect with a bad interval", []string{"detect", "--interval", "soon"}, nil, 2, "", "outcry detect:"},
		{"simulate against another host", []string{"simulate", "--url", "http://example.com"}, nil, 2, "", "only a local instance"},
		{"migrate without --to", []string{"migrate", "--from", "outcry.db"}, nil, 2, "", "both --from and --to"},
		{"migrate into SQLite", []string{"migrate", "--from", "a.db", "--to", "b.db"}, nil, 2, "", "--to must be a postgres:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), tc.args, env(tc.env), strings.NewReader(""), &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
				t.Fatalf("stdout %q stderr %q; want them to contain %q and %q", out.String(), errOut.String(), tc.stdout, tc.stderr)
			}
		})
	}
}

// detect replays a CSV series through the live detector's code.
func TestDetectReplaysACSV(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("timestamp,value\n")
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m += 5 {
			fmt.Fprintf(&csv, "2026-01-01 %02d:%02d:00,3\n", h, m)
		}
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"detect", "--interval", "5m"}, func(string) string { return "" }, strings.NewReader(csv.String()), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+24*12 || !strings.HasPrefix(lines[0], "timestamp,value,anomaly_score,alert") {
		t.Fatalf("got %d lines, header %q", len(lines), lines[0])
	}
}

// seed fills an empty database and refuses one that has services, saying
// so plainly (it used to add "(or could not be read: <nil>)").
func TestSeedRefusesAFilledDatabase(t *testing.T) {
	db := t.TempDir() + "/seed.db"
	args := []string{"seed", "--services", "3", "--days", "1", "--busy", "1", "--db", db}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("first seed: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "3 services") {
		t.Errorf("first seed said %q; want it to name 3 services", out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := Main(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); code != 1 {
		t.Fatalf("second seed: exit %d, want 1 (stderr %q)", code, errOut.String())
	}
	want := "outcry seed: " + db + " already has 3 services; seed an empty database\n"
	if errOut.String() != want {
		t.Errorf("second seed said %q; want %q", errOut.String(), want)
	}
}
