package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

func healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 while every required dependency answers, 503 naming
// the ones that do not. A failing optional dependency is "degraded" and
// keeps the replica ready: a load balancer must not pull every replica at
// once because Redis is down while reports are still accepted. Callers
// see only "ok", "degraded" or "fail"; the cause is logged (once per change)
// because driver errors name internal hosts and ports.
func (h *Handler) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := make(map[string]string, len(h.Ready))
	ok := true
	for _, ch := range h.Ready {
		err := ch.Check(ctx)
		h.ready.note(h, ch.Name, err)
		switch {
		case err == nil:
			checks[ch.Name] = "ok"
		case ch.Optional:
			checks[ch.Name] = "degraded"
		default:
			checks[ch.Name] = "fail"
			ok = false
		}
	}
	status, word := http.StatusOK, "ready"
	if !ok {
		status, word = http.StatusServiceUnavailable, "not ready"
	}
	c.JSON(status, gin.H{"status": word, "checks": checks})
}

// readiness remembers each dependency's last error text so a failure is
// logged when it starts and when it ends, not on every probe.
type readiness struct {
	mu   sync.Mutex
	last map[string]string
}

func (r *readiness) note(h *Handler, name string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	r.mu.Lock()
	if r.last == nil {
		r.last = map[string]string{}
	}
	prev := r.last[name]
	r.last[name] = msg
	r.mu.Unlock()
	switch {
	case msg != "" && prev == "":
		h.log.Warn("readiness check failing", "check", name, "err", msg)
	case msg == "" && prev != "":
		h.log.Info("readiness check passing again", "check", name)
	}
}
