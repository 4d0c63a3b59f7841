package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/webhook"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

var _ WebhookAdmin = (*webhook.Service)(nil)

const testToken = "webhook-test-token-0123456789"

// fakeCatalog knows a fixed set of services.
type fakeCatalog map[string]models.Service

func (f fakeCatalog) Lookup(slug string) (models.Service, bool)   { s, ok := f[slug]; return s, ok }
func (fakeCatalog) Create(context.Context, *models.Service) error { return nil }
func (fakeCatalog) Update(context.Context, *models.Service) error { return nil }
func (fakeCatalog) Delete(context.Context, string) error          { return nil }

type webhookEnv struct {
	engine *gin.Engine
	db     *gorm.DB
}

// newWebhookEnv serves the webhook admin routes through a real Gin engine
// with the real webhook service on a temp SQLite database.
func newWebhookEnv(t *testing.T, allowPrivate bool) *webhookEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	path := filepath.Join(t.TempDir(), "x.db")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), path, log)
	if err != nil {
		t.Fatal(err)
	}
	// A second handle on the file, for what the tests check behind the API.
	db, err := gorm.Open(sqlite.Open(path+"?_busy_timeout=5000"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(1)
	svc := webhook.New(st, webhook.Options{AllowPrivate: allowPrivate, Log: log, Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx, st); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = svc.Close(context.Background())
		_ = sqlDB.Close()
		_ = st.Close()
	})
	h := New(Deps{Catalog: fakeCatalog{"chatgpt": {ID: 1, Slug: "chatgpt", Name: "ChatGPT"}, "sora": {ID: 2, Slug: "sora", Name: "Sora"}},
		AdminToken: testToken, Log: log, Webhooks: svc})
	r := gin.New()
	h.Routes(r)
	return &webhookEnv{engine: r, db: db}
}

