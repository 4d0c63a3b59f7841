package handlers

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// MaxAdminBody bounds admin request bodies.
const MaxAdminBody = 16 << 10

func (h *Handler) listServices(c *gin.Context) {
	all := h.Status.All()
	items := make([]ServiceSummary, 0, len(all))
	for _, st := range all {
		items = append(items, summaryOf(st))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Slug < items[j].Slug })
	c.JSON(http.StatusOK, List[ServiceSummary]{Items: items})
}

func (h *Handler) status(c *gin.Context) (models.ServiceStatus, bool) {
	st, ok := h.Status.Status(c.Param("slug"))
	if !ok {
		h.respondError(c, models.Errorf(models.CodeNotFound, "no service %q", c.Param("slug")))
	}
	return st, ok
}

func (h *Handler) getService(c *gin.Context) {
	if st, ok := h.status(c); ok {
		c.JSON(http.StatusOK, detailOf(st))
	}
}

func (h *Handler) timeseries(c *gin.Context) {
	st, ok := h.status(c)
	if !ok {
		return
	}
	hours := 24
	if q := c.Query("hours"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 24 {
			h.respondError(c, models.Errorf(models.CodeInvalid, "hours must be a whole number from 1 to 24"))
			return
		}
		hours = n
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
	limit := 50
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 500 {
			h.respondError(c, models.Errorf(models.CodeInvalid, "limit must be a whole number from 1 to 500"))
			return
		}
		limit = n
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
	if err := h.Catalog.Update(c.Request.Context(), &svc); err != nil {
		h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, adminOf(svc))
}

func (h *Handler) deleteService(c *gin.Context) {
	if err := h.Catalog.Delete(c.Request.Context(), c.Param("slug")); err != nil {
		h.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// bindAdmin reads an admin JSON body: 415, 413 and 400 as for reports.
func (h *Handler) bindAdmin(c *gin.Context, v any) bool {
	if !isJSON(c.GetHeader("Content-Type")) {
		h.respondError(c, models.Errorf(models.CodeUnsupported, "send JSON with Content-Type: application/json"))
		return false
	}
	if err := readJSON(c, MaxAdminBody, v); err != nil {
		h.respondError(c, err)
		return false
	}
	return true
}
