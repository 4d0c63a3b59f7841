// Package hashkey keeps the keys that reporter hashes are made with, out of
// the database: one key per UTC day, either derived from OUTCRY_HASH_SECRET
// (several replicas must agree on it) or kept in a key file beside the
// SQLite database that holds only today's key and replaces it each day by a
// one-way step (a hash ratchet), so that once a day is over nobody can
// compute its key again, and the hashes stored that day cannot be reversed
// by trying every address.
package hashkey

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"
)

// dayFormat is how days are named: UTC dates.
const dayFormat = time.DateOnly

// Secret derives each day's key from one secret: HMAC-SHA256(secret,
// "outcry-reporter-salt:" + day), as Outcry always did, so hashes made
// before an upgrade match those after. Whoever holds the secret can
// compute every day's key.
type Secret struct{ secret []byte }

// FromSecret returns the keys derived from secret.
func FromSecret(secret []byte) *Secret { return &Secret{secret: append([]byte(nil), secret...)} }

// DayKey is the key of day ("2006-01-02").
func (s *Secret) DayKey(day string) ([]byte, error) { return derive(s.secret, day), nil }

func derive(secret []byte, day string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("outcry-reporter-salt:" + day))
	return m.Sum(nil)
}

// next is the ratchet's one-way step from a day's key to the next day's.
func next(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("outcry-reporter-ratchet"))
	return m.Sum(nil)
}
