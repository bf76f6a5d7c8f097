package metrics

import (
	"strconv"
	"time"
)

// Event counts a final result.
func (m *Metrics) Event(kind, outcome string) {
	if m != nil {
		m.events.WithLabelValues(kind, outcome).Inc()
	}
}

// Retry counts a nak.
func (m *Metrics) Retry(reason string) {
	if m != nil {
		m.retries.WithLabelValues(reason).Inc()
	}
}

// Batch records a processed batch.
func (m *Metrics) Batch(events int, took time.Duration) {
	if m != nil {
		m.batches.Observe(float64(events))
		m.batchDuration.Observe(took.Seconds())
	}
}

// Call records one ChatHub HTTP request; it fits chathub.CallObserver.
func (m *Metrics) Call(endpoint string, code int, took time.Duration) {
	if m != nil {
		m.calls.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
		m.callDuration.WithLabelValues(endpoint).Observe(took.Seconds())
	}
}

// SynchronizeBatch records the names in one synchronize call.
func (m *Metrics) SynchronizeBatch(names int) {
	if m != nil {
		m.syncBatchSize.Observe(float64(names))
	}
}

// LimiterWait records how long a call waited for the rate limiter.
func (m *Metrics) LimiterWait(d time.Duration) {
	if m != nil {
		m.limiterWait.Observe(d.Seconds())
	}
}

// KVConflict counts a refused record write.
func (m *Metrics) KVConflict() {
	if m != nil {
		m.kvConflicts.Inc()
	}
}

// Adopted counts an adopted operator.
func (m *Metrics) Adopted() {
	if m != nil {
		m.adoptions.Inc()
	}
}

// Paused sets whether consumption is paused.
func (m *Metrics) Paused(p bool) {
	if m != nil {
		v := 0.0
		if p {
			v = 1
		}
		m.paused.Set(v)
	}
}

// Backlog sets the consumer's pending and ack-pending counts.
func (m *Metrics) Backlog(pending, ackPending uint64) {
	if m != nil {
		m.pending.Set(float64(pending))
		m.ackPending.Set(float64(ackPending))
	}
}

// ResultUnpublished counts a result whose publish failed.
func (m *Metrics) ResultUnpublished() {
	if m != nil {
		m.resultsNotSaved.Inc()
	}
}

// GuardTripped counts a trip of an organization's guard holding held
// deactivations.
func (m *Metrics) GuardTripped(org, held int) {
	if m != nil {
		m.guardTrips.WithLabelValues(strconv.Itoa(org)).Inc()
		m.guardHeld.WithLabelValues(strconv.Itoa(org)).Set(float64(held))
	}
}

// GuardHeld sets how many deactivations an organization's guard holds.
func (m *Metrics) GuardHeld(org, held int) {
	if m != nil {
		m.guardHeld.WithLabelValues(strconv.Itoa(org)).Set(float64(held))
	}
}

// DriftFound counts n operators found changed by hand, of kind.
func (m *Metrics) DriftFound(kind string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.driftFound.WithLabelValues(kind).Add(float64(n))
}

// DriftChecked records a periodic check: per organization the count of
// each kind (kinds not given are 0), and its result.
func (m *Metrics) DriftChecked(counts map[int]map[string]int, kinds []string, result string) {
	if m == nil {
		return
	}
	for org, byKind := range counts {
		for _, k := range kinds {
			m.drift.WithLabelValues(strconv.Itoa(org), k).Set(float64(byKind[k]))
		}
	}
	m.driftChecks.WithLabelValues(result).Inc()
	m.driftLast.SetToCurrentTime()
}

// Wakeups sets the wake-ups scheduled and due.
func (m *Metrics) Wakeups(scheduled, due uint64) {
	if m != nil {
		m.wakeScheduled.Set(float64(scheduled))
		m.wakeDue.Set(float64(due))
	}
}
