package safehttp

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/outcry/outcry/models"
)

// The guard refuses a loopback server at connect time (nothing reaches it)
// unless private addresses are allowed; redirects are not followed unless
// asked.
func TestClientGuardsAndRedirects(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/go" {
			http.Redirect(w, r, "/there", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	_, err := NewClient(Options{}).Get(srv.URL + "/")
	if err == nil || !Refused(err) {
		t.Fatalf("guarded client: err %v; want refused", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback server was reached %d times", hits.Load())
	}
	resp, err := NewClient(Options{AllowPrivate: true}).Get(srv.URL + "/go")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("without FollowRedirects: %d; want the 302 itself", resp.StatusCode)
	}
	resp, err = NewClient(Options{AllowPrivate: true, FollowRedirects: true}).Get(srv.URL + "/go")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("with FollowRedirects: %d; want 204 from the target", resp.StatusCode)
	}
}

func TestCheckDestination(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1/", "http://169.254.169.254/x", "http://[::1]:8080/", "http://10.0.0.1/"} {
		err := CheckDestination(u, "official_status_url", false)
		if models.ErrorCode(err) != models.CodeInvalid {
			t.Errorf("%s: %v; want invalid", u, err)
		}
		if err := CheckDestination(u, "official_status_url", true); err != nil {
			t.Errorf("%s allowed: %v", u, err)
		}
	}
	for _, u := range []string{"https://status.openai.com", "http://93.184.215.14/", "http://localhost/"} {
		if err := CheckDestination(u, "url", false); err != nil {
			t.Errorf("%s: %v; want accepted", u, err)
		}
	}
}
