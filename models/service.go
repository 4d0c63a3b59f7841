package models

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Service is something people report problems with: ChatGPT, Sora, an API.
type Service struct {
	ID       uint     `gorm:"primaryKey"`
	Slug     string   `gorm:"uniqueIndex;size:64;not null"`
	Name     string   `gorm:"size:120;not null"`
	Problems []string `gorm:"serializer:json;not null"`
	// ColdStart is how many distinct reporters within five minutes open an
	// outage while the service has less than a day of history; 0 means the
	// default (DefaultColdStart).
	ColdStart int  `gorm:"not null;default:0"`
	Demo      bool `gorm:"not null;default:false"`
	// OfficialStatusURL is the service's own public status page (a
	// Statuspage or incident.io page, or an RSS/Atom feed), polled by the
	// leader and shown beside the crowd's status; "" for none.
	// OfficialComponents, when set, limit what counts to those components
	// (names, compared without case); empty = the whole page.
	OfficialStatusURL  string   `gorm:"size:2048;not null;default:''"`
	OfficialComponents []string `gorm:"serializer:json"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// DefaultColdStart is the cold-start rule's default: this many distinct
// reporters within five minutes open an outage without any history.
const DefaultColdStart = 100

var (
	slugRe    = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)
	problemRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_-]{0,30}[a-z0-9])?$`)
)

// MaxProblems bounds the categories of one service.
const MaxProblems = 20

// Validate checks a service as an admin would create or change it.
func (s *Service) Validate() error {
	if !slugRe.MatchString(s.Slug) {
		return Errorf(CodeInvalid, "slug must be 1-64 lowercase letters, digits or dashes, starting and ending with a letter or digit")
	}
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" || utf8.RuneCountInString(s.Name) > 120 {
		return Errorf(CodeInvalid, "name must be 1-120 characters")
	}
	if len(s.Problems) == 0 || len(s.Problems) > MaxProblems {
		return Errorf(CodeInvalid, "problems must list 1-%d categories", MaxProblems)
	}
	seen := make(map[string]bool, len(s.Problems))
	for _, p := range s.Problems {
		if !problemRe.MatchString(p) {
			return Errorf(CodeInvalid, "problem %q must be 1-32 lowercase letters, digits, dashes or underscores", p)
		}
		if seen[p] {
			return Errorf(CodeInvalid, "problem %q is listed twice", p)
		}
		seen[p] = true
	}
	if s.ColdStart < 0 || s.ColdStart > 1_000_000 {
		return Errorf(CodeInvalid, "cold_start must be between 0 (default) and 1000000")
	}
	return s.validateOfficial()
}

// MaxOfficialComponents bounds the components an official source is
// limited to.
const MaxOfficialComponents = 50

// validateOfficial checks the official status source the way webhook URLs
// are checked (absolute http or https, a host, at most MaxURLLength); the
// address itself is checked by the caller (server/safehttp).
func (s *Service) validateOfficial() error {
	s.OfficialStatusURL = strings.TrimSpace(s.OfficialStatusURL)
	if s.OfficialStatusURL != "" {
		if len(s.OfficialStatusURL) > MaxURLLength {
			return Errorf(CodeInvalid, "official_status_url is longer than %d characters", MaxURLLength)
		}
		u, err := url.Parse(s.OfficialStatusURL)
		if err != nil || !u.IsAbs() {
			return Errorf(CodeInvalid, "official_status_url must be an absolute http:// or https:// URL")
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return Errorf(CodeInvalid, "official_status_url scheme %q is not allowed; use http or https", u.Scheme)
		}
		if u.Hostname() == "" {
			return Errorf(CodeInvalid, "official_status_url must name a host")
		}
		if u.User != nil {
			return Errorf(CodeInvalid, "official_status_url must not carry a user name or password")
		}
	}
	if len(s.OfficialComponents) > MaxOfficialComponents {
		return Errorf(CodeInvalid, "official_components may list at most %d components", MaxOfficialComponents)
	}
	if len(s.OfficialComponents) > 0 && s.OfficialStatusURL == "" {
		return Errorf(CodeInvalid, "official_components needs an official_status_url")
	}
	seen := make(map[string]bool, len(s.OfficialComponents))
	for i, c := range s.OfficialComponents {
		c = strings.TrimSpace(c)
		s.OfficialComponents[i] = c
		if c == "" || !utf8.ValidString(c) || utf8.RuneCountInString(c) > 200 {
			return Errorf(CodeInvalid, "official_components: each must be 1-200 characters of text")
		}
		if seen[strings.ToLower(c)] {
			return Errorf(CodeInvalid, "official_components: %q is listed twice", c)
		}
		seen[strings.ToLower(c)] = true
	}
	return nil
}

// HasProblem reports whether p is one of the service's categories.
func (s *Service) HasProblem(p string) bool {
	for _, q := range s.Problems {
		if q == p {
			return true
		}
	}
	return false
}

// ColdStartThreshold is the effective cold-start rule for the service.
func (s *Service) ColdStartThreshold() int {
	if s.ColdStart > 0 {
		return s.ColdStart
	}
	return DefaultColdStart
}
