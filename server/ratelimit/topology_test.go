package ratelimit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
)

// startProcess runs a command until the test ends (killed by PID).
func startProcess(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

func needRedisServer(t *testing.T) {
	t.Helper()
	for _, b := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(b); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but %s is not installed", b)
			}
			t.Skipf("%s not installed", b)
		}
	}
}

// waitFor polls f (a redis-cli answer) until it holds, for at most 15 s.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	testkit.Eventually(t, 15*time.Second, what, f)
}

func cli(port int, args ...string) string {
	out, _ := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	return string(out)
}

// exercise admits reports across many networks (so every shard is used),
// then reads the counters, takes one report back and restores markers:
// every script call and the counter pipeline must work on the topology.
func exercise(t *testing.T, url string) {
	t.Helper()
	rdb, shards, err := Dial(url, DefaultTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	cfg := Config{Shards: shards, Prefix: testPrefix(t, nil)}
	r, err := NewRedis(rdb, cfg, func(context.Context, time.Time) ([]models.CountedMark, error) {
		return []models.CountedMark{{ServiceID: 1, Reporter: "recalled", Network: "net-recalled", At: time.Now()}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	minute := time.Unix(unixMinute(time.Now()), 0)
	var last models.Admission
	var lastD models.Admittance
	for i := range 200 {
		last = models.Admission{ServiceID: 1, Reporter: "r" + itoa(i), Network: "net" + itoa(i), Problem: "login", Region: "US", At: minute}
		d, err := r.Admit(ctx, last)
		if err != nil {
			t.Fatalf("admission %d: %v", i, err)
		}
		if !d.Counted {
			t.Fatalf("admission %d not counted: %+v", i, d)
		}
		lastD = d
	}
	if d, err := r.Admit(ctx, models.Admission{ServiceID: 1, Reporter: "recalled", Network: "net-recalled", At: minute}); err != nil || d.Counted {
		t.Fatalf("a reporter restored from the store was counted again: %+v %v", d, err)
	}
	if err := r.Undo(ctx, last, lastD); err != nil {
		t.Fatal(err)
	}
	mc, err := r.Minutes(ctx, minute, minute.Add(time.Minute))
	if err != nil || len(mc) != 1 || mc[0].Services[1].Total != 199 || mc[0].Services[1].Regions["US"] != 199 {
		t.Fatalf("Minutes = %+v, %v; want 199 (200 counted, one taken back)", mc, err)
	}
	ok, err := r.mark(ctx, []models.CountedMark{{ServiceID: 1, Reporter: "r5", Network: "net5", At: time.Now()}, {ServiceID: 1, Reporter: "new", Network: "net-new", At: time.Now()}}, false)
	if err != nil || ok[0] || !ok[1] {
		t.Fatalf("mark = %v, %v; want a conflict for r5 and the new one set", ok, err)
	}

	// The server's Limiter: first requests leased, second ones carry their
	// leases to Redis (GCRA keys beside the slot, in the same slot).
	lim := newReplica(t, rdb, cfg)
	for i := range 100 {
		a := models.Admission{ServiceID: 2, Reporter: "l" + itoa(i), Network: "lnet" + itoa(i), Problem: "login", At: minute}
		for j, want := range []int{4, 3} {
			d, err := lim.Admit(ctx, a)
			if err != nil || d.Degraded || !d.Allowed || d.Counted != (j == 0) || d.Remaining != want {
				t.Fatalf("Limiter admission %d, request %d: %+v %v", i, j+1, d, err)
			}
		}
	}
}

// TestRedisCluster runs the limiter on a real three-node Redis Cluster on
// loopback: a script call whose keys spanned hash slots would fail with
// CROSSSLOT, so passing proves every call stays within one slot.
func TestRedisCluster(t *testing.T) {
	needRedisServer(t)
	dir := t.TempDir()
	var ports []int
	var addrs []string
	for i := range 3 {
		p := freePort(t)
		ports = append(ports, p)
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(p))
		startProcess(t, "redis-server", "--port", strconv.Itoa(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--dir", dir, "--loglevel", "warning")
	}
	for _, p := range ports {
		waitFor(t, "a cluster node", func() bool { return strings.Contains(cli(p, "ping"), "PONG") })
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, p := range ports {
		waitFor(t, "cluster_state:ok", func() bool { return strings.Contains(cli(p, "cluster", "info"), "cluster_state:ok") })
	}
	exercise(t, "redis+cluster://"+addrs[0]+"?addr="+addrs[1]+"&addr="+addrs[2])
	// The shards really are spread over the nodes.
	nodes := 0
	for _, p := range ports {
		if n, _ := strconv.Atoi(strings.TrimSpace(cli(p, "dbsize"))); n > 0 {
			nodes++
		}
	}
	if nodes < 2 {
		t.Fatalf("the keys are on %d of 3 nodes; the hash tags should spread them", nodes)
	}
}

// TestRedisSentinel runs the limiter through Sentinel: the client asks
// the sentinel for the primary named in the URL.
func TestRedisSentinel(t *testing.T) {
	needRedisServer(t)
	dir := t.TempDir()
	primary, sentinel := freePort(t), freePort(t)
	startProcess(t, "redis-server", "--port", strconv.Itoa(primary), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	waitFor(t, "the primary", func() bool { return strings.Contains(cli(primary, "ping"), "PONG") })
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor outcry 127.0.0.1 %d 1\nsentinel down-after-milliseconds outcry 5000\n", sentinel, primary)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, "redis-server", conf, "--sentinel", "--loglevel", "warning")
	waitFor(t, "the sentinel to know the primary", func() bool {
		return strings.Contains(cli(sentinel, "sentinel", "get-master-addr-by-name", "outcry"), strconv.Itoa(primary))
	})
	exercise(t, fmt.Sprintf("redis+sentinel://127.0.0.1:%d/0?master_name=outcry", sentinel))
	if n, _ := strconv.Atoi(strings.TrimSpace(cli(primary, "dbsize"))); n == 0 {
		t.Fatal("nothing reached the primary")
	}
}

func TestDialRejectsUnknownSchemes(t *testing.T) {
	for _, u := range []string{"http://x", "redis+foo://x", "nope", "redis+sentinel://127.0.0.1:1/0"} {
		if _, _, err := Dial(u, DefaultTimeouts()); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
}
