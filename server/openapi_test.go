package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/official/officialtest"
	"github.com/outcry/outcry/server/servertest"
)

// The OpenAPI document (docs/openapi.yaml, served bundled at /openapi.json)
// is checked against the real app in both directions:
//
//   - every route the Gin engine registers is documented, and every
//     documented operation is a route (TestOpenAPIDocumentsEveryRoute);
//   - real answers of a real app (SQLite, Redis, an open incident, a webhook
//     with deliveries) validate against the schema the document gives for
//     their status code and media type, errors included, and every
//     documented operation is called at least once
//     (TestOpenAPIResponsesValidate).
//
// When you add a route: document it in docs/openapi.yaml and add a call to
// it in TestOpenAPIResponsesValidate below.

const openapiFile = "docs/openapi.yaml"

// statuspageEndpoints are the Statuspage-compatible API's files below /api/v2/.
var statuspageEndpoints = []string{
	"status.json", "summary.json", "components.json", "incidents.json", "incidents/unresolved.json",
	"scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json",
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// ginToOpenAPI turns a Gin route path into an OpenAPI path template:
// /s/:slug → /s/{slug}, /static/*file → /static/{file}.
func ginToOpenAPI(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// openapiDoc is the document as the app serves it.
func openapiDoc(t *testing.T, app *servertest.App) (map[string]any, []byte) {
	t.Helper()
	r := app.Do(t, "GET", "/openapi.json", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", r.Status, r.Body)
	}
	var doc map[string]any
	r.JSON(t, &doc)
	return doc, r.Body
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	app := servertest.Start(t, nil)
	doc, _ := openapiDoc(t, app)
	paths, _ := doc["paths"].(map[string]any)

	registered := map[string]bool{} // "get /s/{slug}"
	var missing []string
	for _, r := range app.Handler().(*gin.Engine).Routes() {
		p, m := ginToOpenAPI(r.Path), strings.ToLower(r.Method)
		registered[m+" "+p] = true
		item, _ := paths[p].(map[string]any)
		if item[m] == nil {
			missing = append(missing, fmt.Sprintf(
				"%s %s (Gin route %q) is not documented: in %s under `paths:` add\n"+
					"  %s:\n    %s:\n      operationId: …\n      parameters: […]            # path parameters as {$ref: \"#/components/parameters/Slug\"} where they fit\n"+
					"      responses:\n        \"200\": {description: …, content: {application/json: {schema: {$ref: \"#/components/schemas/…\"}}}}\n"+
					"        \"404\": {$ref: \"#/components/responses/Error\"}   # every error status it can answer, each with the one error shape\n"+
					"  (merge with the path's other methods if `%s:` exists), then call it in TestOpenAPIResponsesValidate (server/openapi_test.go)",
				r.Method, p, r.Path, openapiFile, p, m, p))
		}
	}
	var extra []string
	for p, v := range paths {
		item, _ := v.(map[string]any)
		for _, m := range httpMethods {
			if item[m] != nil && !registered[m+" "+p] {
				extra = append(extra, fmt.Sprintf("%s %s is in %s but no route serves it: remove it, or register the route in handlers (routes.go)", strings.ToUpper(m), p, openapiFile))
			}
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, s := range append(missing, extra...) {
		t.Error(s)
	}
}

// contract validates answers against the document.
type contract struct {
	doc     map[string]any
	c       *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema
	called  map[string]bool // "get /s/{slug}" → called
}

const docURL = "https://outcry.invalid/openapi.json"

func newContract(t *testing.T, doc map[string]any) *contract {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		t.Fatal(err)
	}
	return &contract{doc: doc, c: c, schemas: map[string]*jsonschema.Schema{}, called: map[string]bool{}}
}

// pointerPart escapes one JSON pointer token for a URI fragment.
func pointerPart(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	return url.PathEscape(s)
}

// at resolves a local "#/a/b" reference in the document.
func (k *contract) at(ref string) (map[string]any, error) {
	var v any = k.doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s points nowhere", ref)
		}
		v = m[part]
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s points nowhere", ref)
	}
	return m, nil
}

// check validates one answer to method on the path template tmpl.
func (k *contract) check(method, tmpl string, status int, header http.Header, body []byte) error {
	m := strings.ToLower(method)
	k.called[m+" "+tmpl] = true
	paths, _ := k.doc["paths"].(map[string]any)
	item, _ := paths[tmpl].(map[string]any)
	op, _ := item[m].(map[string]any)
	if op == nil {
		return fmt.Errorf("%s %s is not in %s", method, tmpl, openapiFile)
	}
	responses, _ := op["responses"].(map[string]any)
	resp, _ := responses[strconv.Itoa(status)].(map[string]any)
	if resp == nil {
		return fmt.Errorf("%s %s answered %d, which %s does not document for it (add \"%d\" to its responses)", method, tmpl, status, openapiFile, status)
	}
	ptr := "#/paths/" + pointerPart(tmpl) + "/" + m + "/responses/" + strconv.Itoa(status)
	if ref, ok := resp["$ref"].(string); ok {
		r, err := k.at(ref)
		if err != nil {
			return err
		}
		resp, ptr = r, ref
	}
	content, _ := resp["content"].(map[string]any)
	if content == nil {
		if len(body) > 0 {
			return fmt.Errorf("%s %s %d: the document says no body, got %d bytes: %.200s", method, tmpl, status, len(body), body)
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("%s %s %d: Content-Type %q: %v", method, tmpl, status, header.Get("Content-Type"), err)
	}
	key := mt
	if content[key] == nil {
		key = "*/*"
	}
	media, _ := content[key].(map[string]any)
	if media == nil {
		return fmt.Errorf("%s %s %d answered %s, which the document does not list (it has %v)", method, tmpl, status, mt, keys(content))
	}
	if mt != "application/json" {
		return nil
	}
	if media["schema"] == nil {
		return fmt.Errorf("%s %s %d: no schema for %s", method, tmpl, status, key)
	}
	loc := docURL + ptr + "/content/" + pointerPart(key) + "/schema"
	s := k.schemas[loc]
	if s == nil {
		if s, err = k.c.Compile(loc); err != nil {
			return fmt.Errorf("compiling %s: %v", loc, err)
		}
		k.schemas[loc] = s
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s %d: the body is not JSON: %v: %.200s", method, tmpl, status, err, body)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("%s %s %d does not match %s:\n%v\nbody: %.2000s", method, tmpl, status, ptr, err, body)
	}
	return nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// exchange is one request for the contract test.
type exchange struct {
	method, tmpl, path string
	body               any // nil, string (sent as is), or a value sent as JSON
	headers            []string
	want               int
}

func TestOpenAPIResponsesValidate(t *testing.T) {
	start := servertest.Now().Truncate(15 * time.Minute).Add(7 * time.Minute)
	clock := servertest.NewClock(start)
	app := servertest.Start(t, nil, func(o *server.Options) {
		o.RunnerInterval, o.OfficialInterval = 20*time.Millisecond, 20*time.Millisecond
		o.Now = clock.Now
	})
	doc, _ := openapiDoc(t, app)
	k := newContract(t, doc)

	// A receiver for webhook deliveries.
	var received atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	auth := []string{"Authorization", "Bearer " + servertest.AdminToken}
	do := func(x exchange) servertest.Response {
		t.Helper()
		var rd io.Reader
		headers := x.headers
		switch b := x.body.(type) {
		case nil:
		case string:
			rd = strings.NewReader(b)
		default:
			j, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(j)
			headers = append([]string{"Content-Type", "application/json"}, headers...)
		}
		req, err := http.NewRequest(x.method, app.URL+x.path, rd)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", x.method, x.path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r := servertest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
		if r.Status != x.want {
			t.Errorf("%s %s: status %d, want %d: %.300s", x.method, x.path, r.Status, x.want, b)
		}
		if err := k.check(x.method, x.tmpl, r.Status, r.Header, r.Body); err != nil {
			t.Error(err)
		}
		return r
	}
	admin := func(x exchange) servertest.Response {
		t.Helper()
		x.headers = append(slices.Clone(auth), x.headers...)
		return do(x)
	}

	// The catalogue, through the admin API.
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 201,
		body: map[string]any{"slug": "chatgpt", "name": "ChatGPT", "problems": []string{"login", "app"}}})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 201,
		body: map[string]any{"slug": "acme", "name": "Acme", "problems": []string{"login"}, "cold_start": 50}})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 409,
		body: map[string]any{"slug": "acme", "name": "Acme", "problems": []string{"login"}}})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 422,
		body: map[string]any{"slug": "x", "name": "X", "problems": []string{"login"}, "colour": "red"}})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 400,
		body: `{"slug":`, headers: []string{"Content-Type", "application/json"}})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 415, body: `slug=x`,
		headers: []string{"Content-Type", "application/x-www-form-urlencoded"}})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 413,
		body: `{"name":"` + strings.Repeat("a", 20<<10) + `"}`, headers: []string{"Content-Type", "application/json"}})
	do(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 401,
		body: map[string]any{"slug": "nope", "name": "Nope", "problems": []string{"login"}}})
	admin(exchange{method: "PATCH", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/acme", want: 200, body: map[string]any{"name": "Acme Cloud"}})
	admin(exchange{method: "PATCH", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/acme", want: 422, body: map[string]any{"slug": "other"}})
	admin(exchange{method: "PATCH", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/nope", want: 404, body: map[string]any{"name": "N"}})

	// A service with an official status page (a fake Statuspage page on loopback).
	page := officialtest.NewPage(t, "statuspage", "Official", officialtest.Component{ID: "c", Name: "API", Status: "partial_outage"})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 201,
		body: map[string]any{"slug": "official", "name": "Official", "problems": []string{"login"}, "official_status_url": page.URL, "official_components": []string{"API"}}})
	admin(exchange{method: "POST", tmpl: "/api/v1/services", path: "/api/v1/services", want: 422,
		body: map[string]any{"slug": "official2", "name": "Official", "problems": []string{"login"}, "official_status_url": "ftp://status.example.com"}})
	admin(exchange{method: "PATCH", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/official", want: 200,
		body: map[string]any{"official_components": []string{"API", "Website"}}})
	eventually(t, "the official status", func() bool {
		return strings.Contains(string(app.Do(t, "GET", "/api/v1/services/official", nil).Body), `"status":"partial_outage"`)
	})
	do(exchange{method: "GET", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/official", want: 200})
	do(exchange{method: "GET", tmpl: "/badge/{file}", path: "/badge/official.json?official=1", want: 200})

	// Reports: accepted, and each refusal.
	do(exchange{method: "POST", tmpl: "/api/v1/services/{slug}/reports", path: "/api/v1/services/acme/reports", want: 202,
		body: map[string]any{"problem": "login", "region": "KR", "note": "spinner"}, headers: []string{"X-Forwarded-For", "198.51.100.7"}})
	do(exchange{method: "POST", tmpl: "/api/v1/services/{slug}/reports", path: "/api/v1/services/acme/reports", want: 422,
		body: map[string]any{"problem": "nothing"}, headers: []string{"X-Forwarded-For", "198.51.100.8"}})
	do(exchange{method: "POST", tmpl: "/api/v1/services/{slug}/reports", path: "/api/v1/services/acme/reports", want: 400,
		body: `{"problem":`, headers: []string{"Content-Type", "application/json", "X-Forwarded-For", "198.51.100.9"}})
	do(exchange{method: "POST", tmpl: "/api/v1/services/{slug}/reports", path: "/api/v1/services/acme/reports", want: 415,
		body: `problem=login`, headers: []string{"Content-Type", "text/plain", "X-Forwarded-For", "198.51.100.10"}})
	do(exchange{method: "POST", tmpl: "/api/v1/services/{slug}/reports", path: "/api/v1/services/acme/reports", want: 413,
		body: `{"problem":"login","note":"` + strings.Repeat("a", 5000) + `"}`, headers: []string{"Content-Type", "application/json", "X-Forwarded-For", "198.51.100.11"}})
	do(exchange{method: "POST", tmpl: "/api/v1/services/{slug}/reports", path: "/api/v1/services/nope/reports", want: 404,
		body: map[string]any{"problem": "login"}})
	for i := 0; ; i++ {
		r, err := http.NewRequest("POST", app.URL+"/api/v1/services/acme/reports", strings.NewReader(`{"problem":"login"}`))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Forwarded-For", "203.0.113.99")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			if err := k.check("POST", "/api/v1/services/{slug}/reports", resp.StatusCode, resp.Header, b); err != nil {
				t.Error(err)
			}
			break
		}
		if resp.StatusCode != http.StatusAccepted || i > 100 {
			t.Fatalf("report %d from one address: %d %s (no 429 yet)", i, resp.StatusCode, b)
		}
	}
	// The report form without JavaScript.
	do(exchange{method: "POST", tmpl: "/s/{slug}/report", path: "/s/acme/report", want: 303, body: "problem=login",
		headers: []string{"Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", "198.51.100.20"}})
	do(exchange{method: "POST", tmpl: "/s/{slug}/report", path: "/s/acme/report", want: 422, body: "problem=nothing",
		headers: []string{"Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", "198.51.100.21"}})
	do(exchange{method: "POST", tmpl: "/s/{slug}/report", path: "/s/nope/report", want: 404, body: "problem=login",
		headers: []string{"Content-Type", "application/x-www-form-urlencoded"}})

	// The Statuspage-compatible API, before and during an incident.
	statuspage := func() {
		for _, ep := range statuspageEndpoints {
			do(exchange{method: "GET", tmpl: "/api/v2/" + ep, path: "/api/v2/" + ep, want: 200})
			do(exchange{method: "GET", tmpl: "/s/{slug}/api/v2/" + ep, path: "/s/chatgpt/api/v2/" + ep, want: 200})
		}
	}
	statuspage()
	do(exchange{method: "GET", tmpl: "/s/{slug}/api/v2/summary.json", path: "/s/nope/api/v2/summary.json", want: 404})

	// An incident: a burst of distinct reporters at a new service opens one.
	burst(t, app, "chatgpt", 120, 0, "US")
	eventually(t, "an incident to open", func() bool { return view(t, app, "chatgpt").Incident != nil })

	// Public reads, with the incident open.
	statuspage()
	for _, x := range []exchange{
		{method: "GET", tmpl: "/api/v1/services", path: "/api/v1/services", want: 200},
		{method: "GET", tmpl: "/api/v1/services", path: "/api/v1/services?limit=1", want: 200},
		{method: "GET", tmpl: "/api/v1/services", path: "/api/v1/services?q=acme&limit=1&cursor=acme", want: 200},
		{method: "GET", tmpl: "/api/v1/services", path: "/api/v1/services?limit=0", want: 422},
		{method: "GET", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/chatgpt", want: 200},
		{method: "GET", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/acme", want: 200},
		{method: "GET", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/nope", want: 404},
		{method: "GET", tmpl: "/api/v1/services/{slug}/timeseries", path: "/api/v1/services/chatgpt/timeseries?hours=2", want: 200},
		{method: "GET", tmpl: "/api/v1/services/{slug}/timeseries", path: "/api/v1/services/chatgpt/timeseries?hours=25", want: 422},
		{method: "GET", tmpl: "/api/v1/services/{slug}/timeseries", path: "/api/v1/services/nope/timeseries", want: 404},
		{method: "GET", tmpl: "/api/v1/services/{slug}/incidents", path: "/api/v1/services/chatgpt/incidents", want: 200},
		{method: "GET", tmpl: "/api/v1/services/{slug}/incidents", path: "/api/v1/services/chatgpt/incidents?limit=x", want: 422},
		{method: "GET", tmpl: "/api/v1/services/{slug}/incidents", path: "/api/v1/services/nope/incidents", want: 404},
		{method: "GET", tmpl: "/api/v1/incidents", path: "/api/v1/incidents", want: 200},
		{method: "GET", tmpl: "/api/v1/incidents", path: "/api/v1/incidents?status=open&service=chatgpt&level=outage&since=2020-01-01T00:00:00Z&limit=1", want: 200},
		{method: "GET", tmpl: "/api/v1/incidents", path: "/api/v1/incidents?status=resolved&correlation=1&cursor=5", want: 200},
		{method: "GET", tmpl: "/api/v1/incidents", path: "/api/v1/incidents?limit=0", want: 422},
		{method: "GET", tmpl: "/api/v1/incidents", path: "/api/v1/incidents?service=nope", want: 404},
		{method: "OPTIONS", tmpl: "/api/v1/incidents", path: "/api/v1/incidents", want: 204, headers: []string{"Origin", "https://example.com", "Access-Control-Request-Method", "GET"}},
		{method: "GET", tmpl: "/feed.atom", path: "/feed.atom", want: 200},
		{method: "GET", tmpl: "/feed.atom", path: "/feed.atom?limit=201", want: 422},
		{method: "GET", tmpl: "/feed.rss", path: "/feed.rss?limit=1", want: 200},
		{method: "GET", tmpl: "/feed.rss", path: "/feed.rss?limit=x", want: 422},
		{method: "GET", tmpl: "/s/{slug}/feed.atom", path: "/s/chatgpt/feed.atom", want: 200},
		{method: "GET", tmpl: "/s/{slug}/feed.atom", path: "/s/nope/feed.atom", want: 404},
		{method: "GET", tmpl: "/s/{slug}/feed.atom", path: "/s/chatgpt/feed.atom?limit=0", want: 422},
		{method: "GET", tmpl: "/s/{slug}/feed.rss", path: "/s/chatgpt/feed.rss", want: 200},
		{method: "GET", tmpl: "/s/{slug}/feed.rss", path: "/s/nope/feed.rss", want: 404},
		{method: "GET", tmpl: "/s/{slug}/feed.rss", path: "/s/chatgpt/feed.rss?limit=-1", want: 422},
		{method: "OPTIONS", tmpl: "/api/v1/services", path: "/api/v1/services", want: 204, headers: []string{"Origin", "https://example.com", "Access-Control-Request-Method", "GET"}},
		{method: "OPTIONS", tmpl: "/api/v1/services/{slug}/{rest}", path: "/api/v1/services/chatgpt/reports", want: 204, headers: []string{"Origin", "https://example.com", "Access-Control-Request-Method", "POST"}},
		{method: "GET", tmpl: "/healthz", path: "/healthz", want: 200},
		{method: "GET", tmpl: "/readyz", path: "/readyz", want: 200},
		{method: "GET", tmpl: "/metrics", path: "/metrics", want: 200},
		{method: "GET", tmpl: "/openapi.json", path: "/openapi.json", want: 200},
		{method: "GET", tmpl: "/s/{slug}", path: "/s/chatgpt", want: 200},
		{method: "GET", tmpl: "/s/{slug}", path: "/s/chatgpt?thanks=1", want: 200},
		{method: "GET", tmpl: "/s/{slug}", path: "/s/nope", want: 404},
		{method: "GET", tmpl: "/s/{slug}/live", path: "/s/chatgpt/live", want: 200},
		{method: "GET", tmpl: "/s/{slug}/live", path: "/s/nope/live", want: 404},
		{method: "GET", tmpl: "/s/{slug}/chart.svg", path: "/s/chatgpt/chart.svg", want: 200},
		{method: "GET", tmpl: "/s/{slug}/chart.svg", path: "/s/nope/chart.svg", want: 404},
		{method: "GET", tmpl: "/widget.js", path: "/widget.js", want: 200},
		{method: "GET", tmpl: "/embed/{slug}", path: "/embed/chatgpt?theme=dark&lang=de", want: 200},
		{method: "GET", tmpl: "/embed/{slug}", path: "/embed/nope", want: 404},
		{method: "GET", tmpl: "/badge/{file}", path: "/badge/chatgpt.svg", want: 200},
		{method: "GET", tmpl: "/badge/{file}", path: "/badge/chatgpt.json", want: 200},
		{method: "GET", tmpl: "/badge/{file}", path: "/badge/nope.svg", want: 404},
		{method: "GET", tmpl: "/badge/{file}", path: "/badge/nope.json", want: 404},
		{method: "GET", tmpl: "/static/{file}", path: "/static/nope.css", want: 404},
	} {
		do(x)
	}
	// A revalidation with the ETag it was given.
	for _, x := range []exchange{
		{method: "GET", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/chatgpt", want: 304},
		{method: "GET", tmpl: "/api/v1/services", path: "/api/v1/services", want: 304},
		{method: "GET", tmpl: "/", path: "/", want: 304},
		{method: "GET", tmpl: "/badge/{file}", path: "/badge/chatgpt.json", want: 304},
		{method: "GET", tmpl: "/openapi.json", path: "/openapi.json", want: 304},
		{method: "GET", tmpl: "/api/v2/summary.json", path: "/api/v2/summary.json", want: 304},
		{method: "GET", tmpl: "/s/{slug}/api/v2/incidents.json", path: "/s/chatgpt/api/v2/incidents.json", want: 304},
		{method: "GET", tmpl: "/api/v1/incidents", path: "/api/v1/incidents?status=open", want: 304},
		{method: "GET", tmpl: "/feed.atom", path: "/feed.atom", want: 304},
		{method: "GET", tmpl: "/s/{slug}/feed.rss", path: "/s/chatgpt/feed.rss", want: 304},
	} {
		x.want = 200
		r := do(x)
		x.want, x.headers = 304, []string{"If-None-Match", r.Header.Get("Etag")}
		do(x)
	}
	// A real asset, named by the home page.
	home := do(exchange{method: "GET", tmpl: "/", path: "/?q=chat&limit=5", want: 200})
	asset := regexp.MustCompile(`/static/[^"?#]+`).Find(home.Body)
	if asset == nil {
		t.Fatalf("the home page names no /static/ asset: %.500s", home.Body)
	}
	do(exchange{method: "GET", tmpl: "/static/{file}", path: string(asset), want: 200})

	// Webhook subscriptions and their deliveries.
	var w struct {
		ID string `json:"id"`
	}
	admin(exchange{method: "POST", tmpl: "/api/v1/webhooks", path: "/api/v1/webhooks", want: 201,
		body: map[string]any{"url": hook.URL + "/outcry", "services": []string{"chatgpt"}, "description": "contract test"}}).JSON(t, &w)
	admin(exchange{method: "POST", tmpl: "/api/v1/webhooks", path: "/api/v1/webhooks", want: 422,
		body: map[string]any{"url": "ftp://example.com/"}})
	admin(exchange{method: "GET", tmpl: "/api/v1/webhooks", path: "/api/v1/webhooks", want: 200})
	do(exchange{method: "GET", tmpl: "/api/v1/webhooks", path: "/api/v1/webhooks", want: 401})
	admin(exchange{method: "GET", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + w.ID, want: 200})
	admin(exchange{method: "GET", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/wh_nope", want: 404})
	admin(exchange{method: "POST", tmpl: "/api/v1/webhooks/{id}/test", path: "/api/v1/webhooks/" + w.ID + "/test", want: 202})
	eventually(t, "the ping to arrive", func() bool { return received.Load() > 0 })
	var dl struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	eventually(t, "a finished delivery", func() bool {
		admin(exchange{method: "GET", tmpl: "/api/v1/webhooks/{id}/deliveries", path: "/api/v1/webhooks/" + w.ID + "/deliveries?limit=10", want: 200}).JSON(t, &dl)
		return len(dl.Items) > 0 && dl.Items[0].Status == "succeeded"
	})
	admin(exchange{method: "GET", tmpl: "/api/v1/webhooks/{id}/deliveries", path: "/api/v1/webhooks/" + w.ID + "/deliveries?limit=0", want: 422})
	admin(exchange{method: "POST", tmpl: "/api/v1/deliveries/{id}/redeliver", path: "/api/v1/deliveries/" + dl.Items[0].ID + "/redeliver", want: 202})
	admin(exchange{method: "POST", tmpl: "/api/v1/deliveries/{id}/redeliver", path: "/api/v1/deliveries/dlv_nope/redeliver", want: 404})
	admin(exchange{method: "POST", tmpl: "/api/v1/webhooks/{id}/rotate-secret", path: "/api/v1/webhooks/" + w.ID + "/rotate-secret", want: 200})
	admin(exchange{method: "PATCH", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + w.ID, want: 200, body: map[string]any{"disabled": true}})
	admin(exchange{method: "POST", tmpl: "/api/v1/webhooks/{id}/test", path: "/api/v1/webhooks/" + w.ID + "/test", want: 409})
	admin(exchange{method: "PATCH", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + w.ID, want: 422, body: map[string]any{"events": []string{"nope"}}})
	for _, f := range []string{"discord", "teams", "ntfy", "slack", "json"} { // each answer's format is in the enum
		admin(exchange{method: "PATCH", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + w.ID, want: 200, body: map[string]any{"format": f}})
	}
	admin(exchange{method: "PATCH", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + w.ID, want: 422, body: map[string]any{"format": "xml"}})
	admin(exchange{method: "DELETE", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + w.ID, want: 204})
	admin(exchange{method: "DELETE", tmpl: "/api/v1/webhooks/{id}", path: "/api/v1/webhooks/" + w.ID, want: 404})
	admin(exchange{method: "POST", tmpl: "/api/v1/webhooks/{id}/rotate-secret", path: "/api/v1/webhooks/" + w.ID + "/rotate-secret", want: 404})

	// Removing a service.
	admin(exchange{method: "DELETE", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/acme", want: 204})
	admin(exchange{method: "DELETE", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/acme", want: 404})
	do(exchange{method: "DELETE", tmpl: "/api/v1/services/{slug}", path: "/api/v1/services/chatgpt", want: 401})

	// What no route answers has the one error shape too.
	errSchema, err := k.c.Compile(docURL + "#/components/schemas/Error")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		method, path string
		want         int
	}{{"PUT", "/api/v1/services", 405}, {"GET", "/api/v1/nothing", 404}, {"POST", "/healthz", 405}} {
		r := app.Do(t, x.method, x.path, nil)
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
		if r.Status != x.want || err != nil {
			t.Errorf("%s %s: %d %s, want %d in the error shape", x.method, x.path, r.Status, r.Body, x.want)
			continue
		}
		if err := errSchema.Validate(v); err != nil {
			t.Errorf("%s %s: %v", x.method, x.path, err)
		}
	}

	// Every documented operation was called.
	paths, _ := doc["paths"].(map[string]any)
	var uncalled []string
	for p, v := range paths {
		item, _ := v.(map[string]any)
		for _, m := range httpMethods {
			if item[m] != nil && !k.called[m+" "+p] {
				uncalled = append(uncalled, strings.ToUpper(m)+" "+p)
			}
		}
	}
	sort.Strings(uncalled)
	for _, s := range uncalled {
		t.Errorf("%s is documented but never called here: add a call to TestOpenAPIResponsesValidate (server/openapi_test.go) so its answers are checked against %s", s, openapiFile)
	}

	// The check can fail: a document whose schema disagrees with the real
	// answer (reports_last_15m said to be a string) rejects it.
	t.Run("drift is caught", func(t *testing.T) {
		_, raw := openapiDoc(t, app)
		var wrong map[string]any
		if err := json.Unmarshal(raw, &wrong); err != nil {
			t.Fatal(err)
		}
		summary := wrong["components"].(map[string]any)["schemas"].(map[string]any)["ServiceSummary"].(map[string]any)
		summary["properties"].(map[string]any)["reports_last_15m"] = map[string]any{"type": "string"}
		bad := newContract(t, wrong)
		r := app.Do(t, "GET", "/api/v1/services/chatgpt", nil)
		err := bad.check("GET", "/api/v1/services/{slug}", r.Status, r.Header, r.Body)
		if err == nil || !strings.Contains(err.Error(), "reports_last_15m") {
			t.Fatalf("a schema that disagrees with the answer was not caught: %v", err)
		}
		if err := k.check("GET", "/api/v1/services/{slug}", r.Status, r.Header, r.Body); err != nil {
			t.Fatalf("the real document rejects the same answer: %v", err)
		}
		// An undocumented field is caught too (unevaluatedProperties: false).
		var body map[string]any
		r.JSON(t, &body)
		body["surprise"] = 1
		j, _ := json.Marshal(body)
		if err := k.check("GET", "/api/v1/services/{slug}", r.Status, r.Header, j); err == nil || !strings.Contains(err.Error(), "surprise") {
			t.Fatalf("an undocumented field was not caught: %v", err)
		}
	})
}
