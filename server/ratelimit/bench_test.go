package ratelimit

import (
	"context"
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
