package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis returns a client for the Redis at OUTCRY_TEST_REDIS_URL (which
// scripts/test exports), or else for a throwaway redis-server started for
// this test and stopped by t.Cleanup.
func testRedis(t testing.TB) *redis.Client {
	t.Helper()
	if url := os.Getenv("OUTCRY_TEST_REDIS_URL"); url != "" {
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("OUTCRY_TEST_REDIS_URL: %v", err)
		}
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but OUTCRY_TEST_REDIS_URL is not set: run the suite with scripts/test, which starts Redis")
	}
	return newTestClient(t, startRedisServer(t).addr, nil)
}

// newTestClient is a client that fails fast: no retries, short timeouts.
func newTestClient(t testing.TB, addr string, dialer func(ctx context.Context, network, addr string) (net.Conn, error)) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr:          addr,
		Dialer:        dialer,
		MaxRetries:    -1,
		DialerRetries: 1,
		DialTimeout:   time.Second,
		ReadTimeout:   time.Second,
		WriteTimeout:  time.Second,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// testPrefix is a key prefix no other test uses, even on a shared Redis.
// With rdb, the test's keys (any key containing the prefix) are deleted
// when it ends.
func testPrefix(t testing.TB, rdb *redis.Client) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", ".", " ", "_", "*", "_", "?", "_", "[", "_", "]", "_", "\\", "_").Replace(t.Name())
	prefix := "outcry-test:" + name + ":" + hex.EncodeToString(b) + ":"
	if rdb != nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			iter := rdb.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				rdb.Del(ctx, iter.Val())
			}
		})
	}
	return prefix
}

// redisServer is a throwaway redis-server on a loopback port.
type redisServer struct {
	t    testing.TB
	port int
	addr string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startRedisServer starts redis-server on a free loopback port, without
// persistence, and stops it when the test ends. It skips the test if
// redis-server is not installed.
func startRedisServer(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but redis-server is not installed")
		}
		t.Skip("redis-server not installed and OUTCRY_TEST_REDIS_URL not set")
	}
	var lastErr error
	for range 5 {
		s := &redisServer{t: t, port: freePort(t)}
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.stop)
			return s
		}
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return nil
}

// deadRedis is the address of a "Redis" that hangs up on every connection,
// held for the whole test so no other server can take its port.
func deadRedis(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs redis-server on s.port and waits until it answers PING.
func (s *redisServer) start() error {
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-done:
			return fmt.Errorf("redis-server on %s exited", s.addr)
		default:
		}
		if s.answers() {
			return nil
		}
	}
	s.stop()
	return fmt.Errorf("redis-server on %s did not answer", s.addr)
}

func (s *redisServer) answers() bool {
	c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return strings.HasPrefix(string(buf[:n]), "+PONG")
}

// stop kills the server (like a crash) and waits until it has exited.
func (s *redisServer) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// restart starts a fresh (empty) server on the same port.
func (s *redisServer) restart() {
	s.t.Helper()
	var err error
	for range 50 { // the old socket may linger briefly
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("restart redis-server on %s: %v", s.addr, err)
}

// pause stops the server process (SIGSTOP) without closing its sockets,
// like a Redis stuck in a long command or a frozen VM; resume continues it.
func (s *redisServer) pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
}

func (s *redisServer) resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatal(err)
	}
}
