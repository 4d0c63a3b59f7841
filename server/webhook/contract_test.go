package webhook

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/outcry/outcry/models"
)

// Every body Outcry sends validates against docs/openapi-webhooks.yaml.
func TestPayloadsMatchTheOpenAPIContract(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi-webhooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("openapi.json", spec); err != nil {
		t.Fatal(err)
	}
	schema := func(name string) *jsonschema.Schema {
		s, err := c.Compile("openapi.json#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	check := func(what string, s *jsonschema.Schema, body []byte) {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s does not match the contract: %v\n%s", what, err, body)
		}
	}

	inc := testIncident()
	resolved := inc
	end := inc.StartedAt.Add(time.Hour)
	resolved.ResolvedAt = &end
	for typ, in := range map[string]models.Incident{
		models.EventIncidentOpened: inc, models.EventIncidentUpdated: inc, models.EventIncidentResolved: resolved,
	} {
		ev, err := models.NewIncidentEvent(typ, testService("chatgpt"), in, "https://outcry.example", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		check(typ, schema("IncidentEvent"), ev.Payload)
		slack, err := slackBody(&ev)
		if err != nil {
			t.Fatal(err)
		}
		check(typ+" (slack)", schema("SlackMessage"), slack)
	}
	noShares := inc
	noShares.TopProblems, noShares.TopRegions = nil, nil
	ev, _ := models.NewIncidentEvent(models.EventIncidentOpened, testService("sora"), noShares, "", time.Now())
	check("an incident without shares", schema("IncidentEvent"), ev.Payload)
	ping, _ := models.NewPingEvent("wh_1", time.Now())
	check("ping", schema("PingEvent"), ping.Payload)
	if err := schema("IncidentEvent").Validate(mustJSON(t, ping.Payload)); err == nil {
		t.Error("a ping validates as an incident event; the schema is too loose")
	}
}

func mustJSON(t *testing.T, b []byte) any {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