// do sends an admin request; body is sent as JSON unless nil.
func (e *webhookEnv) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if body != nil {
		j, _ := json.Marshal(body)
		if s, ok := body.(string); ok {
			j = []byte(s)
		}
		req = httptest.NewRequest(method, path, bytes.NewReader(j))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// (e) Bad subscription input is refused with 422 (or 400/415 for a body
// that is not JSON) and nothing is stored.
func TestWebhookBadInputStoresNothing(t *testing.T) {
	e := newWebhookEnv(t, false)
	long := strings.Repeat("x", 501)
	for _, c := range []struct {
		name   string
		body   any
		status int
	}{
		{"no url", map[string]any{}, 422},
		{"not a url", map[string]any{"url": "not a url"}, 422},
		{"relative", map[string]any{"url": "/hooks/outcry"}, 422},
		{"ftp scheme", map[string]any{"url": "ftp://hooks.example.com/"}, 422},
		{"javascript scheme", map[string]any{"url": "javascript:alert(1)"}, 422},
		{"no host", map[string]any{"url": "http:///path"}, 422},
		{"loopback literal", map[string]any{"url": "http://127.0.0.1:9000/"}, 422},
		{"metadata address", map[string]any{"url": "http://169.254.169.254/latest/meta-data/"}, 422},
		{"ipv6 loopback", map[string]any{"url": "http://[::1]/"}, 422},
		{"unknown event", map[string]any{"url": "https://hooks.example.com/", "events": []string{"incident.exploded"}}, 422},
		{"ping is not a filter", map[string]any{"url": "https://hooks.example.com/", "events": []string{"ping"}}, 422},
		{"unknown service", map[string]any{"url": "https://hooks.example.com/", "services": []string{"myspace"}}, 422},
		{"bad format", map[string]any{"url": "https://hooks.example.com/", "format": "xml"}, 422},
		{"format in capitals", map[string]any{"url": "https://hooks.example.com/", "format": "Discord"}, 422},
		{"format not a string", map[string]any{"url": "https://hooks.example.com/", "format": 3}, 400},
		{"ntfy without a topic", map[string]any{"url": "https://ntfy.example.com/", "format": "ntfy"}, 422},
		{"ntfy topic with a dot", map[string]any{"url": "https://ntfy.example.com/a.b", "format": "ntfy"}, 422},
		{"long description", map[string]any{"url": "https://hooks.example.com/", "description": long}, 422},
		{"created disabled", map[string]any{"url": "https://hooks.example.com/", "disabled": true}, 422},
		{"malformed JSON", `{"url":`, 400},
	} {
		status, body := e.do(t, "POST", "/api/v1/webhooks", c.body)
		var eb ErrorBody
		if status != c.status || json.Unmarshal(body, &eb) != nil || eb.Error.Message == "" {
			t.Errorf("%s: %d %s; want %d in the error shape", c.name, status, body, c.status)
		}
	}
	var n int64
	e.db.Model(&models.Webhook{}).Count(&n)
	if n != 0 {
		t.Errorf("%d webhooks stored after bad input; want 0", n)
	}
}

// Every alert format can be chosen at creation and by PATCH, and is shown
// as chosen; a bad one, or an ntfy URL without a topic, is refused and
// changes nothing.
func TestWebhookFormats(t *testing.T) {
	e := newWebhookEnv(t, false)
	for _, f := range []struct{ format, url string }{
		{"json", "https://hooks.example.com/a"}, {"slack", "https://hooks.slack.com/services/T/B/x"},
		{"discord", "https://discord.com/api/webhooks/1/tok"}, {"teams", "https://prod-1.westus.logic.azure.com/workflows/x?sig=y"},
		{"ntfy", "https://ntfy.sh/outcry-alerts"},
	} {
		status, body := e.do(t, "POST", "/api/v1/webhooks", map[string]any{"url": f.url, "format": f.format})
		var dto WebhookDTO
		if status != http.StatusCreated || json.Unmarshal(body, &dto) != nil || dto.Format != f.format {
			t.Fatalf("create %s: %d %s", f.format, status, body)
		}
		var stored models.Webhook
		if err := e.db.Take(&stored, "id = ?", dto.ID).Error; err != nil || (stored.Format != f.format && f.format != "json") {
			t.Errorf("%s stored as %q (%v)", f.format, stored.Format, err)
		}
	}
	status, body := e.do(t, "POST", "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.com/"})
	var dto WebhookDTO
	_ = json.Unmarshal(body, &dto)
	path := "/api/v1/webhooks/" + dto.ID
	for _, bad := range []map[string]any{{"format": "telegram"}, {"format": "ntfy"}, {"format": "ntfy", "url": "https://ntfy.sh/"}} {
		if status, body = e.do(t, "PATCH", path, bad); status != 422 {
			t.Errorf("PATCH %v: %d %s; want 422", bad, status, body)
		}
	}
	var stored models.Webhook
	if err := e.db.Take(&stored, "id = ?", dto.ID).Error; err != nil || stored.Format != models.FormatStandard || stored.URL != "https://hooks.example.com/" {
		t.Errorf("after refused patches: %q %q %v; want the standard format and the old URL", stored.Format, stored.URL, err)
	}
	if status, body = e.do(t, "PATCH", path, map[string]any{"format": "ntfy", "url": "https://ntfy.example.com/ops"}); status != 200 || !strings.Contains(string(body), `"format":"ntfy"`) {
		t.Errorf("PATCH to ntfy with a topic URL: %d %s", status, body)
	}
}

