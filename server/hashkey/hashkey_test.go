package hashkey

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileRatchetForgetsPastDays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outcry.db.hashkey")
	day1 := time.Date(2030, 3, 1, 23, 0, 0, 0, time.UTC)
	f, err := OpenFile(path, day1, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode(), err)
	}
	k1, _ := f.DayKey("2030-03-01")
	k1 = bytes.Clone(k1)
	k3, err := f.DayKey("2030-03-03")
	if err != nil || bytes.Equal(k1, k3) {
		t.Fatalf("day 3 key %x (%v) equals day 1's", k3, err)
	}
	if want := next(next(k1)); !bytes.Equal(k3, want) {
		t.Fatal("two days on is not two ratchet steps")
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "2030-03-01") || bytes.Contains(b, []byte(hexOf(k1))) {
		t.Fatalf("the file still holds day 1: %s", b)
	}
	// Reopened (a restart) it serves day 3, and cannot serve day 1 again.
	g, err := OpenFile(path, day1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := g.DayKey("2030-03-03"); !bytes.Equal(k, k3) {
		t.Fatal("a restart changed today's key")
	}
	if k, _ := g.DayKey("2030-03-01"); bytes.Equal(k, k1) {
		t.Fatal("day 1's key came back")
	}
}

func TestFileFromLegacySecretKeepsTodaysHashes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	f, err := OpenFile(path, now, []byte("the-old-database-secret"))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := FromSecret([]byte("the-old-database-secret")).DayKey("2030-03-01")
	if k, _ := f.DayKey("2030-03-01"); !bytes.Equal(k, old) {
		t.Fatal("today's key differs from the one the database secret gave")
	}
	tomorrow, _ := FromSecret([]byte("the-old-database-secret")).DayKey("2030-03-02")
	if k, _ := f.DayKey("2030-03-02"); bytes.Equal(k, tomorrow) {
		t.Fatal("tomorrow's key can still be derived from the old secret")
	}
}

func TestFileRejectsMalformedAndTightensMode(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("yesterday deadbeef\n"), 0o600)
	if _, err := OpenFile(bad, time.Now(), nil); err == nil {
		t.Fatal("a malformed key file was accepted")
	}
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, []byte("2030-03-01 "+strings.Repeat("ab", 32)+"\n"), 0o644)
	if _, err := OpenFile(loose, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(loose); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
