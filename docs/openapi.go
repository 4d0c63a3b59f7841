// Package docs holds the published API contract: docs/openapi.yaml (the REST
// API) and docs/openapi-webhooks.yaml (what Outcry POSTs to subscribers),
// embedded so the binary serves the very document the tests check.
package docs

import (
	"embed"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
)

//go:embed openapi.yaml openapi-webhooks.yaml
var files embed.FS

// webhooksFile is how openapi.yaml refers to the webhook contract
// ($ref: "openapi-webhooks.yaml#/components/schemas/Webhook").
const webhooksFile = "openapi-webhooks.yaml"

// OpenAPIJSON is the one OpenAPI 3.1 document served at /openapi.json:
// openapi.yaml with the webhook contract bundled in (its `webhooks:` and its
// components, and every reference to that file made local). Built once.
var OpenAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := Bundle()
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// Bundle reads both documents and returns the bundled one as JSON values
// (map[string]any, []any, string, float64, bool, nil).
func Bundle() (map[string]any, error) {
	api, err := load("openapi.yaml")
	if err != nil {
		return nil, err
	}
	hooks, err := load(webhooksFile)
	if err != nil {
		return nil, err
	}
	if w, ok := hooks["webhooks"]; ok {
		api["webhooks"] = w
	}
	comps := object(api, "components")
	for kind, v := range object(hooks, "components") {
		from, _ := v.(map[string]any)
		into := object(comps, kind)
		for name, def := range from {
			if have, dup := into[name]; dup && !reflect.DeepEqual(have, def) {
				return nil, fmt.Errorf("docs: components.%s.%s is defined differently in openapi.yaml and %s; rename one", kind, name, webhooksFile)
			}
			into[name] = def
		}
	}
	localRefs(api)
	return api, nil
}

func load(name string) (map[string]any, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("docs: %s: %w", name, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(j, &doc); err != nil {
		return nil, fmt.Errorf("docs: %s: %w", name, err)
	}
	return doc, nil
}

// object is m[key] as an object, created when missing.
func object(m map[string]any, key string) map[string]any {
	o, ok := m[key].(map[string]any)
	if !ok {
		o = map[string]any{}
		m[key] = o
	}
	return o
}

// localRefs rewrites "$ref": "openapi-webhooks.yaml#/…" to "#/…" everywhere.
func localRefs(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				x[k] = strings.TrimPrefix(s, webhooksFile)
				continue
			}
			localRefs(e)
		}
	case []any:
		for _, e := range x {
			localRefs(e)
		}
	}
}
