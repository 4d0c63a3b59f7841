package ratelimit

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/models"
)

// benchAdmissions is realistic traffic: 64k reporters in 1k networks
// reporting on 32 services, so most reports are allowed and a fraction
// counted.
func benchAdmissions() []models.Admission {
	problems := []string{"outage", "login", "slow", "app"}
	regions := []string{"US", "DE", "FR", "GB", "ZZ"}
	as := make([]models.Admission, 1<<16)
	for i := range as {
		as[i] = models.Admission{
			ServiceID: uint(i % 32),
			Reporter:  "reporter-hash-" + itoa(i*7919%(1<<16)),
			Network:   "network-hash-" + itoa(i%1024),
			Problem:   problems[i%len(problems)],
			Region:    regions[i%len(regions)],
		}
	}
	return as
}

// benchAdmit runs the handler's hot path from many goroutines: the deny
// cache first, then Admit. It reports the share of reports that reached
// Admit and the share allowed.
func benchAdmit(b *testing.B, adm backend, parallelism int) {
	as := benchAdmissions()
	var next, admitted, allowed atomic.Int64
	ctx := context.Background()
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1) * 4099)
		var nAdmitted, nAllowed int64
		for pb.Next() {
			a := as[i&(len(as)-1)]
			i++
			a.At = time.Now()
			if _, denied := adm.Denied(a.Reporter, a.Network, a.At); denied {
				continue
			}
			nAdmitted++
			d, err := adm.Admit(ctx, a)
			if err != nil {
				b.Fatal(err)
			}
			if d.Allowed {
				nAllowed++
			}
		}
		admitted.Add(nAdmitted)
		allowed.Add(nAllowed)
	})
	b.ReportMetric(float64(admitted.Load())/float64(b.N), "admitted/op")
	b.ReportMetric(float64(allowed.Load())/float64(b.N), "allowed/op")
}

func BenchmarkAdmitRedis(b *testing.B) {
	rdb := testRedis(b)
	r, err := NewRedis(rdb, Config{Prefix: testPrefix(b, rdb)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchAdmit(b, r, 32) // 64 goroutines on 2 CPUs: a busy server
}

func BenchmarkAdmitLocal(b *testing.B) {
	l, err := NewLocal(Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchAdmit(b, l, 1)
}

// BenchmarkAdmitLocalAllowed is the twin's full path (limits, dedupe,
// counters) with limits so generous that every report gets through.
func BenchmarkAdmitLocalAllowed(b *testing.B) {
	huge := redis_rate.PerSecond(1 << 30)
	l, err := NewLocal(Config{Reporter: huge, Network: huge, Dedupe: time.Millisecond}, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchAdmit(b, l, 1)
}

func BenchmarkDeniedHit(b *testing.B) {
	l, _ := NewLocal(Config{}, nil)
	now := time.Now()
	for i := range 1000 {
		l.deny.record(kindReporter, "r"+itoa(i), now, limitState{denied: true, retry: time.Hour})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := l.Denied("r7", "n", now); !ok {
				b.Fatal("miss")
			}
		}
	})
}

// BenchmarkAdmitRedisCounted is the ingest benchmark's traffic on Redis's
// side: every report from a new reporter in a new network, so every one is
// allowed and counted, from 64 goroutines (group admission batches them).
// It reports Redis's own CPU per admission: redis-us/op from /proc (the
// whole server: parsing, the script, replies, key expiry) and script-us/op
// from INFO commandstats (inside EVALSHA).
//
// "redis" is the Redis limiter alone (every GCRA in Redis); "limiter" is
// what the server runs, the Limiter with its twin, whose leases judge each
// new reporter's and network's first request in process (lease.go).
func BenchmarkAdmitRedisCounted(b *testing.B) {
	for _, name := range []string{"redis", "limiter"} {
		b.Run(name, func(b *testing.B) { benchAdmitRedisCounted(b, name == "limiter") })
	}
}

func benchAdmitRedisCounted(b *testing.B, withTwin bool) {
	srv := startRedisServer(b)
	rdb := newTestClient(b, srv.addr, nil)
	cfg := Config{Prefix: testPrefix(b, nil)}
	r, err := NewRedis(rdb, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	var adm models.Admitter = r
	if withTwin {
		adm = newReplica(b, rdb, cfg)
	}
	ctx := context.Background()
	if err := rdb.Set(ctx, r.shards[0].seeded, "1", 0).Err(); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	cpu0 := procCPU(b, srv.cmd.Process.Pid)
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			a := models.Admission{ServiceID: uint(i % 8), Reporter: "reporter-" + itoa(int(i)), Network: "network-" + itoa(int(i)), Problem: "login", Region: "KR", At: time.Now()}
			d, err := adm.Admit(ctx, a)
			if err != nil || !d.Counted {
				b.Fatalf("%+v %v", d, err)
			}
		}
	})
	b.StopTimer()
	cpu1 := procCPU(b, srv.cmd.Process.Pid)
	b.ReportMetric(float64(cpu1-cpu0)/float64(time.Microsecond)/float64(b.N), "redis-us/op")
	stats, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(stats) {
		if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:"); ok {
			for kv := range strings.SplitSeq(rest, ",") {
				if v, ok := strings.CutPrefix(kv, "usec="); ok {
					us, _ := strconv.ParseFloat(v, 64)
					b.ReportMetric(us/float64(b.N), "script-us/op")
				}
			}
		}
	}
}

// procCPU is a process's user and system CPU time so far.
func procCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // CLK_TCK is 100 on Linux
}
