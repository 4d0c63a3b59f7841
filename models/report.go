package models

import (
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Report is one person's problem report. ReporterHash is a keyed hash of
// the client address under the day's key, NetworkHash the same of its /24
// or /48; the address itself is never stored.
type Report struct {
	ID           uint64    `gorm:"primaryKey;index:idx_reports_minute_counted,priority:3"`
	ServiceID    uint      `gorm:"not null;index:idx_reports_service"`
	Problem      string    `gorm:"size:32;not null"`
	Region       string    `gorm:"size:2;not null"`
	Note         string    `gorm:"size:1200;not null;default:''"`
	ReporterHash string    `gorm:"size:32;not null"`
	NetworkHash  string    `gorm:"size:32;not null;default:''"` // the same of the reporter's /24 or /48
	Counted      bool      `gorm:"not null;index:idx_reports_minute_counted,priority:2"`
	Minute       int64     `gorm:"not null;index:idx_reports_minute_counted,priority:1"` // unix seconds of the minute it arrived in
	CreatedAt    time.Time `gorm:"not null"`
}

// MaxNoteRunes bounds a report's free-text note.
const MaxNoteRunes = 280

// UnknownRegion is the region of a report whose origin cannot be told.
const UnknownRegion = "ZZ"

// ReportInput is what a reporter sends.
type ReportInput struct {
	Problem string `json:"problem"`
	Region  string `json:"region"`
	Note    string `json:"note"`
}

// Validate checks the input against the service and normalises it: the
// region is upper-cased, the note trimmed.
func (in *ReportInput) Validate(s *Service) error {
	if in.Problem == "" {
		return Errorf(CodeInvalid, "problem is required; one of %s", strings.Join(s.Problems, ", "))
	}
	if !s.HasProblem(in.Problem) {
		return Errorf(CodeInvalid, "unknown problem %q for %s; one of %s", in.Problem, s.Slug, strings.Join(s.Problems, ", "))
	}
	if in.Region != "" {
		r, ok := NormalizeRegion(in.Region)
		if !ok {
			return Errorf(CodeInvalid, "region %q is not an ISO 3166-1 alpha-2 country code", in.Region)
		}
		in.Region = r
	}
	in.Note = strings.TrimSpace(in.Note)
	if !utf8.ValidString(in.Note) {
		return Errorf(CodeInvalid, "note must be UTF-8 text")
	}
	if n := utf8.RuneCountInString(in.Note); n > MaxNoteRunes {
		return Errorf(CodeInvalid, "note is %d characters; at most %d", n, MaxNoteRunes)
	}
	return nil
}

// NormalizeRegion returns the upper-case ISO 3166-1 alpha-2 code for s, and
// whether s is one. "ZZ" (unknown) is accepted.
func NormalizeRegion(s string) (string, bool) {
	// Two ASCII letters, checked on the bytes before any case mapping:
	// strings.ToUpper maps some two-byte letters to one byte ("ı" → "I",
	// "ſ" → "S"), so checking after it would index past the end.
	if len(s) != 2 || !isASCIILetter(s[0]) || !isASCIILetter(s[1]) {
		return "", false
	}
	up := string([]byte{s[0] &^ 0x20, s[1] &^ 0x20})
	if up == UnknownRegion {
		return up, true
	}
	r, err := language.ParseRegion(up)
	if err != nil || !r.IsCountry() || r.String() != up {
		return "", false
	}
	return up, true
}

func isASCIILetter(b byte) bool { return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') }

// Rollup is the number of counted (unique) reports of one service in one
// 15-minute bucket, by region and problem: the history baselines learn from.
// It outlives the raw reports.
type Rollup struct {
	ServiceID uint   `gorm:"primaryKey;autoIncrement:false"`
	Bucket    int64  `gorm:"primaryKey;autoIncrement:false;index"` // unix seconds of the bucket's start
	Region    string `gorm:"primaryKey;size:2"`
	Problem   string `gorm:"primaryKey;size:32"`
	Count     int    `gorm:"not null"`
	Demo      bool   `gorm:"not null;default:false"` // synthetic history seeded for the demo catalogue
}

// BucketSize is the width of rollup and chart buckets.
const BucketSize = 15 * time.Minute

// BucketOf is the start of the 15-minute bucket that holds t.
func BucketOf(t time.Time) time.Time { return t.Truncate(BucketSize) }

// Setting is a small persisted key/value pair (for example the secret that
// reporter hashes are keyed with, shared by every replica).
type Setting struct {
	Key   string `gorm:"primaryKey;size:64"`
	Value string `gorm:"not null"`
}

// BucketTotal is one service's counted reports in one 15-minute bucket, in
// total (Region "") or for one region.
type BucketTotal struct {
	ServiceID uint
	Bucket    int64 // unix seconds of the bucket's start
	Region    string
	Count     int
}
