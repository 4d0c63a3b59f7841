// Package detector decides, from counts of distinct reporters, whether a
// service (or one region of it) has problems, and keeps its incidents.
//
// Two halves. The pure half takes time as values and touches no database,
// network or clock; `outcry detect` (Replay) and the live Runner call the
// same code:
//
//   - params.go: Params, the decision parameters (product settings), and the
//     count model's threshold from the false-alarm budget (modelBar).
//   - model.go: Model, one series' state; Observe judges a completed bucket,
//     then learns it. Its parts: profile.go (time-of-week profile, daily
//     alignment), level.go (level, deferral, new levels), dispersion.go
//     (overdispersion, and the dispersion a span is judged with),
//     coldstart.go (the rule before a day of history).
//   - cusum.go: the sequential tests (negative-binomial log-likelihood
//     ratios summed by CUSUMs) and the recovery test; tail.go: the series'
//     own threshold from its past runs.
//   - decide.go: Model.Decide, the verdict at a moment (with the bucket in
//     progress), and Decision, which explains itself (Rule).
//   - tracker.go: Tracker, the incident state machine (open, escalate,
//     resolve, re-open), with a small serialisable TrackerState.
//   - series.go: Series, a Model and a Tracker driven together.
//   - region.go: Regionalise, the rule that a rise confined to one region
//     is that region's incident.
//   - replay.go: Replay, `outcry detect` over a CSV.
//
// The orchestrating half reads and writes through interfaces declared in
// runner.go (Catalog, models.CounterReader, HistoryReader, IncidentStore):
//
//   - runner.go: Runner, the tick loop, counter and chart reads;
//     tickstats.go: what a tick reports for metrics.
//   - seed.go: restoring state after a restart, seeding models from
//     rollups, choosing the regions that get a series; loadhistory.go:
//     reading that history a service at a time.
//   - savemodels.go, modelstate.go: saving learned models and loading them
//     at start (a Model as bytes, guarded by a fingerprint of its layout).
//   - evaluate.go: one service per tick: learn the completed minutes,
//     decide, step the series (StepService).
//   - persist.go: saving transitions and announcing them (webhook policy).
//   - status.go, snapshot.go: the status every reader is served from.
//
// docs/detection.md explains the method, every parameter and the measured
// figures.
package detector
