package hashkey

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// File is a hash ratchet kept in a key file: the file holds one line, a
// day and that day's key. Asked for a later day, it steps the key forward
// (key(d+1) = HMAC-SHA256(key(d), "outcry-reporter-ratchet")), writes the
// new day and key (temporary file, fsync, rename) and forgets the old one.
// Asked for an earlier day it answers the current key: that day's key no
// longer exists.
type File struct {
	path  string
	mu    sync.Mutex
	day   string
	key   []byte
	stale bool // the file still holds an earlier day: writing it failed
}

// OpenFile opens the key file at path, creating it (mode 0600) for the day
// holding now if it does not exist. A new file starts from legacy's key
// for that day when legacy is not empty (the secret that older versions
// kept in the database, so today's hashes stay the same across the
// upgrade), or from a random key. A file readable by others is made 0600.
func OpenFile(path string, now time.Time, legacy []byte) (*File, error) {
	f := &File{path: path}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		day, hexKey, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
		key, herr := hex.DecodeString(hexKey)
		if _, terr := time.Parse(dayFormat, day); !ok || herr != nil || terr != nil || len(key) != 32 {
			return nil, fmt.Errorf("hash key file %s is malformed (want \"YYYY-MM-DD <64 hex digits>\")", path)
		}
		f.day, f.key = day, key
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, fmt.Errorf("hash key file %s is readable by others and cannot be made 0600: %w", path, err)
			}
		}
	case errors.Is(err, fs.ErrNotExist):
		f.day = now.UTC().Format(dayFormat)
		if len(legacy) > 0 {
			f.key = derive(legacy, f.day)
		} else {
			f.key = make([]byte, 32)
			if _, err := rand.Read(f.key); err != nil {
				return nil, err
			}
		}
		if err := f.write(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("hash key file: %w", err)
	}
	return f, nil
}

// DayKey is the key of day ("2006-01-02"), stepping the ratchet forward
// (and rewriting the file) when day is later than the file's. When the file
// cannot be written it still returns the new key, with the error, and
// tries again on the next call.
func (f *File) DayKey(day string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if day <= f.day {
		if f.stale {
			if err := f.write(); err != nil {
				return f.key, err
			}
			f.stale = false
		}
		return f.key, nil
	}
	want, err := time.Parse(dayFormat, day)
	if err != nil {
		return nil, err
	}
	have, _ := time.Parse(dayFormat, f.day)
	key := f.key
	for d := have; d.Before(want); d = d.AddDate(0, 0, 1) {
		key = next(key)
	}
	clear(f.key)
	f.key, f.day = key, day
	if err := f.write(); err != nil {
		f.stale = true
		return f.key, err
	}
	f.stale = false
	return f.key, nil
}

// Day is the day of the key the file holds.
func (f *File) Day() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.day
}

// write replaces the file with the current day and key; called with f.mu
// held (or before f is shared).
func (f *File) write() error {
	dir := filepath.Dir(f.path)
	tmp, err := os.CreateTemp(dir, ".hashkey-*")
	if err != nil {
		return fmt.Errorf("hash key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("hash key file: %w", err)
	}
	if _, err := tmp.WriteString(f.day + " " + hex.EncodeToString(f.key) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("hash key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("hash key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("hash key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("hash key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
