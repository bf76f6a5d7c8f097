// Package metrics defines the worker's Prometheus metrics. Every method is
// safe on a nil *Metrics, so pieces built without metrics (tests, tools)
// need no stand-in.
package metrics

import (
	"net/http"
	"regexp"

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
	m := &Metrics{reg: reg}
	m.events = add(m, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "events_total",
		Help: "HR events with a final result, by kind and outcome."}, []string{"kind", "outcome"}))
	m.retries = add(m, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "retries_total",
		Help: "Work to be tried again, by reason: chathub and unauthorized (an employee's reconcile), store, results and busy (a message handed back)."}, []string{"reason"}))
	m.batches = add(m, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "batch_events",
		Help: "Messages per batch taken off the stream.", Buckets: prometheus.ExponentialBuckets(1, 2, 11)}))
	m.batchDuration = add(m, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "batch_duration_seconds",
		Help: "Time to process a batch, results and acks included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}))
	m.calls = add(m, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "chathub_requests_total",
		Help: "ChatHub HTTP requests, by endpoint and status code (0: no answer)."}, []string{"endpoint", "code"}))
	m.callDuration = add(m, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "chathub_request_duration_seconds",
		Help: "ChatHub HTTP request latency, by endpoint.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"endpoint"}))
	m.syncBatchSize = add(m, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "synchronize_batch_size",
		Help: "Names per synchronize call.", Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}}))
	m.limiterWait = add(m, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "rate_limiter_wait_seconds",
		Help: "Time ChatHub calls waited for the rate limiter.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}))
	m.kvConflicts = add(m, prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "kv_conflicts_total",
		Help: "Employee record writes refused because another writer got there first."}))
	m.adoptions = add(m, prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "operators_adopted_total",
		Help: "Existing ChatHub operators adopted instead of creating new ones."}))
	m.paused = add(m, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "paused",
		Help: "1 while consumption is paused because ChatHub refuses the token."}))
	m.pending = add(m, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "consumer_pending_messages",
		Help: "Messages in HR_EVENTS not yet delivered to the consumer."}))
	m.ackPending = add(m, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "consumer_ack_pending_messages",
		Help: "Messages delivered and not yet acknowledged."}))
	m.resultsNotSaved = add(m, prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "results_unpublished_total",
		Help: "Results whose publish was not acknowledged; their events are tried again."}))
	m.guardHeld = add(m, prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "guard_held_deactivations",
		Help: "Deactivations the mass-offboarding guard holds until a person decides, by organization."}, []string{"organization_id"}))
	m.guardTrips = add(m, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "guard_trips_total",
		Help: "Times the mass-offboarding guard tripped, by organization (counted by the worker that tripped it)."}, []string{"organization_id"}))
	m.drift = add(m, prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "drift_operators",
		Help: "Operators that differed from the records at the last periodic check, by organization and kind (status_changed, deleted, gone, unmanaged)."}, []string{"organization_id", "kind"}))
	m.driftFound = add(m, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "drift_found_total",
		Help: "Operators found changed by hand in ChatHub, by kind: by the periodic check, and by the pipeline when ChatHub refused a status."}, []string{"kind"}))
	m.driftChecks = add(m, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "drift_checks_total",
		Help: "Periodic drift checks this worker ran, by result: in_step, drift, error."}, []string{"result"}))
	m.driftLast = add(m, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "drift_last_check_timestamp_seconds",
		Help: "When this worker last finished a periodic drift check (Unix time)."}))
	m.wakeScheduled = add(m, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "wakeups_scheduled",
		Help: "Wake-ups waiting for their time in the schedules stream: scheduled changes and retries (read every 15 s)."}))
	m.wakeDue = add(m, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "wakeups_due",
		Help: "Wake-ups whose time came and that the pipeline has not handled yet (read every 15 s)."}))
	build := buildinfo.Read()
	add(m, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": build.Version, "commit": build.Commit, "go_version": build.Go}},
		func() float64 { return 1 }))
	m.zero()
	return m
}

// add registers one of the worker's own collectors and returns it.
func add[C prometheus.Collector](m *Metrics, c C) C {
	m.reg.MustRegister(c)
	m.own = append(m.own, c)
	return c
}

// Labels the series that alerts read take; each exists at 0 from start,
// so that increase() sees the first one after a restart.
var (
	kinds     = []string{"hired", "leave_started", "leave_ended", "terminated", "transferred", "unknown"}
	outcomes  = []string{"applied", "skipped", "rejected", "failed"}
	reasons   = []string{"chathub", "store", "results"}
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
