package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// submitReport identifies the reporter, limits, dedupes and counts, and
// stores one report of svc from addr: the path every report takes after its
// body is read. A refusal is a domain error; a rate-limit refusal comes with
// the decision that says when to retry.
func (h *Handler) submitReport(ctx context.Context, svc models.Service, in models.ReportInput, addr netip.Addr) (ReportAccepted, models.Admittance, error) {
	now := h.Now()
	reporter, network := h.Identifier.Identify(addr, now)
	if d, denied := h.Limiter.Denied(reporter, network, now); denied {
		return ReportAccepted{}, d, rateLimitError(d)
	}
	return h.storeReport(ctx, svc, in, addr, reporter, network, now)
}

// storeReport is submitReport after the reporter is known and not in the
// deny cache: validate, admit (limit, dedupe, count) and commit. The JSON
// API calls it directly, so a cached denial costs it no body parsing.
func (h *Handler) storeReport(ctx context.Context, svc models.Service, in models.ReportInput, addr netip.Addr, reporter, network string, now time.Time) (ReportAccepted, models.Admittance, error) {
	if err := in.Validate(&svc); err != nil {
		return ReportAccepted{}, models.Admittance{}, err
	}
	if in.Region == "" {
		in.Region = models.UnknownRegion
		if r, ok := models.NormalizeRegion(h.Region(addr)); ok {
			in.Region = r
		}
	}
	adm := models.Admission{
		ServiceID: svc.ID, Reporter: reporter, Network: network,
		Problem: in.Problem, Region: in.Region, At: now,
	}
	// The report is announced to the writer while Redis admits it, so the
	// writer's next batch waits for it; every way out but WriteAnnounced
	// (which ends the announcement itself) withdraws it, a panic included.
	aw := h.announcer
	announced := aw != nil
	if announced {
		aw.Announce()
		defer func() {
			if announced {
				aw.Withdraw()
			}
		}()
	}
	d, err := h.Limiter.Admit(ctx, adm)
	if err != nil {
		return ReportAccepted{}, d, models.Wrap(models.CodeUnavailable, err, "cannot take reports right now; try again shortly")
	}
	if !d.Allowed {
		return ReportAccepted{}, d, rateLimitError(d)
	}
	rep := &models.Report{
		ServiceID: svc.ID, Problem: in.Problem, Region: in.Region, Note: in.Note,
		ReporterHash: reporter, NetworkHash: network, Counted: d.Counted,
		Minute: now.Unix() / 60 * 60, CreatedAt: now.UTC(),
	}
	if announced {
		announced = false
		err = aw.WriteAnnounced(ctx, rep)
	} else {
		err = h.Writer.Write(ctx, rep)
	}
	if err != nil {
		// Not stored, so not counted: the limiter takes the count and the
		// dedupe marker back, and the reporter's retry counts. (A write
		// whose wait ended with ctx may still commit; its count is then
		// taken back and the row says counted: the rollups keep it.)
		if d.Counted {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if uerr := h.Limiter.Undo(uctx, adm, d); uerr != nil {
				h.log.Warn("could not take back the count of a report that was not stored", "err", uerr)
			}
			cancel()
		}
		return ReportAccepted{}, d, err
	}
	if h.Metrics != nil {
		h.Metrics.Accepted.Inc()
		if d.Counted {
			h.Metrics.Counted.Inc()
		}
	}
	out := ReportAccepted{
		Accepted: true, Counted: d.Counted, ID: rep.ID, Service: svc.Slug,
		Problem: rep.Problem, Region: rep.Region,
	}
	if st, ok := h.Status.Status(svc.Slug); ok {
		out.Reports15m = st.Reports15m
	}
	return out, d, nil
}

// rateLimitError is the refusal of a rate-limited report (built without fmt).
func rateLimitError(d models.Admittance) *models.Error {
	return &models.Error{Code: models.CodeRateLimited, Message: rateLimitMessage(ceilSeconds(d.RetryAfter), d.ByNetwork)}
}

// rateLimitMessage says which limit refused: the address's own
// (OUTCRY_REPORTER_LIMIT) or its network's (OUTCRY_NETWORK_LIMIT).
func rateLimitMessage(retry int, byNetwork bool) string {
	return rateLimitPrefix[b2i(byNetwork)] + strconv.Itoa(retry) + rateLimitSuffix
}

var rateLimitPrefix = [2]string{
	"too many reports from your address; try again in ",
	"too many reports from your network; try again in ",
}

const rateLimitSuffix = " s"

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reportForm takes the report form without JavaScript: a form POST that
// stores the report like the API does, then 303 to the page with a thank-you
// (or the page again with the problem and a 4xx status).
func (p *pages) reportForm(c *gin.Context) {
	h := p.h
	svc, ok := h.Catalog.Lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxReportBody)
	in := models.ReportInput{Problem: c.PostForm("problem"), Note: c.PostForm("note")}
	_, d, err := h.submitReport(c.Request.Context(), svc, in, clientAddr(c))
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/s/"+svc.Slug+"?thanks=1#report")
		return
	}
	code := models.ErrorCode(err)
	if h.Metrics != nil {
		h.Metrics.Rejected.WithLabelValues(string(code)).Inc()
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		h.log.Error("report form failed", "request_id", requestID(c), "code", code, "err", err)
	}
	st, _ := p.lookup(svc.Slug)
	sp := p.servicePage(c, st)
	sp.Notice = notice{Kind: "error", Text: "Your report could not be sent: " + models.ErrorMessage(err) + "."}
	if code == models.CodeRateLimited {
		setRateLimitHeaders(c, d, 0)
		secs := ceilSeconds(d.RetryAfter)
		c.Header("Retry-After", strconv.Itoa(secs))
		sp.Notice = notice{Kind: "warn", Text: "You have sent several reports just now. Thank you — please try again in " + waitText(secs) + "."}
	}
	p.render(c, status, "service.html", sp)
}

// thanks is the thank-you shown after a report.
func thanks(reports15m int) notice {
	if reports15m <= 1 {
		return notice{Kind: "ok", Text: "Thanks — your report was received."}
	}
	return notice{Kind: "ok", Text: "Thanks — " + thousands(reports15m) + " people reported problems in the last 15 minutes."}
}

// waitText is a short duration in words: "40 seconds", "3 minutes".
func waitText(secs int) string {
	if secs < 90 {
		return strconv.Itoa(secs) + " " + plural(secs, "second", "seconds")
	}
	m := (secs + 59) / 60
	return strconv.Itoa(m) + " " + plural(m, "minute", "minutes")
}
