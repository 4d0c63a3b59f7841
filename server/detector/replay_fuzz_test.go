package detector

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzReplay feeds `outcry detect` arbitrary CSV: it never panics, and when
// it accepts the input it writes one row per data row, each with an alert
// of 0 or 1.
func FuzzReplay(f *testing.F) {
	f.Add("timestamp,value\n2026-01-01 00:00:00,3\n2026-01-01 00:05:00,4\n")
	f.Add("\ufefftimestamp, value\r\n2026-01-01 00:00:00, 1e3\r\n\r\n2026-01-01 00:10:00,0\n")
	f.Add("timestamp,value\n2026-01-01 00:00:00,-1\n")
	f.Add("timestamp,value\n2026-01-01 00:00:00,NaN\n")
	f.Add("timestamp,value\n2026-01-01 00:05:00,1\n2026-01-01 00:00:00,1\n")
	f.Add("timestamp,value\n2026-01-01 00:00:00,1\n2026-01-03 00:00:00,1e308\n")
	f.Add("ts,v\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, csv string) {
		var out bytes.Buffer
		if err := Replay(strings.NewReader(csv), &out, 5*time.Minute, DefaultParams()); err != nil {
			return
		}
		rows := 0
		for i, l := range strings.Split(strings.TrimSuffix(csv, "\n"), "\n") {
			if i > 0 && strings.TrimSpace(strings.TrimSuffix(l, "\r")) != "" {
				rows++
			}
		}
		got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(got) != rows+1 {
			t.Fatalf("%d output rows for %d input rows:\n%s", len(got)-1, rows, out.String())
		}
		for _, l := range got[1:] {
			f := strings.Split(l, ",")
			if len(f) != 4 || (f[3] != "0" && f[3] != "1") {
				t.Fatalf("bad output row %q", l)
			}
		}
	})
}
