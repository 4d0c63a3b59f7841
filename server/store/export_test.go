package store

import "time"

// PinGather fixes how long w's batches wait for announced reports. Call it
// before the first Write: the writer goroutine reads it after receiving a
// report, which orders the two.
func PinGather(w *Writer, d time.Duration) { w.minWait, w.maxWait = d, d }

// Taken is how many reports w has taken off its queue into batches.
func Taken(w *Writer) uint64 { return w.taken.Load() }