// The whole admin surface: create (secret shown once), list and get
// (never a secret), patch, rotate, test ping, deliveries, redeliver, delete.
func TestWebhookAdminAPI(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	e := newWebhookEnv(t, true)

	status, body := e.do(t, "POST", "/api/v1/webhooks", map[string]any{
		"url": rcv.URL + "/outcry", "services": []string{"sora", "chatgpt", "sora"}, "events": []string{"incident.opened"}, "description": " pager ",
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created WebhookWithSecret
	_ = json.Unmarshal(body, &created)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(created.Secret, "whsec_"))
	if !strings.HasPrefix(created.Secret, "whsec_") || err != nil || len(key) < 24 {
		t.Fatalf("secret %q: want whsec_ and base64 of 24+ bytes", created.Secret)
	}
	if strings.Join(created.Services, ",") != "chatgpt,sora" || created.Format != "json" || created.Description != "pager" {
		t.Errorf("created %+v", created.WebhookDTO)
	}
	path := "/api/v1/webhooks/" + created.ID

	for _, p := range []string{"/api/v1/webhooks", path} {
		status, body = e.do(t, "GET", p, nil)
		if status != 200 || strings.Contains(string(body), created.Secret) || strings.Contains(string(body), `"secret"`) {
			t.Errorf("GET %s: %d %s; want 200 without the secret", p, status, body)
		}
	}
	var list List[WebhookDTO]
	_ = json.Unmarshal(body, &list)
	if status, body = e.do(t, "GET", "/api/v1/webhooks", nil); json.Unmarshal(body, &list) != nil || len(list.Items) != 1 {
		t.Errorf("list: %s", body)
	}

	status, body = e.do(t, "PATCH", path, map[string]any{"format": "slack", "disabled": true})
	var dto WebhookDTO
	_ = json.Unmarshal(body, &dto)
	if status != 200 || !dto.Disabled || dto.DisabledAt == nil || dto.DisabledReason == "" || dto.Format != "slack" {
		t.Errorf("disable: %d %s", status, body)
	}
	if status, body = e.do(t, "POST", path+"/test", nil); status != http.StatusConflict {
		t.Errorf("ping a disabled webhook: %d %s; want 409", status, body)
	}
	status, body = e.do(t, "PATCH", path, map[string]any{"disabled": false, "format": "json", "services": []string{"nope"}})
	if status != 422 {
		t.Errorf("patch with an unknown service: %d %s; want 422", status, body)
	}
	status, body = e.do(t, "PATCH", path, map[string]any{"disabled": false, "format": "json"})
	_ = json.Unmarshal(body, &dto)
	if status != 200 || dto.Disabled || dto.DisabledAt != nil || dto.DisabledReason != "" {
		t.Errorf("enable: %d %s", status, body)
	}

	status, body = e.do(t, "POST", path+"/rotate-secret", nil)
	var rotated WebhookWithSecret
	_ = json.Unmarshal(body, &rotated)
	if status != 200 || rotated.Secret == created.Secret || rotated.PreviousSecretUntil == nil {
		t.Fatalf("rotate: %d %s", status, body)
	}

	status, body = e.do(t, "POST", path+"/test", nil)
	var ping PingDTO
	if status != http.StatusAccepted || json.Unmarshal(body, &ping) != nil || ping.Type != "ping" {
		t.Fatalf("test: %d %s", status, body)
	}
	var deliveries List[DeliveryDTO]
	testkit.Eventually(t, 5*time.Second, "the ping to be delivered", func() bool {
		_, body = e.do(t, "GET", path+"/deliveries", nil)
		_ = json.Unmarshal(body, &deliveries)
		return len(deliveries.Items) == 1 && deliveries.Items[0].Status == models.DeliverySucceeded
	})
	d := deliveries.Items[0]
	if d.EventID != ping.EventID || d.Attempts != 1 || len(d.Log) != 1 || d.Log[0].StatusCode != 200 || d.NextAttemptAt != nil {
		t.Errorf("delivery %s", body)
	}
	req := rcv.Requests()[0]
	for _, secret := range []string{rotated.Secret, created.Secret} {
		if err := webhooktest.Verify(secret, req); err != nil {
			t.Errorf("ping signature with %s…: %v", secret[:10], err)
		}
	}

	if status, body = e.do(t, "POST", "/api/v1/deliveries/"+d.ID+"/redeliver", nil); status != http.StatusAccepted {
		t.Errorf("redeliver: %d %s", status, body)
	}
	if status, _ = e.do(t, "POST", "/api/v1/deliveries/dlv_missing/redeliver", nil); status != 404 {
		t.Errorf("redeliver a missing delivery: %d; want 404", status)
	}
	if status, _ = e.do(t, "GET", path+"/deliveries?limit=0", nil); status != 422 {
		t.Errorf("deliveries?limit=0: %d; want 422", status)
	}
	if status, _ = e.do(t, "DELETE", path, nil); status != http.StatusNoContent {
		t.Errorf("delete: %d", status)
	}
	for _, p := range []string{path, path + "/deliveries"} {
		if status, _ = e.do(t, "GET", p, nil); status != 404 {
			t.Errorf("GET %s after delete: %d; want 404", p, status)
		}
	}

	req2 := httptest.NewRequest("GET", "/api/v1/webhooks", nil)
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req2)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d; want 401", w.Code)
	}
}
