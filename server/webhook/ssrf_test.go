package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// (d) Literal non-public addresses are refused when subscribing.
func TestCreateRefusesNonPublicAddresses(t *testing.T) {
	s := newService(t, openDB(t), func(o *Options) { o.AllowPrivate = false })
	for _, u := range []string{
		"http://127.0.0.1/", "http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data/",
		"http://[::1]/", "http://10.1.2.3/", "http://192.168.0.10/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
		"http://224.0.0.1/", "http://[fe80::1]/",
	} {
		w := models.Webhook{URL: u}
		if err := s.Create(context.Background(), &w); models.ErrorCode(err) != models.CodeInvalid {
			t.Errorf("%s: %v; want invalid", u, err)
		}
	}
	for _, u := range []string{"https://hooks.example.com/outcry", "http://93.184.215.14/", "http://localhost/"} {
		w := models.Webhook{URL: u} // localhost is a name: refused when connecting
		if err := s.Create(context.Background(), &w); err != nil {
			t.Errorf("%s: %v; want accepted", u, err)
		}
	}
	var n int64
	rawOf(s).Model(&models.Webhook{}).Where("url LIKE ? OR url LIKE ?", "%127.0.0.1%", "%169.254%").Count(&n)
	if n != 0 {
		t.Errorf("%d refused subscriptions stored", n)
	}
}

// (d) At connect time the dialer refuses loopback, link-local (metadata)
// and names that resolve to them; the attempt fails for good, logged as
// "refused", and nothing reaches the listener.
func TestDialerRefusesNonPublicAddresses(t *testing.T) {
	rcv := webhooktest.NewReceiver(t) // on 127.0.0.1: must never be reached
	port := rcv.URL[strings.LastIndex(rcv.URL, ":"):]
	db := openDB(t)
	s := newService(t, db, func(o *Options) { o.AllowPrivate = false })
	var hooks []models.Webhook
	for _, u := range []string{
		rcv.URL, "http://169.254.169.254/latest/meta-data/", "http://[::1]" + port + "/", "http://localhost" + port + "/",
	} {
		// Stored directly: the API would refuse the literal addresses already.
		w := models.Webhook{ID: models.NewID("wh_", time.Now()), URL: u, Secret: models.NewSecret()}
		if err := db.raw.Create(&w).Error; err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w)
	}
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	for _, h := range hooks {
		var d models.Delivery
		testkit.Eventually(t, 5*time.Second, "the refusal of "+h.URL, func() bool {
			d, _ = delivery(t, s, ev.ID, h.ID)
			return d.Status == models.DeliveryFailed
		})
		if !strings.HasPrefix(d.LastError, "refused") || len(d.Log) != 1 || !strings.HasPrefix(d.Log[0].Error, "refused") {
			t.Errorf("%s: error %q, %d attempts; want one attempt refused", h.URL, d.LastError, len(d.Log))
		}
	}
	if n := len(rcv.Requests()); n != 0 {
		t.Errorf("the loopback listener got %d requests", n)
	}
}
