package detector

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// replayTimeFormat is the timestamp layout of `outcry detect` CSVs.
const replayTimeFormat = "2006-01-02 15:04:05"

// ParseInterval parses a bucket width such as "1m", "5m", "15m" or "90s"
// (Go duration syntax; a bare number means minutes). It must be a positive
// whole number of seconds of at most a day.
func ParseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.Atoi(s)
		if nerr != nil {
			return 0, fmt.Errorf("interval %q: want a duration such as 1m or 5m", s)
		}
		d = time.Duration(n) * time.Minute
	}
	if d <= 0 || d > 24*time.Hour || d%time.Second != 0 {
		return 0, fmt.Errorf("interval %q: want a whole number of seconds between 1s and 24h", s)
	}
	return d, nil
}

// Replay is `outcry detect`: it runs the live detector's code over a series
// read from in (CSV `timestamp,value`, timestamps `YYYY-MM-DD HH:MM:SS` in
// strictly increasing order, value = unique reporters in the bucket of width
// interval that starts there) and writes `timestamp,value,anomaly_score,alert`
// to out, one row per input row, with anomaly_score and alert 1 exactly on
// the rows where an incident opens, or opens again within
// Params.ReopenWithin of its resolution (subscribers hear of both). Each row is judged when its bucket
// completes, from the rows before it and itself only. Missing rows are
// gaps; bad input is an error naming the line.
func Replay(in io.Reader, out io.Writer, interval time.Duration, p Params) error {
	if interval <= 0 {
		return fmt.Errorf("interval must be positive")
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	w := bufio.NewWriter(out)
	s := NewSeries(p, 0, "")
	line := 0
	var prev time.Time
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
			if !strings.EqualFold(strings.ReplaceAll(text, " ", ""), "timestamp,value") {
				return fmt.Errorf("line 1: want the header timestamp,value, got %q", text)
			}
			if _, err := w.WriteString("timestamp,value,anomaly_score,alert\n"); err != nil {
				return err
			}
			continue
		}
		if text == "" {
			continue
		}
		ts, val, ok := strings.Cut(text, ",")
		if !ok {
			return fmt.Errorf("line %d: want timestamp,value, got %q", line, text)
		}
		ts, val = strings.TrimSpace(ts), strings.TrimSpace(val)
		t, err := time.Parse(replayTimeFormat, ts)
		if err != nil {
			return fmt.Errorf("line %d: timestamp %q: want YYYY-MM-DD HH:MM:SS", line, ts)
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("line %d: value %q: want a count (a number ≥ 0)", line, val)
		}
		if !prev.IsZero() && !t.After(prev) {
			return fmt.Errorf("line %d: timestamp %s is not after the previous row's %s", line, ts, prev.Format(replayTimeFormat))
		}
		prev = t

		s.Advance(t, interval, v)
		alert := "0"
		if tr := s.Step(s.Decide(t.Add(interval), 0), p); tr == TransitionOpened || tr == TransitionReopened {
			alert = "1"
		}
		if _, err := fmt.Fprintf(w, "%s,%s,%s,%s\n", ts, val, alert, alert); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	if line == 0 {
		return fmt.Errorf("line 1: empty input; want the header timestamp,value")
	}
	return w.Flush()
}
