package server_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/outcry/outcry/server/servertest"
)

var buildOnce struct {
	sync.Once
	dir, path string
	err       error
}

// TestMain removes the binary outcryBinary built (70 MB in TMPDIR per run).
func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.dir != "" {
		_ = os.RemoveAll(buildOnce.dir)
	}
	os.Exit(code)
}

// outcryBinary builds the outcry command once per test run.
func outcryBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outcry-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.dir = dir
		_, file, _, _ := runtime.Caller(0)
		buildOnce.path = filepath.Join(dir, "outcry")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, filepath.Join(filepath.Dir(file), "..")).CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// process is the outcry binary running on loopback.
type process struct {
	t   *testing.T
	cmd *exec.Cmd
	url string
	env []string
	db  string
}

func startProcess(t *testing.T, env map[string]string) *process {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env["OUTCRY_ADDR"] = addr
	p := &process{t: t, url: "http://" + addr, db: env["OUTCRY_DATABASE_URL"]}
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	p.start()
	return p
}

func (p *process) start() {
	p.t.Helper()
	p.cmd = exec.Command(outcryBinary(p.t))
	p.cmd.Env = append(p.env, "PATH="+os.Getenv("PATH"), "GIN_MODE=release")
	p.cmd.Stderr = io.Discard
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	cmd := p.cmd
	p.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	eventually(p.t, "the process to serve", func() bool {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
}

// load posts reports from distinct addresses on workers until stop is
// closed or the server goes away, and returns the ids answered 202 and
// the count of answers of 500 and above.
func pour(url string, workers int, stop <-chan struct{}, base int) (ids []uint64, fivexx int64) {
	var mu sync.Mutex
	var bad atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := base + w*100000 + i
				req, _ := http.NewRequest("POST", url+"/api/v1/services/chatgpt/reports", strings.NewReader(`{"problem":"login"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", k%256, k/256%256, 1+k/65536%250))
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				if resp.StatusCode == http.StatusAccepted {
					var out struct {
						ID uint64 `json:"id"`
					}
					_ = json.NewDecoder(resp.Body).Decode(&out)
					mu.Lock()
					ids = append(ids, out.ID)
					mu.Unlock()
				} else if resp.StatusCode >= 500 {
					bad.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return ids, bad.Load()
}

// missing returns the ids that are not rows of reports.
func missing(t *testing.T, dbPath string, ids []uint64) []uint64 {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT id FROM reports")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[uint64]bool{}
	for rows.Next() {
		var id uint64
		rows.Scan(&id)
		have[id] = true
	}
	var out []uint64
	for _, id := range ids {
		if !have[id] {
			out = append(out, id)
		}
	}
	return out
}

func processEnv(t *testing.T) map[string]string {
	env := servertest.Env(t)
	delete(env, "OUTCRY_ADDR")
	env["OUTCRY_LOG_LEVEL"] = "error"
	return env
}

// signalUnderLoad starts the process with the service chatgpt, pours
// reports into it until 300 are rows, sends sig, and returns a function
// that waits for the pouring to end (the server gone, or stop) and returns
// the ids answered 202.
func signalUnderLoad(t *testing.T, sig syscall.Signal) (*process, func() []uint64) {
	t.Helper()
	p := startProcess(t, processEnv(t))
	createChatGPT(t, p.url)
	stop := make(chan struct{})
	var ids []uint64
	done := make(chan struct{})
	go func() { ids, _ = pour(p.url, 8, stop, 0); close(done) }()
	waitRows(t, p.db, 300)
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return p, func() []uint64 { close(stop); <-done; return ids }
}

// TestKill9UnderLoadLosesNoAcknowledgedReport kills the process (SIGKILL:
// no shutdown at all) while reports pour in: every report answered 202 is
// a row, and the process starts again on the same database.
func TestKill9UnderLoadLosesNoAcknowledgedReport(t *testing.T) {
	p, acknowledged := signalUnderLoad(t, syscall.SIGKILL)
	ids := acknowledged()
	if len(ids) == 0 {
		t.Fatal("no report was accepted before the kill")
	}
	if m := missing(t, p.db, ids); len(m) > 0 {
		t.Fatalf("%d of %d reports answered 202 are not rows after kill -9 (e.g. id %d)", len(m), len(ids), m[0])
	}
	p.start()
	if m := missing(t, p.db, ids); len(m) > 0 {
		t.Fatalf("%d acknowledged reports gone after the restart", len(m))
	}
	t.Logf("%d acknowledged before kill -9, all rows", len(ids))
}

// TestSIGTERMUnderLoadLosesNoAcknowledgedReport: SIGTERM while reports
// pour in; the process exits 0 within its shutdown budget and every 202 is
// a row.
func TestSIGTERMUnderLoadLosesNoAcknowledgedReport(t *testing.T) {
	p, acknowledged := signalUnderLoad(t, syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after SIGTERM")
	}
	ids := acknowledged()
	if m := missing(t, p.db, ids); len(m) > 0 {
		t.Fatalf("%d of %d reports answered 202 are not rows after SIGTERM", len(m), len(ids))
	}
	t.Logf("%d acknowledged before SIGTERM, all rows", len(ids))
}

func createChatGPT(t *testing.T, url string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/services", strings.NewReader(`{"slug":"chatgpt","name":"ChatGPT","problems":["login"]}`))
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating chatgpt: %v %v", resp, err)
	}
	resp.Body.Close()
}

func waitRows(t *testing.T, db string, n int) {
	t.Helper()
	eventually(t, strconv.Itoa(n)+" rows", func() bool { return countRows(t, db, "SELECT COUNT(*) FROM reports") >= n })
}

// redisProc is a throwaway redis-server on a fixed loopback port that the
// test kills and starts again (empty).
type redisProc struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisProc {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but redis-server is not installed")
		}
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &redisProc{t: t, port: l.Addr().(*net.TCPAddr).Port}
	l.Close()
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisProc) start() {
	r.t.Helper()
	for attempt := 0; ; attempt++ {
		r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
		if err := r.cmd.Start(); err != nil {
			r.t.Fatal(err)
		}
		up := false
		for i := 0; i < 100 && !up; i++ {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), 100*time.Millisecond)
			if err == nil {
				c.Close()
				up = true
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if up {
			return
		}
		r.kill()
		if attempt == 20 {
			r.t.Fatal("redis-server did not start")
		}
	}
}

// fallbacks is outcry_limiter_fallbacks_total: admissions and counter reads
// answered in process because Redis was unreachable.
func fallbacks(t *testing.T, app *servertest.App) int {
	t.Helper()
	for _, line := range strings.Split(string(app.Do(t, "GET", "/metrics", nil).Body), "\n") {
		if v, ok := strings.CutPrefix(line, "outcry_limiter_fallbacks_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatal("/metrics has no outcry_limiter_fallbacks_total")
	return 0
}

// redisKeys is DBSIZE of the Redis on port, asked in RESP.
func redisKeys(t *testing.T, port int) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "*1\r\n$6\r\nDBSIZE\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	reply := strings.TrimSpace(string(buf[:n]))
	k, err := strconv.Atoi(strings.TrimPrefix(reply, ":"))
	if err != nil || !strings.HasPrefix(reply, ":") {
		t.Fatalf("DBSIZE answered %q", reply)
	}
	return k
}

func (r *redisProc) kill() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// TestRedisRestartUnderLoad kills Redis while reports pour in and starts it
// again empty: no report gets a 5xx, and no reporter is counted twice (the
// same addresses report again after the restart, within 15 minutes), in the
// database or in what the detector reads.
func TestRedisRestartUnderLoad(t *testing.T) {
	rp := startRedis(t)
	app := servertest.Start(t, func(env map[string]string) {
		env["OUTCRY_REDIS_URL"] = "redis://127.0.0.1:" + strconv.Itoa(rp.port) + "/0"
		env["OUTCRY_LOG_LEVEL"] = "error"
	}, fastRunner)
	app.CreateService(t, "chatgpt", "login")

	phase := func(base int, during func()) ([]uint64, int64) {
		stop := make(chan struct{})
		var ids []uint64
		var bad int64
		done := make(chan struct{})
		go func() { ids, bad = pour(app.URL, 8, stop, base); close(done) }()
		during()
		close(stop)
		<-done
		return ids, bad
	}
	rows := func() int { return countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports") }
	before := rows()
	ids1, bad1 := phase(0, func() {
		waitRows(t, app.DBPath, before+200)
		rp.kill()
		n := rows()
		waitRows(t, app.DBPath, n+200) // answered by the in-process limiter
		rp.start()
		// Back on the (empty) Redis: within a probe interval (1 s) the
		// limiter finds it again, and from then on no admission falls
		// back to the in-process twin while 100 more reports are stored.
		eventually(t, "the limiter to return to Redis", func() bool {
			f := fallbacks(t, app)
			waitRows(t, app.DBPath, rows()+100)
			return fallbacks(t, app) == f
		})
		if k := redisKeys(t, rp.port); k == 0 {
			t.Fatal("the limiter is back on Redis, but Redis holds no key of it")
		}
		n = rows()
		waitRows(t, app.DBPath, n+200)
	})
	// The same addresses, in the same order, again.
	ids2, bad2 := phase(0, func() { waitRows(t, app.DBPath, rows()+len(ids1)/2) })
	if bad1+bad2 > 0 {
		t.Fatalf("%d answers of 500 or more while Redis went away and came back", bad1+bad2)
	}
	if n := countRows(t, app.DBPath, "SELECT COUNT(*) FROM (SELECT reporter_hash FROM reports WHERE counted = 1 GROUP BY service_id, reporter_hash HAVING COUNT(*) > 1)"); n != 0 {
		t.Fatalf("%d reporters counted more than once within 15 minutes", n)
	}
	counted := countRows(t, app.DBPath, "SELECT COUNT(*) FROM reports WHERE counted = 1")
	var v struct {
		Reports15m int `json:"reports_last_15m"`
	}
	eventually(t, "the detector to read the counters", func() bool {
		app.Do(t, "GET", "/api/v1/services/chatgpt", nil).JSON(t, &v)
		return v.Reports15m > 0
	})
	if v.Reports15m > counted {
		t.Fatalf("the detector reads %d reports in 15 minutes but only %d were stored as counted: some were counted twice", v.Reports15m, counted)
	}
	t.Logf("%d + %d accepted, %d counted, the detector reads %d (the counts Redis lost in its restart are missing there)", len(ids1), len(ids2), counted, v.Reports15m)
}
