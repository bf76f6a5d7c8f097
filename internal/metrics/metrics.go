// Package metrics defines the worker's Prometheus metrics. Every method is
// safe on a nil *Metrics, so pieces built without metrics (tests, tools)
// need no stand-in.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chathub-operator-worker/worker/internal/buildinfo"
)

const namespace = "chathub_worker"

// Metrics holds the worker's collectors in a registry of its own.
type Metrics struct {
	reg *prometheus.Registry
	own []prometheus.Collector

	events          *prometheus.CounterVec
	retries         *prometheus.CounterVec
	batches         prometheus.Histogram
	batchDuration   prometheus.Histogram
	calls           *prometheus.CounterVec
	callDuration    *prometheus.HistogramVec
	syncBatchSize   prometheus.Histogram
	limiterWait     prometheus.Histogram
	kvConflicts     prometheus.Counter
	adoptions       prometheus.Counter
	paused          prometheus.Gauge
	pending         prometheus.Gauge
	ackPending      prometheus.Gauge
	resultsNotSaved prometheus.Counter
	guardHeld       *prometheus.GaugeVec
	guardTrips      *prometheus.CounterVec
	drift           *prometheus.GaugeVec
	driftFound      *prometheus.CounterVec
	driftChecks     *prometheus.CounterVec
	driftLast       prometheus.Gauge
	wakeScheduled   prometheus.Gauge
	wakeDue         prometheus.Gauge
}

// New registers the worker's metrics, with the Go and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{reg: reg}
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_total",
		Help: "HR events with a final result, by kind and outcome."}, []string{"kind", "outcome"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "retries_total",
		Help: "Work to be tried again, by reason: chathub and unauthorized (an employee's reconcile), store, results and busy (a message handed back)."}, []string{"reason"})
	m.batches = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "batch_events",
		Help: "Messages per batch taken off the stream.", Buckets: prometheus.ExponentialBuckets(1, 2, 11)})
	m.batchDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "batch_duration_seconds",
		Help: "Time to process a batch, results and acks included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "chathub_requests_total",
		Help: "ChatHub HTTP requests, by endpoint and status code (0: no answer)."}, []string{"endpoint", "code"})
	m.callDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "chathub_request_duration_seconds",
		Help: "ChatHub HTTP request latency, by endpoint.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"endpoint"})
	m.syncBatchSize = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "synchronize_batch_size",
		Help: "Names per synchronize call.", Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}})
	m.limiterWait = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "rate_limiter_wait_seconds",
		Help: "Time ChatHub calls waited for the rate limiter.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})
	m.kvConflicts = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "kv_conflicts_total",
		Help: "Employee record writes refused because another writer got there first."})
	m.adoptions = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "operators_adopted_total",
		Help: "Existing ChatHub operators adopted instead of creating new ones."})
	m.paused = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "paused",
		Help: "1 while consumption is paused because ChatHub refuses the token."})
	m.pending = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "consumer_pending_messages",
		Help: "Messages in HR_EVENTS not yet delivered to the consumer."})
	m.ackPending = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "consumer_ack_pending_messages",
		Help: "Messages delivered and not yet acknowledged."})
	m.resultsNotSaved = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "results_unpublished_total",
		Help: "Results whose publish was not acknowledged; their events are tried again."})
	m.guardHeld = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "guard_held_deactivations",
		Help: "Deactivations the mass-offboarding guard holds until a person decides, by organization."}, []string{"organization_id"})
	m.guardTrips = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "guard_trips_total",
		Help: "Times the mass-offboarding guard tripped, by organization (counted by the worker that tripped it)."}, []string{"organization_id"})
	m.drift = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "drift_operators",
		Help: "Operators that differed from the records at the last periodic check, by organization and kind (status_changed, deleted, gone, unmanaged)."}, []string{"organization_id", "kind"})
	m.driftFound = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "drift_found_total",
		Help: "Operators found changed by hand in ChatHub, by kind: by the periodic check, and by the reconciler when ChatHub refused a status."}, []string{"kind"})
	m.driftChecks = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "drift_checks_total",
		Help: "Periodic drift checks this worker ran, by result: in_step, drift, error."}, []string{"result"})
	m.driftLast = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "drift_last_check_timestamp_seconds",
		Help: "When this worker last finished a periodic drift check (Unix time)."})
	m.wakeScheduled = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "wakeups_scheduled",
		Help: "Wake-ups waiting for their time in the schedules stream: scheduled changes and retries (read every 15 s)."})
	m.wakeDue = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "wakeups_due",
		Help: "Wake-ups whose time came and that no reconciler has handled yet (read every 15 s)."})
	m.own = []prometheus.Collector{m.wakeScheduled, m.wakeDue, m.drift, m.driftFound, m.driftChecks, m.driftLast, m.events, m.retries, m.batches, m.batchDuration, m.calls, m.callDuration,
		m.syncBatchSize, m.limiterWait, m.kvConflicts, m.adoptions, m.paused, m.pending, m.ackPending, m.resultsNotSaved,
		m.guardHeld, m.guardTrips}
	build := buildinfo.Read()
	m.own = append(m.own, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": build.Version, "commit": build.Commit, "go_version": build.Go}},
		func() float64 { return 1 }))
	for _, c := range m.own {
		f(c)
	}
	m.zero()
	return m
}

// Labels the series that alerts read take; each exists at 0 from start,
// so that increase() sees the first one after a restart.
var (
	kinds     = []string{"hired", "leave_started", "leave_ended", "terminated", "unknown"}
	outcomes  = []string{"applied", "skipped", "rejected", "failed"}
	reasons   = []string{"chathub", "unauthorized", "store", "results", "busy"}
	endpoints = []string{"list", "synchronize", "status"}
	// codes are those alerts name: no answer, throttled, server errors.
	codes       = []string{"0", "200", "429", "500", "502", "503", "504"}
	driftKinds  = []string{"status_changed", "deleted", "gone", "unmanaged"}
	driftChecks = []string{"in_step", "drift", "error"}
)

func (m *Metrics) zero() {
	for _, k := range kinds {
		for _, o := range outcomes {
			m.events.WithLabelValues(k, o)
		}
	}
	for _, r := range reasons {
		m.retries.WithLabelValues(r)
	}
	for _, e := range endpoints {
		m.callDuration.WithLabelValues(e)
		for _, c := range codes {
			m.calls.WithLabelValues(e, c)
		}
	}
	for _, k := range driftKinds {
		m.driftFound.WithLabelValues(k)
	}
	for _, r := range driftChecks {
		m.driftChecks.WithLabelValues(r)
	}
}

// Handler serves the registry for /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

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

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names lists the worker's own metric names (not the Go and process
// collectors'), for checking dashboards and alert rules against.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range m.own {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		if match := fqName.FindStringSubmatch(d.String()); match != nil {
			names = append(names, match[1])
		}
	}
	return names
}
