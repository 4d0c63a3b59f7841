package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// MaxAdminBody bounds admin request bodies.
const MaxAdminBody = 16 << 10

// listServices is GET /api/v1/services: one page of the catalogue by slug
// (?cursor=, ?limit= up to 200, ?q= searching names and slugs) with a link
// to the next, and on the first page the services with problems now.
// Each page is rendered once per snapshot.
func (h *Handler) listServices(c *gin.Context) {
	lq, err := parseListQuery(c, listDefault, listMax)
	if err != nil {
		h.respondError(c, err)
		return
	}
	ix := h.catalog.index(h.Status)
	h.cachedJSON(c, renderKey{kind: kindList, variant: lq.variant()}, ix.seq, func() any {
		items, next := ix.page(lq)
		out := ServicePage{Items: make([]ServiceSummary, len(items))}
		for i, st := range items {
			out.Items[i] = summaryOf(*st)
		}
		if next != "" {
			link := lq.link("/api/v1/services", next, listDefault)
			out.Next = &link
		}
		if lq.Cursor == "" {
			problems, total := ix.problemsNow(lq.q, problemsShown)
			list := make([]ServiceSummary, len(problems))
			for i, st := range problems {
				list[i] = summaryOf(*st)
			}
			out.Problems, out.ProblemsTotal = &list, &total
		}
		return out
	})
}

var jsonUTF8 = []string{"application/json; charset=utf-8"}

// cachedJSON answers v() encoded as JSON under key, from the render cache
// while inputs are unchanged.
func (h *Handler) cachedJSON(c *gin.Context, key renderKey, inputs uint64, v func() any) {
	spec := renderSpec{status: http.StatusOK, ctype: jsonUTF8, cc: snapshotCC, vary: varyEnc}
	r, err := h.render.get(key, inputs, spec, func(buf *bytes.Buffer) error {
		return json.NewEncoder(buf).Encode(v())
	})
	if err != nil {
		h.respondError(c, err)
		return
	}
	serveRendered(c, r, h.renderMetrics, key.kind)
}

func (h *Handler) status(c *gin.Context) (models.ServiceStatus, bool) {
	st, ok := h.lookup(c.Param("slug"))
	if !ok {
		h.respondError(c, models.Errorf(models.CodeNotFound, "no service %q", c.Param("slug")))
	}
	return st, ok
}

// getService is a service's live status (what the widget shows), rendered
// once per snapshot of the service.
func (h *Handler) getService(c *gin.Context) {
	st, ok := h.status(c)
	if !ok {
		return
	}
	key := renderKey{kind: kindStatus, slug: st.Service.Slug}
	if !h.serveFresh(c, key, h.officialInputs(st, pageInputs(st))) {
		h.renderStatus(c, key, st)
	}
}

// renderStatus renders and answers a service's status (a cache miss).
func (h *Handler) renderStatus(c *gin.Context, key renderKey, st models.ServiceStatus) {
	h.cachedJSON(c, key, h.officialInputs(st, pageInputs(st)), func() any {
		ov := h.official(c.Request.Context(), st)
		if ov.Lead != nil {
			st = withAcks(st, ov.Lead.Acks)
		}
		d := detailOf(st)
		if ov.Status != nil {
			d.Official = officialOf(*ov.Status)
		}
		if ov.Lead != nil {
			d.OfficialLead = leadOf(*ov.Lead)
		}
		return d
	})
}

func (h *Handler) timeseries(c *gin.Context) {
	st, ok := h.status(c)
	if !ok {
		return
	}
	hours, err := queryInt(c, "hours", 24, 1, 24)
	if err != nil {
		h.respondError(c, err)
		return
	}
	n := hours * 4
	series := st.Series
	if len(series) > n {
		series = series[len(series)-n:]
	}
	c.JSON(http.StatusOK, Timeseries{Service: st.Service.Slug, BucketSeconds: int(models.BucketSize.Seconds()), Items: nonNil(series)})
}

