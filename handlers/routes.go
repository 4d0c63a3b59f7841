package handlers

import (
	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// Routes is Outcry's whole URL surface.
func (h *Handler) Routes(r *gin.Engine) {
	r.Use(h.observe(newRequestIDs()), h.recovery())
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) {
		h.respondError(c, models.Errorf(models.CodeNotFound, "no such page or endpoint"))
	})
	r.NoMethod(h.noMethod)

	r.GET("/healthz", healthz)
	r.GET("/readyz", h.readyz)
	if h.MetricsHandler != nil {
		r.GET("/metrics", gin.WrapH(h.MetricsHandler))
	}
	h.openapiRoute(r)

	api := r.Group("/api/v1")
	public := api.Group("", cors)
	public.OPTIONS("/services", func(*gin.Context) {})
	public.OPTIONS("/incidents", func(*gin.Context) {})
	public.OPTIONS("/services/:slug/*rest", func(*gin.Context) {})
	public.GET("/services", h.listServices)
	public.GET("/incidents", h.listAllIncidents)
	// A service's status is the widget's data, polled by every page that
	// embeds it: answered from the render cache without observe (which
	// costs more than the answer), like the embed and badges (pages.go).
	hotAPI := r.Group("/api/v1")
	hotAPI.Handlers = gin.HandlersChain{h.recovery(), cors}
	hotAPI.GET("/services/:slug", h.getService)
	public.GET("/services/:slug/timeseries", h.timeseries)
	public.GET("/services/:slug/incidents", h.listIncidents)
	public.POST("/services/:slug/reports", h.postReport)

	admin := api.Group("", h.admin())
	admin.POST("/services", h.createService)
	admin.PATCH("/services/:slug", h.updateService)
	admin.DELETE("/services/:slug", h.deleteService)
	if h.Webhooks != nil {
		h.webhookRoutes(admin, h.Webhooks)
	}

	h.statuspageRoutes(r)
	h.feedRoutes(r)
	h.publicPages(r)
}

// noMethod answers a known path asked with a method it does not serve.
func (h *Handler) noMethod(c *gin.Context) {
	h.respondError(c, models.Errorf(models.CodeMethod, "method %s is not allowed here", methodLabel(c.Request.Method)))
}
