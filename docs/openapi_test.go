package docs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The bundled document is one self-contained OpenAPI 3.1 document: no
// reference to another file is left, and the webhook contract is in it.
func TestBundleIsSelfContained(t *testing.T) {
	b, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                    `json:"openapi"`
		Webhooks   map[string]any            `json:"webhooks"`
		Components map[string]map[string]any `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Webhooks["incident.opened"] == nil || doc.Components["schemas"]["WebhookWithSecret"] == nil || doc.Components["schemas"]["ServiceDetail"] == nil {
		t.Errorf("bundle lacks the webhook contract or the REST schemas: openapi %q, webhooks %d, schemas %d", doc.OpenAPI, len(doc.Webhooks), len(doc.Components["schemas"]))
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var all map[string]any
	_ = json.Unmarshal(b, &all)
	walk(all)
	for _, r := range refs {
		if !strings.HasPrefix(r, "#/") {
			t.Errorf("non-local $ref %q", r)
			continue
		}
		var at any = all
		for _, part := range strings.Split(r[2:], "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			m, ok := at.(map[string]any)
			if !ok || m[part] == nil {
				t.Errorf("$ref %q points nowhere", r)
				break
			}
			at = m[part]
		}
	}
}

// Every operation has a unique operationId, and every error answer of the
// JSON API (4xx, 5xx under /api/) is the one error shape.
func TestOperationsAndErrorShape(t *testing.T) {
	doc, err := Bundle()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for p, v := range doc["paths"].(map[string]any) {
		for m, o := range v.(map[string]any) {
			op, ok := o.(map[string]any)
			if !ok || m == "parameters" {
				continue
			}
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] != "" {
				t.Errorf("%s %s: operationId %q is missing or also used by %s", m, p, id, ids[id])
			}
			ids[id] = m + " " + p
			if !strings.HasPrefix(p, "/api/") && !strings.Contains(p, "/api/v2/") {
				continue
			}
			for code, r := range op["responses"].(map[string]any) {
				ref, _ := r.(map[string]any)["$ref"].(string)
				if code >= "400" && ref != "#/components/responses/Error" && ref != "#/components/responses/RateLimited" {
					t.Errorf("%s %s %s: an error answer must be $ref: \"#/components/responses/Error\" (the one error shape), not %v", m, p, code, r)
				}
			}
		}
	}
}

// A comma in an unquoted description inside a YAML flow mapping
// ({description: a, b}) silently splits it into more keys ("b": null). No
// key of either document has a space in it, and no value is a bare null.
func TestNoSplitFlowMappings(t *testing.T) {
	for _, f := range []string{"openapi.yaml", webhooksFile} {
		doc, err := load(f)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if strings.ContainsAny(k, " \t") || e == nil {
						t.Errorf("%s: %s has key %q (value %v): quote the text it was cut from", f, path, k, e)
					}
					walk(path+"/"+k, e)
				}
			case []any:
				for i, e := range x {
					walk(fmt.Sprintf("%s/%d", path, i), e)
				}
			}
		}
		walk("", doc)
	}
}
