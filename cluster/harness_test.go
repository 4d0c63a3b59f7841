// Package cluster tests several Outcry replicas on one PostgreSQL and one
// Redis, as separate processes on loopback: one leader, every alert once,
// nothing lost, across kill -9 and SIGSTOP of the leader.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/server/store/storetest"
)

const adminToken = "cluster-admin-token-0123456789"

// cluster is a set of replicas sharing a database, a Redis and a clock.
type cluster struct {
	t     *testing.T
	bin   string
	dir   string
	env   map[string]string
	clock string // the file holding the clock offset
	mu    sync.Mutex
	off   time.Duration
	reps  []*replica
}

// replica is one running (or killed) process.
type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

var buildOnce struct {
	sync.Once
	bin string
	err error
}

// binary builds the replica once per test process.
func binary(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outcry-cluster-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.bin = filepath.Join(dir, "replica")
		out, err := exec.Command("go", "build", "-o", buildOnce.bin, "./testdata/replica").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.bin
}

// newCluster prepares a fresh database, a Redis key prefix and a clock;
// ttl and renew are the leader lease's.
func newCluster(t *testing.T, ttl, renew time.Duration) *cluster {
	redisURL := os.Getenv("OUTCRY_TEST_REDIS_URL")
	if redisURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("OUTCRY_TEST_REDIS_URL is not set; scripts/test starts Redis")
		}
		t.Skip("OUTCRY_TEST_REDIS_URL is not set (scripts/test starts Redis): replicas share counters there")
	}
	dbURL := storetest.Postgres(t)
	c := &cluster{t: t, bin: binary(t), dir: t.TempDir()}
	c.clock = filepath.Join(c.dir, "clock")
	c.setOffset(0)
	c.env = map[string]string{
		"OUTCRY_DATABASE_URL": dbURL, "OUTCRY_REDIS_URL": redisURL,
		"OUTCRY_REDIS_PREFIX": fmt.Sprintf("cluster-%d-%d:", os.Getpid(), time.Now().UnixNano()),
		"OUTCRY_ADMIN_TOKEN":  adminToken, "OUTCRY_HASH_SECRET": "cluster-hash-secret-0123456789",
		"OUTCRY_DEMO": "false", "OUTCRY_WEBHOOK_ALLOW_PRIVATE": "true", "OUTCRY_LOG_LEVEL": "info",
		"OUTCRY_ACCESS_LOG": "errors", "OUTCRY_LEADER_TTL": ttl.String(), "OUTCRY_LEADER_RENEW": renew.String(),
		"OUTCRY_SHUTDOWN_TIMEOUT": "5s", "OUTCRY_REPORTER_LIMIT": "100/m", "OUTCRY_NETWORK_LIMIT": "10000/m",
		"REPLICA_CLOCK_FILE": c.clock, "REPLICA_TICK": "100ms", "GIN_MODE": "release",
	}
	t.Cleanup(c.stopAll)
	return c
}

// setOffset moves every replica's clock to wall time + d.
func (c *cluster) setOffset(d time.Duration) {
	c.off = d
	tmp := c.clock + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(int64(d), 10)), 0o600); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, c.clock); err != nil {
		c.t.Fatal(err)
	}
}

// advance moves the replicas' clock forward by d.
func (c *cluster) advance(d time.Duration) { c.setOffset(c.off + d) }

// freePort is a loopback port nobody listens on right now.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start starts one more replica and waits until it answers /healthz.
func (c *cluster) start() *replica {
	c.t.Helper()
	addr := freePort(c.t)
	r := &replica{name: fmt.Sprintf("r%d", len(c.reps)), url: "http://" + addr, done: make(chan struct{})}
	r.log = filepath.Join(c.dir, r.name+".log")
	f, err := os.Create(r.log)
	if err != nil {
		c.t.Fatal(err)
	}
	r.cmd = exec.Command(c.bin)
	r.cmd.Env = append(os.Environ(), "OUTCRY_ADDR="+addr)
	for k, v := range c.env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	r.cmd.Stdout, r.cmd.Stderr = f, f
	if err := r.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); f.Close(); close(r.done) }()
	c.reps = append(c.reps, r)
	c.waitFor(60*time.Second, r.name+" to answer /healthz", func() bool {
		select {
		case <-r.done:
			c.t.Fatalf("%s exited at start:\n%s", r.name, r.tail())
		default:
		}
		resp, err := http.Get(r.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return r
}

// alive reports whether the process has not exited.
func (r *replica) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *replica) kill(t *testing.T) {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not die", r.name)
	}
}

// tail is the end of the replica's log.
func (r *replica) tail() string {
	b, _ := os.ReadFile(r.log)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// logged reports whether the replica's log has a line containing every one of parts.
func (r *replica) logged(parts ...string) bool {
	f, err := os.Open(r.log)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(sc.Text(), p)
		}
		if ok {
			return true
		}
	}
	return false
}

// stopAll stops every live replica: SIGCONT (a stopped one cannot die
// otherwise), SIGTERM, and SIGKILL after 15 s.
func (c *cluster) stopAll() {
	for _, r := range c.reps {
		if !r.alive() {
			continue
		}
		_ = r.cmd.Process.Signal(syscall.SIGCONT)
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, r := range c.reps {
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
			_ = r.cmd.Process.Signal(syscall.SIGKILL)
			<-r.done
		}
	}
	if c.t.Failed() {
		for _, r := range c.reps {
			c.t.Logf("--- %s log (tail):\n%s", r.name, r.tail())
		}
	}
}

// waitFor polls cond until it holds or d passes.
func (c *cluster) waitFor(d time.Duration, what string, cond func() bool) {
	c.t.Helper()
	testkit.Eventually(c.t, d, what, cond)
}

// metric reads one unlabelled series of a replica's /metrics (ok false if
// it does not answer).
func (r *replica) metric(name string) (float64, bool) {
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get(r.url + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// leaders are the live, answering replicas that say they lead, with their terms.
func (c *cluster) leaders(except ...*replica) (out []*replica, terms []int64) {
outer:
	for _, r := range c.reps {
		for _, e := range except {
			if r == e {
				continue outer
			}
		}
		if !r.alive() {
			continue
		}
		if v, ok := r.metric("outcry_leader"); ok && v == 1 {
			term, _ := r.metric("outcry_leader_term")
			out, terms = append(out, r), append(terms, int64(term))
		}
	}
	return out, terms
}

// oneLeader waits until exactly one of the replicas (but except) leads.
func (c *cluster) oneLeader(d time.Duration, except ...*replica) (*replica, int64) {
	c.t.Helper()
	var l []*replica
	var terms []int64
	c.waitFor(d, "exactly one leader", func() bool {
		l, terms = c.leaders(except...)
		return len(l) == 1
	})
	return l[0], terms[0]
}

// do sends a request to a replica.
func do(t *testing.T, r *replica, method, path string, body any, headers ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// admin sends an admin request.
func admin(t *testing.T, r *replica, method, path string, body any) (int, []byte) {
	return do(t, r, method, path, body, "Authorization", "Bearer "+adminToken)
}
