package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// openapiCC lets clients and CDNs keep the document for an hour: it changes
// only with a new release.
var openapiCC = []string{"public, max-age=3600"}

// openapiRoute serves docs/openapi.yaml (bundled, as JSON) at /openapi.json,
// compressed once, with a strong ETag, readable from any site.
func (h *Handler) openapiRoute(r *gin.Engine) {
	if h.OpenAPI == nil {
		return
	}
	doc := newRendered(0, renderSpec{status: http.StatusOK, ctype: jsonUTF8, cc: openapiCC, vary: varyEnc}, h.OpenAPI)
	r.GET("/openapi.json", cors, func(c *gin.Context) {
		serveRendered(c, doc, h.renderMetrics, kindOpenAPI)
	})
}
