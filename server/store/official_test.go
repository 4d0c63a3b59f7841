package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// The official poller's writes on both dialects: a poll's state and
// incidents (an incident seen again keeps its first sighting), an
// acknowledgement with its incident.updated event, which the detector's
// later saves of its own copy of the incident never erase, the 90-day
// summary, and what followers read since a stamp.
func TestOfficialStore(t *testing.T) {
	eachDialect(t, func(t *testing.T, st *store.Store, dbURL string) {
		ctx := context.Background()
		svc := service(t, st, "chatgpt")
		t0 := time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC)
		fs := st.Fenced(store.Fence{Holder: "me", Term: 1})
		if _, ok, err := st.AcquireLease(ctx, "me", time.Minute); err != nil || !ok {
			t.Fatalf("lease: %v %v", ok, err)
		}

		ch := incidentChange(svc, t0)
		if err := fs.ApplyIncident(ctx, ch); err != nil {
			t.Fatal(err)
		}
		inc := ch.Incident
		if inc.OpenedAt == nil || !inc.OpenedAt.Equal(t0) {
			t.Fatalf("opened_at %v; want %v", inc.OpenedAt, t0)
		}

		first := t0.Add(90 * time.Second)
		src := models.OfficialSource{ServiceID: svc.ID, URL: "https://status.example.com", Kind: "statuspage", ETag: `W/"1"`,
			Status: models.OfficialMajorOutage, Description: "Major System Outage", StatusAt: &first, UpdatedAt: t0.Add(2 * time.Minute)}
		oi := models.OfficialIncident{ServiceID: svc.ID, ExternalID: "inc1", Title: "Errors", Status: "investigating",
			Impact: "major_outage", FirstUpdateAt: &first, FirstSeenAt: t0.Add(2 * time.Minute), SeenAfter: &t0}
		if err := fs.SaveOfficialPoll(ctx, src, []models.OfficialIncident{oi}); err != nil {
			t.Fatal(err)
		}
		// Seen again later: the sighting stays, the status follows.
		again := oi
		again.FirstSeenAt, again.Status = t0.Add(10*time.Minute), "identified"
		if err := fs.SaveOfficialPoll(ctx, src, []models.OfficialIncident{again}); err != nil {
			t.Fatal(err)
		}
		offs, err := st.OfficialIncidentsActiveSince(ctx, svc.ID, t0.Add(-time.Hour))
		if err != nil || len(offs) != 1 || offs[0].Status != "identified" || !offs[0].FirstSeenAt.Equal(t0.Add(2*time.Minute)) ||
			!offs[0].AcknowledgedAt().Equal(first) {
			t.Fatalf("official incidents %+v %v", offs, err)
		}

		un, err := st.UnacknowledgedIncidents(ctx, svc.ID, t0.Add(-4*time.Hour))
		if err != nil || len(un) != 1 {
			t.Fatalf("unacknowledged %+v %v", un, err)
		}
		done, err := fs.AcknowledgeIncident(ctx, svc, inc.ID, first, "https://outcry.example", t0.Add(2*time.Minute))
		if err != nil || !done {
			t.Fatalf("acknowledge: %v %v", done, err)
		}
		if done, err = fs.AcknowledgeIncident(ctx, svc, inc.ID, t0.Add(time.Hour), "https://outcry.example", t0.Add(3*time.Minute)); err != nil || done {
			t.Fatalf("a second acknowledgement: %v %v; want none", done, err)
		}
		raw := storetest.Raw(t, dbURL)
		var ev models.Event
		if err := raw.Where("type = ?", models.EventIncidentUpdated).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data struct {
				Incident struct {
					LeadSeconds *int64 `json:"lead_seconds"`
				} `json:"incident"`
			} `json:"data"`
		}
		if err := json.Unmarshal(ev.Payload, &env); err != nil || env.Data.Incident.LeadSeconds == nil || *env.Data.Incident.LeadSeconds != 90 || ev.Term != 1 {
			t.Fatalf("event %s term %d", ev.Payload, ev.Term)
		}

		// The detector saves its copy (no acknowledgement in it) with a
		// resolution: the acknowledgement stays, and the resolved event
		// carries it.
		res := t0.Add(30 * time.Minute)
		inc.ResolvedAt = &res
		ch.EventType, ch.At = models.EventIncidentResolved, res
		if err := fs.ApplyIncident(ctx, ch); err != nil {
			t.Fatal(err)
		}
		list, err := st.Incidents(ctx, svc.ID, 10)
		if err != nil || len(list) != 1 || list[0].OfficialAcknowledgedAt == nil || !list[0].OfficialAcknowledgedAt.Equal(first) ||
			list[0].OpenedAt == nil || !list[0].OpenedAt.Equal(t0) {
			t.Fatalf("after the detector's save: %+v %v", list, err)
		}
		ev = models.Event{}
		if err := raw.Where("type = ?", models.EventIncidentResolved).Take(&ev).Error; err != nil || ev.Payload == nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ev.Payload, &env); err != nil || env.Data.Incident.LeadSeconds == nil || *env.Data.Incident.LeadSeconds != 90 {
			t.Fatalf("resolved event %s", ev.Payload)
		}

		sum, err := st.LeadSummary(ctx, svc.ID, t0.Add(-90*24*time.Hour))
		if err != nil || sum.Incidents != 1 || sum.Acknowledged != 1 || sum.MedianLeadSeconds == nil || *sum.MedianLeadSeconds != 90 {
			t.Fatalf("summary %+v %v", sum, err)
		}

		rows, err := st.OfficialSourcesSince(ctx, t0.Add(2*time.Minute))
		if err != nil || len(rows) != 1 || rows[0].Status != models.OfficialMajorOutage || rows[0].ETag != `W/"1"` {
			t.Fatalf("since: %+v %v", rows, err)
		}
		if rows, _ = st.OfficialSourcesSince(ctx, t0.Add(time.Hour)); len(rows) != 0 {
			t.Errorf("rows stamped later than any: %+v", rows)
		}
	})
}
