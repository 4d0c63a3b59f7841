package catalog

import (
	"context"
	"time"

	"github.com/outcry/outcry/models"
)

// demoCatalogue is what an empty database starts with when OUTCRY_DEMO is on:
// the AI services whose outages made people need Outcry, with the problems
// their users actually report, and the public status pages of those that
// have one in a format Outcry reads (OpenAI's is on incident.io, Claude's
// on Atlassian Statuspage). Gemini, Copilot and Perplexity have none here:
// Google's and Microsoft's dashboards are not in a supported format, and
// we do not guess at URLs.
var demoCatalogue = []models.Service{
	{Slug: "chatgpt", Name: "ChatGPT", Problems: []string{"login", "app", "website", "api", "voice-mode", "image-generation", "search"},
		OfficialStatusURL: "https://status.openai.com"},
	{Slug: "sora", Name: "Sora", Problems: []string{"login", "app", "website", "video-generation", "feed"},
		OfficialStatusURL: "https://status.openai.com"},
	{Slug: "openai-api", Name: "OpenAI API", Problems: []string{"api-errors", "latency", "rate-limits", "authentication", "dashboard"},
		OfficialStatusURL: "https://status.openai.com"},
	{Slug: "gemini", Name: "Gemini", Problems: []string{"login", "app", "website", "api", "image-generation", "voice-mode"}},
	{Slug: "claude", Name: "Claude", Problems: []string{"login", "app", "website", "api", "file-uploads"},
		OfficialStatusURL: "https://status.claude.com"},
	{Slug: "copilot", Name: "Microsoft Copilot", Problems: []string{"login", "app", "website", "code-completion"}},
	{Slug: "perplexity", Name: "Perplexity", Problems: []string{"login", "app", "website", "api", "search"}},
}

// SeedDemo creates the demo catalogue in an empty database and gives it
// DemoDays of synthetic history ending at now. It reports whether it seeded.
func SeedDemo(ctx context.Context, cat *Catalog, now time.Time) (bool, error) {
	n, err := cat.st.CountServices(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	for _, s := range demoCatalogue {
		s.Demo = true
		if err := cat.Create(ctx, &s); err != nil && models.ErrorCode(err) != models.CodeConflict {
			return false, err
		}
	}
	return true, seedDemoHistory(ctx, cat, now)
}

// DemoServices is how many services the demo catalogue has.
func DemoServices() int { return len(demoCatalogue) }
