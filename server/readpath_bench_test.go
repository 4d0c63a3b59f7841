package server_test

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/server/servertest"
)

// BenchmarkReadPathsHTTP is scripts/bench-read in one process: the real app
// (demo catalogue, 14 days of history, official sources) and the bare-Gin
// ceiling of scripts/bench/readceiling, each behind a real net/http server
// on loopback, driven by keep-alive connections whose client allocates
// nothing per request. Unlike BenchmarkReadPaths (handlers), this counts
// what net/http does with the answer's headers (it clones the header map
// and sorts and writes every entry), so allocs/op and B/op are the server's
// per request, and cpu-us/op is the process's CPU time (client included,
// the same on both sides) per request, which stays meaningful on a shared
// machine where wall time does not. The GC's share differs in a real
// process (the two servers share one heap here): measure that with
// scripts/bench-read or /proc under wrk.
//
//	go test ./server -run XXX -bench ReadPathsHTTP -benchtime 20000x
func BenchmarkReadPathsHTTP(b *testing.B) {
	env := servertest.Env(b)
	env["OUTCRY_DEMO"] = "true"
	app := servertest.StartEnv(b, env)
	type path struct{ name, path, accept string }
	paths := []path{
		{"page", "/s/chatgpt", "gzip"},
		{"embed", "/embed/chatgpt", ""},
		{"status", "/api/v1/services/chatgpt", ""},
		{"badge", "/badge/chatgpt.svg", ""},
	}
	bodies := map[string][]byte{}
	for _, p := range paths {
		hdr := []string{}
		if p.accept != "" {
			hdr = []string{"Accept-Encoding", p.accept}
		}
		r := app.Do(b, "GET", p.path, nil, hdr...)
		if r.Status != http.StatusOK {
			b.Fatalf("%s: %d", p.path, r.Status)
		}
		bodies[p.name] = r.Body
	}
	ceiling := startReadCeiling(b, bodies)
	for _, p := range paths {
		for _, side := range []struct{ name, addr string }{{"ceiling", ceiling}, {"outcry", app.Addr()}} {
			b.Run(p.name+"/"+side.name, func(b *testing.B) {
				req := "GET " + p.path + " HTTP/1.1\r\nHost: bench\r\n"
				if p.accept != "" {
					req += "Accept-Encoding: " + p.accept + "\r\n"
				}
				benchKeepAlive(b, side.addr, []byte(req+"\r\n"))
			})
		}
	}
}

// startReadCeiling serves bodies as scripts/bench/readceiling does, on a
// loopback port, and returns its address.
func startReadCeiling(b *testing.B, bodies map[string][]byte) string {
	r := gin.New()
	r.GET("/s/:slug", func(c *gin.Context) {
		c.Header("Content-Encoding", "gzip")
		c.Header("Cache-Control", "public, max-age=10")
		c.Data(http.StatusOK, "text/html; charset=utf-8", bodies["page"])
	})
	r.GET("/embed/:slug", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=10")
		c.Data(http.StatusOK, "text/html; charset=utf-8", bodies["embed"])
	})
	r.GET("/api/v1/services/:slug", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=10")
		c.Data(http.StatusOK, "application/json; charset=utf-8", bodies["status"])
	})
	r.GET("/badge/:file", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=30")
		c.Data(http.StatusOK, "image/svg+xml", bodies["badge"])
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: r}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// benchKeepAlive sends req over one keep-alive connection per goroutine and
// reads each answer (status 200, Content-Length framing required) without
// allocating, and reports the process's CPU time per request.
func benchKeepAlive(b *testing.B, addr string, req []byte) {
	b.ReportAllocs()
	b.SetParallelism(8)
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		br := bufio.NewReaderSize(conn, 64<<10)
		for pb.Next() {
			if _, err := conn.Write(req); err != nil {
				b.Error(err)
				return
			}
			if err := readAnswer(br); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
}

var errAnswer = &net.ParseError{Type: "HTTP answer", Text: "not a 200 with Content-Length"}

// readAnswer reads one HTTP/1.1 answer: a 200 whose body is framed by
// Content-Length.
func readAnswer(br *bufio.Reader) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return errAnswer
	}
	n := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n = 0
			for _, c := range bytes.TrimSpace(v) {
				n = n*10 + int(c-'0')
			}
		}
	}
	if n < 0 {
		return errAnswer
	}
	_, err = br.Discard(n)
	return err
}
