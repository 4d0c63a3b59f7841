package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// incidentQuery is one request of GET /api/v1/incidents: the filters, as
// given (for the next link), and the store query they make.
type incidentQuery struct {
	q    models.IncidentQuery
	echo url.Values // the filters and limit as given, for the next link
}

// parseIncidentQuery reads ?status=, ?service=, ?level=, ?since=,
// ?correlation=, ?cursor= and ?limit=. A value it cannot use is a 422 that
// says which and why (the rule of query.go); an unknown service is a 404.
func (h *Handler) parseIncidentQuery(c *gin.Context) (incidentQuery, error) {
	iq := incidentQuery{q: models.IncidentQuery{Limit: listDefault}, echo: url.Values{}}
	bad := func(format string, args ...any) (incidentQuery, error) {
		return iq, models.Errorf(models.CodeInvalid, format, args...)
	}
	switch s := c.Query("status"); s {
	case "":
	case "open", "resolved":
		open := s == "open"
		iq.q.Open = &open
		iq.echo.Set("status", s)
	default:
		return bad("status must be open or resolved")
	}
	if slug := c.Query("service"); slug != "" {
		svc, ok := h.Catalog.Lookup(slug)
		if !ok {
			return iq, models.Errorf(models.CodeNotFound, "no service %q", slug)
		}
		iq.q.ServiceID = svc.ID
		iq.echo.Set("service", slug)
	}
	switch l := models.Level(c.Query("level")); l {
	case "":
	case models.LevelWarning, models.LevelOutage:
		iq.q.Level = l
		iq.echo.Set("level", string(l))
	default:
		return bad("level must be warning or outage")
	}
	if s := c.Query("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return bad("since must be a time like 2026-12-02T14:00:00Z (RFC 3339)")
		}
		iq.q.Since = t
		iq.echo.Set("since", s)
	}
	corr, err := queryID(c, "correlation", "the id of a correlation group")
	if err != nil {
		return iq, err
	}
	if corr != 0 {
		iq.q.Correlation = corr
		iq.echo.Set("correlation", c.Query("correlation"))
	}
	if iq.q.Before, err = queryID(c, "cursor", "the next link's cursor"); err != nil {
		return iq, err
	}
	if iq.q.Limit, err = queryInt(c, "limit", listDefault, 1, listMax); err != nil {
		return iq, err
	}
	if s := c.Query("limit"); s != "" {
		iq.echo.Set("limit", s)
	}
	return iq, nil
}

// next is the link to the page after the one ending at incident id.
func (iq incidentQuery) next(id uint64) string {
	v := url.Values{}
	for k, vs := range iq.echo {
		v[k] = vs
	}
	v.Set("cursor", strconv.FormatUint(id, 10))
	return "/api/v1/incidents?" + v.Encode()
}

// variant is the query as a render cache key.
func (iq incidentQuery) variant() string {
	v := url.Values{}
	for k, vs := range iq.echo {
		v[k] = vs
	}
	if iq.q.Before != 0 {
		v.Set("cursor", strconv.FormatUint(iq.q.Before, 10))
	}
	if iq.q.ServiceID != 0 { // a slug deleted and created again is another service
		v.Set("sid", strconv.FormatUint(uint64(iq.q.ServiceID), 10))
	}
	return v.Encode()
}

// listAllIncidents is GET /api/v1/incidents: incidents across services,
// newest first, filtered, one page at a time with a link to the next. A
// page is read from the database once per snapshot (incidents change only
// when the detector's tick writes them, before it publishes).
func (h *Handler) listAllIncidents(c *gin.Context) {
	iq, err := h.parseIncidentQuery(c)
	if err != nil {
		h.respondError(c, err)
		return
	}
	seq, _ := h.Status.Published()
	key := renderKey{kind: kindIncidents, variant: iq.variant()}
	if h.serveFresh(c, key, seq) {
		return
	}
	h.renderIncidents(c, key, seq, iq)
}

// renderIncidents reads and renders one page of incidents (a cache miss).
func (h *Handler) renderIncidents(c *gin.Context, key renderKey, seq uint64, iq incidentQuery) {
	spec := renderSpec{status: http.StatusOK, ctype: jsonUTF8, cc: snapshotCC, vary: varyEnc}
	r, err := h.render.get(key, seq, spec, func(buf *bytes.Buffer) error {
		q := iq.q
		q.Limit++ // one more says whether a next page exists
		list, err := h.Incidents.FindIncidents(c.Request.Context(), q)
		if err != nil {
			return err
		}
		out := IncidentPage{Items: make([]IncidentListItem, 0, min(len(list), iq.q.Limit))}
		for i, in := range list {
			if i == iq.q.Limit {
				link := iq.next(list[i-1].ID)
				out.Next = &link
				break
			}
			out.Items = append(out.Items, IncidentListItem{
				IncidentDTO: incidentOf(in.ServiceSlug, in.Incident),
				ServiceName: in.ServiceName,
				URL:         incidentPath(in.ServiceSlug, in.ID),
			})
		}
		return json.NewEncoder(buf).Encode(out)
	})
	if err != nil {
		h.respondError(c, err)
		return
	}
	serveRendered(c, r, h.renderMetrics, key.kind)
}

// incidentPath is where an incident is shown: in its service page's list.
func incidentPath(slug string, id uint64) string {
	return "/s/" + slug + "#incident-" + strconv.FormatUint(id, 10)
}
