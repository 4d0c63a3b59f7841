package models

import "testing"

func TestNormalizeRegion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"KR", "KR", true},
		{"kr", "KR", true},
		{"gB", "GB", true},
		{"ZZ", "ZZ", true},
		{"zz", "ZZ", true},
		{"", "", false},
		{"K", "", false},
		{"KOR", "", false},
		{"XX", "", false}, // user-assigned, not a country
		{"EU", "", false}, // a grouping, not a country
		{"1A", "", false},
		{"ı", "", false},  // U+0131: two bytes that upper-case to one ("I")
		{"ſ", "", false},  // U+017F: two bytes that upper-case to one ("S")
		{"Kı", "", false}, // three bytes
		{"é", "", false},
		{"\x00\x00", "", false},
		{"[\\", "", false},
	} {
		got, ok := NormalizeRegion(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeRegion(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestReportInputValidate(t *testing.T) {
	svc := &Service{Slug: "chatgpt", Problems: []string{"login", "app"}}
	long := make([]rune, MaxNoteRunes+1)
	for i := range long {
		long[i] = 'é'
	}
	for _, tc := range []struct {
		name string
		in   ReportInput
		ok   bool
		want ReportInput
	}{
		{"minimal", ReportInput{Problem: "login"}, true, ReportInput{Problem: "login"}},
		{"region upper-cased, note trimmed", ReportInput{Problem: "app", Region: "kr", Note: "  stuck \n"}, true, ReportInput{Problem: "app", Region: "KR", Note: "stuck"}},
		{"no problem", ReportInput{}, false, ReportInput{}},
		{"unknown problem", ReportInput{Problem: "voice"}, false, ReportInput{}},
		{"dotless i region", ReportInput{Problem: "login", Region: "ı"}, false, ReportInput{}},
		{"long s region", ReportInput{Problem: "login", Region: "ſ"}, false, ReportInput{}},
		{"note too long", ReportInput{Problem: "login", Note: string(long)}, false, ReportInput{}},
		{"note at the limit", ReportInput{Problem: "login", Note: string(long[1:])}, true, ReportInput{Problem: "login", Note: string(long[1:])}},
		{"invalid UTF-8 note", ReportInput{Problem: "login", Note: "\xff\xfe"}, false, ReportInput{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Validate(svc)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%+v) = %v; want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				if ErrorCode(err) != CodeInvalid {
					t.Fatalf("code %q, want invalid", ErrorCode(err))
				}
				return
			}
			if in != tc.want {
				t.Fatalf("normalised to %+v, want %+v", in, tc.want)
			}
		})
	}
}

func TestServiceValidate(t *testing.T) {
	many := make([]string, MaxProblems+1)
	for i := range many {
		many[i] = "p" + string(rune('a'+i))
	}
	for _, tc := range []struct {
		name string
		svc  Service
		ok   bool
	}{
		{"good", Service{Slug: "acme", Name: " Acme Cloud ", Problems: []string{"login", "api_errors"}}, true},
		{"bad slug", Service{Slug: "Bad Slug", Name: "x", Problems: []string{"login"}}, false},
		{"slug ends with a dash", Service{Slug: "acme-", Name: "x", Problems: []string{"login"}}, false},
		{"empty name", Service{Slug: "acme", Name: "   ", Problems: []string{"login"}}, false},
		{"name too long", Service{Slug: "acme", Name: string(make([]rune, 121)), Problems: []string{"login"}}, false},
		{"no problems", Service{Slug: "acme", Name: "x"}, false},
		{"too many problems", Service{Slug: "acme", Name: "x", Problems: many}, false},
		{"the most problems", Service{Slug: "acme", Name: "x", Problems: many[1:]}, true},
		{"duplicate problem", Service{Slug: "acme", Name: "x", Problems: []string{"login", "login"}}, false},
		{"bad problem", Service{Slug: "acme", Name: "x", Problems: []string{"Log In"}}, false},
		{"negative cold start", Service{Slug: "acme", Name: "x", Problems: []string{"login"}, ColdStart: -1}, false},
		{"huge cold start", Service{Slug: "acme", Name: "x", Problems: []string{"login"}, ColdStart: 1_000_001}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.svc
			if err := s.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v; want ok=%v", err, tc.ok)
			}
		})
	}
}
