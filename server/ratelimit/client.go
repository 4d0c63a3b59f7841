package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts are the client settings the Limiter needs: short, so a slow
// Redis turns into the in-process fallback, not into slow reports.
type Timeouts struct {
	Dial, Read, Write, Pool time.Duration
	PoolSize, MinIdle       int
}

// DefaultTimeouts are the production client settings.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Dial: 250 * time.Millisecond, Read: 500 * time.Millisecond, Write: 500 * time.Millisecond,
		Pool: 250 * time.Millisecond, PoolSize: 32, MinIdle: 4,
	}
}

// ClusterShards is Config.Shards for a Redis Cluster: enough hash tags to
// spread the keys over every primary of a usual cluster, few enough that
// reading one minute's counters stays one small pipeline.
const ClusterShards = 16

// Dial builds the client for a Redis URL and says how many shards
// (Config.Shards) its keys need:
//
//	redis://[user:pass@]host:port/db     one Redis (also rediss:// and unix://)
//	redis+sentinel://[user:pass@]host:port/db?master_name=NAME&addr=host2:port
//	                                     the primary that Sentinel names (rediss+sentinel:// for TLS)
//	redis+cluster://[user:pass@]host:port?addr=host2:port&addr=host3:port
//	                                     a Redis Cluster (rediss+cluster:// for TLS)
//
// Query parameters are go-redis's (redis.ParseURL, ParseFailoverURL,
// ParseClusterURL). The client does not retry: a failed call goes to the
// in-process fallback at once.
func Dial(rawURL string, t Timeouts) (redis.UniversalClient, int, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, 0, fmt.Errorf("want redis://host:port/db, redis+sentinel://… or redis+cluster://…")
	}
	base, kind, _ := strings.Cut(scheme, "+")
	switch {
	case kind == "" && (base == "redis" || base == "rediss" || base == "unix"):
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, 0, err
		}
		o.MaxRetries, o.DialerRetries = -1, 1
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t.Dial, t.Read, t.Write, t.Pool
		o.PoolSize, o.MinIdleConns = t.PoolSize, t.MinIdle
		return redis.NewClient(o), 1, nil
	case kind == "sentinel" && (base == "redis" || base == "rediss"):
		o, err := redis.ParseFailoverURL(base + "://" + rest)
		if err != nil {
			return nil, 0, err
		}
		if o.MasterName == "" {
			return nil, 0, fmt.Errorf("a Sentinel URL needs ?master_name=NAME")
		}
		o.MaxRetries, o.DialerRetries = -1, 1
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t.Dial, t.Read, t.Write, t.Pool
		o.PoolSize, o.MinIdleConns = t.PoolSize, t.MinIdle
		return redis.NewFailoverClient(o), 1, nil
	case kind == "cluster" && (base == "redis" || base == "rediss"):
		o, err := redis.ParseClusterURL(base + "://" + rest)
		if err != nil {
			return nil, 0, err
		}
		o.MaxRetries, o.DialerRetries = -1, 1
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t.Dial, t.Read, t.Write, t.Pool
		o.PoolSize, o.MinIdleConns = t.PoolSize, t.MinIdle
		return redis.NewClusterClient(o), ClusterShards, nil
	}
	return nil, 0, fmt.Errorf("unknown scheme %q: want redis, rediss, unix, redis+sentinel or redis+cluster", scheme)
}

// RouteRedisLog sends go-redis's own log lines (a failed dial per pool
// connection and retry: dozens per outage) to log at debug level, so that
// an outage is logged once, by the Limiter. go-redis keeps its logger in a
// package variable: this sets it for the whole process.
func RouteRedisLog(log *slog.Logger) {
	redis.SetLogger(redisLog{log})
}

type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	if r.log.Enabled(ctx, slog.LevelDebug) {
		r.log.DebugContext(ctx, "redis client: "+strings.TrimSpace(fmt.Sprintf(format, v...)))
	}
}
