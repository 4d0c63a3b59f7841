package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// WebhookAdmin manages webhook subscriptions and their deliveries
// (implemented by server/webhook.Service).
type WebhookAdmin interface {
	Create(ctx context.Context, w *models.Webhook) error // fills in ID and Secret
	List(ctx context.Context) ([]models.Webhook, error)
	Get(ctx context.Context, id string) (models.Webhook, error)
	Update(ctx context.Context, id string, p models.WebhookPatch) (models.Webhook, error)
	Delete(ctx context.Context, id string) error
	RotateSecret(ctx context.Context, id string) (models.Webhook, error) // the new Secret filled in
	SendTest(ctx context.Context, id string) (models.Event, error)
	Deliveries(ctx context.Context, webhookID string, limit int) ([]models.Delivery, error)
	Redeliver(ctx context.Context, deliveryID string) (models.Delivery, error)
}

// webhookAPI serves the webhook admin routes. It hands the service
// c.Request.Context(), never the pooled *gin.Context: database/sql keeps
// watching a query's context from its own goroutine after the handler
// returns.
type webhookAPI struct {
	h  *Handler
	wh WebhookAdmin
}

// webhookRoutes registers the webhook admin routes on an admin-guarded group.
func (h *Handler) webhookRoutes(admin *gin.RouterGroup, wh WebhookAdmin) {
	a := &webhookAPI{h: h, wh: wh}
	admin.POST("/webhooks", a.create)
	admin.GET("/webhooks", a.list)
	admin.GET("/webhooks/:id", a.get)
	admin.PATCH("/webhooks/:id", a.update)
	admin.DELETE("/webhooks/:id", a.delete)
	admin.POST("/webhooks/:id/rotate-secret", a.rotate)
	admin.POST("/webhooks/:id/test", a.test)
	admin.GET("/webhooks/:id/deliveries", a.deliveries)
	admin.POST("/deliveries/:id/redeliver", a.redeliver)
}

// checkServices makes sure every slug names a service.
func (a *webhookAPI) checkServices(slugs *[]string) error {
	if slugs == nil {
		return nil
	}
	for _, s := range *slugs {
		if _, ok := a.h.Catalog.Lookup(s); !ok {
			return models.Errorf(models.CodeInvalid, "unknown service %q", s)
		}
	}
	return nil
}

// input binds a WebhookInput and checks its services.
func (a *webhookAPI) input(c *gin.Context) (WebhookInput, bool) {
	var in WebhookInput
	if !a.h.bindAdmin(c, &in) {
		return in, false
	}
	if err := a.checkServices(in.Services); err != nil {
		a.h.respondError(c, err)
		return in, false
	}
	return in, true
}

func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}

func (a *webhookAPI) create(c *gin.Context) {
	in, ok := a.input(c)
	if !ok {
		return
	}
	if in.Disabled != nil {
		a.h.respondError(c, models.Errorf(models.CodeInvalid, "a new webhook cannot be disabled"))
		return
	}
	w := models.Webhook{
		URL: deref(in.URL), Services: deref(in.Services), Events: deref(in.Events),
		Description: deref(in.Description), Format: deref(in.Format),
	}
	if err := a.wh.Create(c.Request.Context(), &w); err != nil {
		a.h.respondError(c, err)
		return
	}
	c.Header("Location", "/api/v1/webhooks/"+w.ID)
	c.JSON(http.StatusCreated, WebhookWithSecret{WebhookDTO: webhookOf(w, a.h.Now()), Secret: w.Secret})
}

func (a *webhookAPI) list(c *gin.Context) {
	all, err := a.wh.List(c.Request.Context())
	if err != nil {
		a.h.respondError(c, err)
		return
	}
	items := make([]WebhookDTO, 0, len(all))
	for _, w := range all {
		items = append(items, webhookOf(w, a.h.Now()))
	}
	c.JSON(http.StatusOK, List[WebhookDTO]{Items: items})
}

// answer renders a subscription or the error that came instead.
func (a *webhookAPI) answer(c *gin.Context, w models.Webhook, err error) {
	if err != nil {
		a.h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookOf(w, a.h.Now()))
}

func (a *webhookAPI) get(c *gin.Context) {
	w, err := a.wh.Get(c.Request.Context(), c.Param("id"))
	a.answer(c, w, err)
}

func (a *webhookAPI) update(c *gin.Context) {
	in, ok := a.input(c)
	if !ok {
		return
	}
	w, err := a.wh.Update(c.Request.Context(), c.Param("id"), models.WebhookPatch{
		URL: in.URL, Services: in.Services, Events: in.Events, Description: in.Description,
		Format: in.Format, Disabled: in.Disabled,
	})
	a.answer(c, w, err)
}

func (a *webhookAPI) delete(c *gin.Context) {
	if err := a.wh.Delete(c.Request.Context(), c.Param("id")); err != nil {
		a.h.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *webhookAPI) rotate(c *gin.Context) {
	w, err := a.wh.RotateSecret(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.h.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, WebhookWithSecret{WebhookDTO: webhookOf(w, a.h.Now()), Secret: w.Secret})
}

func (a *webhookAPI) test(c *gin.Context) {
	ev, err := a.wh.SendTest(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.h.respondError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, PingDTO{EventID: ev.ID, Type: ev.Type})
}

func (a *webhookAPI) deliveries(c *gin.Context) {
	limit, err := queryInt(c, "limit", 50, 1, 500)
	if err != nil {
		a.h.respondError(c, err)
		return
	}
	list, err := a.wh.Deliveries(c.Request.Context(), c.Param("id"), limit)
	if err != nil {
		a.h.respondError(c, err)
		return
	}
	items := make([]DeliveryDTO, 0, len(list))
	for _, d := range list {
		items = append(items, deliveryOf(d))
	}
	c.JSON(http.StatusOK, List[DeliveryDTO]{Items: items})
}

func (a *webhookAPI) redeliver(c *gin.Context) {
	d, err := a.wh.Redeliver(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.h.respondError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, deliveryOf(d))
}
