// Package detector decides, from counts of distinct reporters, whether a
// service (or one region of it) has problems, and keeps incidents.
//
// It is pure: no database, no network, no clock; time comes in as values.
// The pieces, all used the same way live and by `outcry detect`:
//
//   - Model (baseline.go): one series' online baseline — a 15-minute
//     time-of-week profile, a robust level, the series' overdispersion and
//     a short ring of recent buckets. Observe completed buckets of any width
//     (15-minute rollups to seed, 1-minute counts live).
//   - Model.Decide (decide.go): compares the recent windows with what is
//     expected for that time of week, as counts (negative binomial tail),
//     with a duration rule and minimum excess; or, with less than a day of
//     history, the cold-start rule. A Decision explains itself.
//   - Regionalise (region.go): a spike confined to one region is regional.
//   - Tracker (incident.go): the incident state machine with hysteresis and
//     a small serialisable TrackerState.
//   - Replay (replay.go): the offline CSV replay behind `outcry detect`.
//
// docs/detection.md explains the method and every parameter.
package detector
