package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DayKeys gives the key reporter hashes are made with on a UTC day
// ("2006-01-02"); every replica must get the same key for a day. The keys
// live outside the database (server/hashkey).
type DayKeys interface {
	DayKey(day string) ([]byte, error)
}

// Identifier turns a client address into the two keys the limiter and the
// reports table know a reporter by: a keyed hash of the address, and one of
// its network (/24 for IPv4, /48 for IPv6). The key changes every UTC day,
// so hashes cannot be joined across days by whoever lacks the keys; the
// raw address is never stored or logged.
type Identifier struct {
	keys   DayKeys
	mu     sync.Mutex
	day    string
	key    []byte
	pool   sync.Pool // of hash.Hash keyed with key, for day
	recent [recentSlots]atomic.Pointer[identity]
	today  atomic.Pointer[dayName]
}

// recentSlots is the size of the cache of recent identities: a flood from
// a few addresses is answered without two HMACs per request.
const recentSlots = 1024

// identity is one address's hashes on one UTC day.
type identity struct {
	addr              netip.Addr
	day               int64 // unix day
	reporter, network string
}

// NewIdentifier keys hashes with keys.
func NewIdentifier(keys DayKeys) *Identifier {
	return &Identifier{keys: keys}
}

type dayHash struct {
	day string
	h   hash.Hash
}

// Identify returns the reporter and network hashes of addr at now.
func (id *Identifier) Identify(addr netip.Addr, now time.Time) (reporter, network string) {
	addr = addr.Unmap()
	unixDay := now.Unix() / 86400
	if now.Unix() < 0 && now.Unix()%86400 != 0 {
		unixDay--
	}
	b16 := addr.As16()
	var h uint64 = 14695981039346656037
	for _, c := range b16 {
		h = (h ^ uint64(c)) * 1099511628211
	}
	slot := &id.recent[h%recentSlots]
	if e := slot.Load(); e != nil && e.day == unixDay && e.addr == addr {
		return e.reporter, e.network
	}
	reporter, network = id.identify(addr, id.dayName(unixDay, now))
	slot.Store(&identity{addr: addr, day: unixDay, reporter: reporter, network: network})
	return reporter, network
}

// dayName is now's UTC day as "2006-01-02", formatted once a day.
func (id *Identifier) dayName(unixDay int64, now time.Time) string {
	if d := id.today.Load(); d != nil && d.unix == unixDay {
		return d.name
	}
	d := &dayName{unix: unixDay, name: now.UTC().Format(time.DateOnly)}
	id.today.Store(d)
	return d.name
}

type dayName struct {
	unix int64
	name string
}

// identify computes the hashes of addr with day's key.
func (id *Identifier) identify(addr netip.Addr, day string) (reporter, network string) {
	dh := id.get(day)
	var net netip.Prefix
	if addr.Is4() {
		net, _ = addr.Prefix(24)
	} else {
		net, _ = addr.Prefix(48)
	}
	var buf [40]byte
	reporter = id.sum(dh, append(append(buf[:0], 'a'), addr.AsSlice()...))
	network = id.sum(dh, append(append(buf[:0], 'n'), net.Addr().AsSlice()...))
	id.pool.Put(dh)
	return reporter, network
}

func (id *Identifier) sum(dh *dayHash, msg []byte) string {
	dh.h.Reset()
	dh.h.Write(msg)
	var out [sha256.Size]byte
	return hex.EncodeToString(dh.h.Sum(out[:0])[:16])
}

func (id *Identifier) get(day string) *dayHash {
	if v, ok := id.pool.Get().(*dayHash); ok && v.day == day {
		return v
	}
	id.mu.Lock()
	if id.day != day {
		// When the key file cannot be written the key still comes (kept in
		// memory, written on a later call): reports go on being counted.
		if key, _ := id.keys.DayKey(day); key != nil {
			id.key, id.day = key, day
		}
	}
	key := id.key
	id.mu.Unlock()
	return &dayHash{day: day, h: hmac.New(sha256.New, key)}
}