func (h *Handler) listIncidents(c *gin.Context) {
	st, ok := h.status(c)
	if !ok {
		return
	}
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		h.respondError(c, err)
		return
	}
	list, err := h.Incidents.Incidents(c.Request.Context(), st.Service.ID, limit)
	if err != nil {
		h.respondError(c, err)
		return
	}
	items := make([]IncidentDTO, 0, len(list))
	for _, in := range list {
		items = append(items, incidentOf(st.Service.Slug, in))
	}
	c.JSON(http.StatusOK, List[IncidentDTO]{Items: items})
}

func (h *Handler) createService(c *gin.Context) {
	var in ServiceInput
	if !h.bindAdmin(c, &in) {
		return
	}
	svc := models.Service{Slug: in.Slug, Name: in.Name, Problems: in.Problems}
	if in.ColdStart != nil {
		svc.ColdStart = *in.ColdStart
	}
	setOfficial(&svc, in)
	if err := h.Catalog.Create(c.Request.Context(), &svc); err != nil {
		h.respondError(c, err)
		return
	}
	c.Header("Location", "/api/v1/services/"+svc.Slug)
	c.JSON(http.StatusCreated, adminOf(svc))
}

func (h *Handler) updateService(c *gin.Context) {
	svc, ok := h.Catalog.Lookup(c.Param("slug"))
	if !ok {
		h.respondError(c, models.Errorf(models.CodeNotFound, "no service %q", c.Param("slug")))
		return
	}
	var in ServiceInput
	if !h.bindAdmin(c, &in) {
		return
	}
	if in.Slug != "" && in.Slug != svc.Slug {
		h.respondError(c, models.Errorf(models.CodeInvalid, "the slug cannot be changed"))
		return
	}
	if in.Name != "" {
		svc.Name = in.Name
	}
	if in.Problems != nil {
		svc.Problems = in.Problems
	}
	if in.ColdStart != nil {
		svc.ColdStart = *in.ColdStart
	}
	setOfficial(&svc, in)
	if err := h.Catalog.Update(c.Request.Context(), &svc); err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, adminOf(svc))
}

// setOfficial applies the official source fields the body carries.
func setOfficial(svc *models.Service, in ServiceInput) {
	if in.OfficialStatusURL != nil {
		svc.OfficialStatusURL = *in.OfficialStatusURL
		if *in.OfficialStatusURL == "" && in.OfficialComponents == nil {
			svc.OfficialComponents = nil
		}
	}
	if in.OfficialComponents != nil {
		svc.OfficialComponents = append([]string(nil), (*in.OfficialComponents)...)
	}
}

func (h *Handler) deleteService(c *gin.Context) {
	if err := h.Catalog.Delete(c.Request.Context(), c.Param("slug")); err != nil {
		h.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// bindAdmin reads an admin JSON body: 415, 413 and 400 as for reports, and
// 422 for a field the body may not have (a typo would otherwise change
// nothing and answer 200).
func (h *Handler) bindAdmin(c *gin.Context, v any) bool {
	if !isJSON(c.GetHeader("Content-Type")) {
		h.respondError(c, models.Errorf(models.CodeUnsupported, "send JSON with Content-Type: application/json"))
		return false
	}
	var raw json.RawMessage
	if err := readJSON(c, MaxAdminBody, &raw); err != nil {
		h.respondError(c, err)
		return false
	}
	if err := decodeStrict(raw, v); err != nil {
		h.respondError(c, err)
		return false
	}
	return true
}

// decodeStrict decodes one JSON object into v, refusing unknown fields.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return models.Errorf(models.CodeMalformed, "field %q must be a %s", te.Field, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return models.Errorf(models.CodeInvalid, "%s is not a field of this body", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return models.Errorf(models.CodeMalformed, "malformed JSON: %v", err)
}

// lookup is a service's status from the snapshot; a service created since
// the last detector tick is shown as having no problems yet, alike on the
// pages, the widget's JSON and the badges.
func (h *Handler) lookup(slug string) (models.ServiceStatus, bool) {
	if st, ok := h.Status.Status(slug); ok {
		return st, true
	}
	if svc, ok := h.Catalog.Lookup(slug); ok {
		return models.ServiceStatus{Service: svc, Level: models.LevelOK, UpdatedAt: svc.UpdatedAt}, true
	}
	return models.ServiceStatus{}, false
}
