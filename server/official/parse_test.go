package official

import (
	"errors"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// A Statuspage /api/v2/summary.json in the documented shape: one component
// in partial outage, one unresolved incident with two updates (newest
// first), a group component, a started_at earlier than any update (the
// back-filled start of impact, which must never be the acknowledgement).
const spSummaryBody = `{
 "page":{"id":"kctbh9vrtdwd","name":"GitHub","url":"https://www.githubstatus.com","time_zone":"Etc/UTC","updated_at":"2026-11-02T14:09:31.123Z"},
 "components":[
  {"id":"8l4ygp009s5s","name":"Git Operations","status":"operational","created_at":"2017-01-31T20:05:05.370Z","updated_at":"2026-11-02T14:00:00.000Z","position":1,"description":null,"showcase":false,"start_date":null,"group_id":null,"page_id":"kctbh9vrtdwd","group":false,"only_show_if_degraded":false},
  {"id":"brv1bkgrwx7q","name":"API Requests","status":"partial_outage","created_at":"2017-01-31T20:01:46.621Z","updated_at":"2026-11-02T14:09:31.000Z","position":2,"description":null,"showcase":false,"start_date":null,"group_id":null,"page_id":"kctbh9vrtdwd","group":false,"only_show_if_degraded":false},
  {"id":"grp1","name":"Copilot","status":"operational","group":true,"components":["x"]}
 ],
 "incidents":[{"id":"p7xqc0n5q7gd","name":"Incident with API Requests","status":"investigating","created_at":"2026-11-02T14:04:00.000Z","updated_at":"2026-11-02T14:09:31.000Z","monitoring_at":null,"resolved_at":null,"impact":"major","shortlink":"https://stspg.io/abc","started_at":"2026-11-02T13:40:00.000Z","page_id":"kctbh9vrtdwd",
  "incident_updates":[
   {"id":"u2","status":"investigating","body":"API requests are failing for some users.","incident_id":"p7xqc0n5q7gd","created_at":"2026-11-02T14:09:31.000Z","updated_at":"2026-11-02T14:09:31.000Z","display_at":"2026-11-02T14:09:31.000Z","affected_components":[{"code":"brv1bkgrwx7q","name":"API Requests","old_status":"degraded_performance","new_status":"partial_outage"}],"deliver_notifications":true,"custom_tweet":null,"tweet_id":null},
   {"id":"u1","status":"investigating","body":"We are investigating reports of degraded performance for API Requests.","incident_id":"p7xqc0n5q7gd","created_at":"2026-11-02T14:04:00.000Z","updated_at":"2026-11-02T14:04:00.000Z","display_at":"2026-11-02T14:04:00.000Z","affected_components":[{"code":"brv1bkgrwx7q","name":"API Requests","old_status":"operational","new_status":"degraded_performance"}],"deliver_notifications":true,"custom_tweet":null,"tweet_id":null}],
  "components":[{"id":"brv1bkgrwx7q","name":"API Requests","status":"partial_outage"}]}],
 "scheduled_maintenances":[],
 "status":{"indicator":"major","description":"Partial System Outage"}
}`

// incident.io's /proxy/status.openai.com summary shape: components, a
// group structure, affected components and one ongoing incident.
const ioSummaryBody = `{"summary":{
 "id":"01JMYB4832B0YJN5NMZGY4WJ1N","name":"OpenAI","subpath":"","public_url":"https://status.openai.com",
 "components":[{"id":"01JMXBRMFE6N2NNT7DG6XZQ6PW","name":"Login"},{"id":"01JMXBRMFE6N2NNT7DG6XZQ6PX","name":"Conversations"},{"id":"01JMXBRMFE6N2NNT7DG6XZQ6PY","name":"Responses"}],
 "structure":{"items":[
  {"group":{"id":"01G1","name":"ChatGPT","hidden":false,"components":[{"component_id":"01JMXBRMFE6N2NNT7DG6XZQ6PW","name":"Login","hidden":false},{"component_id":"01JMXBRMFE6N2NNT7DG6XZQ6PX","name":"Conversations","hidden":false}]}},
  {"group":{"id":"01G2","name":"APIs","hidden":false,"components":[{"component_id":"01JMXBRMFE6N2NNT7DG6XZQ6PY","name":"Responses","hidden":false}]}}]},
 "affected_components":[{"component_id":"01JMXBRMFE6N2NNT7DG6XZQ6PX","status":"full_outage"}],
 "ongoing_incidents":[{"id":"01JGAS1Z6X8V7K4Y5Q2W3E4R5T","name":"Elevated errors in ChatGPT","status":"investigating","published_at":"2026-11-02T14:06:12.345Z","current_worst_impact":"full_outage",
   "affected_components":[{"id":"01JMXBRMFE6N2NNT7DG6XZQ6PX","name":"Conversations","status":"full_outage"}]}],
 "in_progress_maintenances":[],"scheduled_maintenances":[]}}`

const rssBody = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Example Status - Incident History</title><link>https://status.example.com</link><description>Statuspage</description>
<item><title>Elevated API errors</title><description>&lt;p&gt;&lt;small&gt;Nov &lt;var&gt;2&lt;/var&gt;, &lt;var&gt;14:05&lt;/var&gt; UTC&lt;/small&gt;&lt;br&gt;&lt;strong&gt;Investigating&lt;/strong&gt; - We are looking into elevated error rates.&lt;/p&gt;</description><pubDate>Mon, 02 Nov 2026 14:05:00 +0000</pubDate><link>https://status.example.com/incidents/abc</link><guid>https://status.example.com/incidents/abc</guid></item>
<item><title>Login failures</title><description>&lt;p&gt;&lt;strong&gt;Resolved&lt;/strong&gt; - This incident has been resolved.&lt;/p&gt;&lt;p&gt;&lt;strong&gt;Investigating&lt;/strong&gt; - Users cannot log in.&lt;/p&gt;</description><pubDate>Sun, 01 Nov 2026 10:00:00 +0000</pubDate><link>https://status.example.com/incidents/def</link><guid>https://status.example.com/incidents/def</guid></item>
<item><title>Old incident</title><description>Resolved long ago</description><pubDate>Mon, 05 Oct 2026 10:00:00 +0000</pubDate><guid>old</guid></item>
</channel></rss>`

const atomBody = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Cloud status</title><link href="https://status.cloud.example"/><updated>2026-11-02T14:20:00Z</updated><id>tag:status</id>
<entry><id>tag:status,2026:inc-1</id><title>Service disruption in us-east-1</title><updated>2026-11-02T14:20:00Z</updated><published>2026-11-02T14:11:00Z</published><content type="html">We are investigating increased error rates.</content><link href="https://status.cloud.example/inc-1"/></entry>
</feed>`

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	now := ts("2026-11-02T14:30:00Z")
	for _, tc := range []struct {
		name       string
		body       string
		components []string
		kind       string
		status     models.OfficialLevel
		desc       string
		updated    string
		incidents  int
		firstAt    string // of the first incident; "" if none
		resolved   bool   // the first incident
	}{
		{name: "statuspage page", body: spSummaryBody, kind: KindStatuspage, status: models.OfficialPartialOutage,
			desc: "Partial System Outage", updated: "2026-11-02T14:09:31.123Z", incidents: 1, firstAt: "2026-11-02T14:04:00Z"},
		{name: "statuspage component up", body: spSummaryBody, components: []string{"git operations"}, kind: KindStatuspage,
			status: models.OfficialOperational, desc: "All systems operational", updated: "2026-11-02T14:09:31.123Z", incidents: 0},
		{name: "statuspage component down", body: spSummaryBody, components: []string{"API Requests"}, kind: KindStatuspage,
			status: models.OfficialPartialOutage, desc: "Partial outage: API Requests", updated: "2026-11-02T14:09:31.123Z", incidents: 1, firstAt: "2026-11-02T14:04:00Z"},
		{name: "statuspage unknown component = page", body: spSummaryBody, components: []string{"Nope"}, kind: KindStatuspage,
			status: models.OfficialPartialOutage, desc: "Partial System Outage", updated: "2026-11-02T14:09:31.123Z", incidents: 1, firstAt: "2026-11-02T14:04:00Z"},
		{name: "statuspage status.json", body: `{"page":{"id":"x","name":"X","url":"https://x.example","updated_at":"2026-11-02T10:00:00Z"},"status":{"indicator":"critical","description":"Major System Outage"}}`,
			kind: KindStatuspage, status: models.OfficialMajorOutage, desc: "Major System Outage", updated: "2026-11-02T10:00:00Z"},
		{name: "incident.io page", body: ioSummaryBody, kind: KindIncidentIO, status: models.OfficialMajorOutage,
			desc: "Major outage: Conversations", updated: "2026-11-02T14:06:12.345Z", incidents: 1, firstAt: "2026-11-02T14:06:12.345Z"},
		{name: "incident.io group", body: ioSummaryBody, components: []string{"ChatGPT"}, kind: KindIncidentIO, status: models.OfficialMajorOutage,
			desc: "Major outage: Conversations", updated: "2026-11-02T14:06:12.345Z", incidents: 1, firstAt: "2026-11-02T14:06:12.345Z"},
		{name: "incident.io other group", body: ioSummaryBody, components: []string{"APIs"}, kind: KindIncidentIO, status: models.OfficialOperational,
			desc: "All systems operational", incidents: 0},
		{name: "rss", body: rssBody, kind: KindFeed, status: models.OfficialDegraded, desc: "Degraded performance: Elevated API errors",
			updated: "2026-11-02T14:05:00Z", incidents: 2, firstAt: "2026-11-02T14:05:00Z"},
		{name: "atom", body: atomBody, kind: KindFeed, status: models.OfficialDegraded, desc: "Degraded performance: Service disruption in us-east-1",
			updated: "2026-11-02T14:20:00Z", incidents: 1, firstAt: "2026-11-02T14:11:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.body), tc.components, now)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || r.Status != tc.status || r.Description != tc.desc {
				t.Errorf("got %s %s %q; want %s %s %q", r.Kind, r.Status, r.Description, tc.kind, tc.status, tc.desc)
			}
			if tc.updated != "" && !r.UpdatedAt.Equal(ts(tc.updated)) {
				t.Errorf("updated %v; want %s", r.UpdatedAt, tc.updated)
			}
			if len(r.Incidents) != tc.incidents {
				t.Fatalf("%d incidents %+v; want %d", len(r.Incidents), r.Incidents, tc.incidents)
			}
			if tc.firstAt != "" {
				in := r.Incidents[0]
				if in.FirstUpdateAt == nil || !in.FirstUpdateAt.Equal(ts(tc.firstAt)) {
					t.Errorf("first update %v; want %s (the earliest published update, not the start of impact)", in.FirstUpdateAt, tc.firstAt)
				}
				if (in.ResolvedAt != nil) != tc.resolved || in.ExternalID == "" || in.Title == "" || in.URL == "" {
					t.Errorf("incident %+v", in)
				}
			}
		})
	}
}

// The RSS item whose newest update says "Resolved" is resolved; items
// older than the feed window are left out.
func TestParseFeedResolution(t *testing.T) {
	r, err := Parse([]byte(rssBody), nil, ts("2026-11-02T14:30:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Incidents) != 2 || r.Incidents[1].ResolvedAt == nil || r.Incidents[0].ResolvedAt != nil {
		t.Fatalf("%+v", r.Incidents)
	}
	// A day later the open item is stale: the feed reads operational.
	r, _ = Parse([]byte(rssBody), nil, ts("2026-11-03T15:00:00Z"))
	if r.Status != models.OfficialOperational {
		t.Errorf("a day-old open item: %s", r.Status)
	}
}

func TestParseRefusesOtherBodies(t *testing.T) {
	for _, b := range []string{"", "<!doctype html><html><body>Status</body></html>", `{"hello":"world"}`, "plain text", `[1,2]`} {
		if _, err := Parse([]byte(b), nil, time.Now()); !errors.Is(err, ErrUnrecognised) {
			t.Errorf("%q: %v; want ErrUnrecognised", b, err)
		}
	}
	for _, b := range []string{`{"page":`, `<rss><channel><item>`} {
		if _, err := Parse([]byte(b), nil, time.Now()); err == nil {
			t.Errorf("%q parsed", b)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range []string{spSummaryBody, ioSummaryBody, rssBody, atomBody, `{"page":{},"status":{}}`} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b, []string{"API Requests", "ChatGPT"}, time.Date(2026, 11, 2, 14, 30, 0, 0, time.UTC))
		if err != nil {
			return
		}
		switch r.Status {
		case models.OfficialOperational, models.OfficialDegraded, models.OfficialPartialOutage, models.OfficialMajorOutage,
			models.OfficialMaintenance, models.OfficialUnknown:
		default:
			t.Fatalf("status %q", r.Status)
		}
		for _, in := range r.Incidents {
			if in.ExternalID == "" || len(in.ExternalID) > 200 {
				t.Fatalf("external id %q", in.ExternalID)
			}
		}
	})
}
