package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/drift"
)

// driftKey holds the last interval whose drift check a replica took.
const driftKey = "drift.period"

// driftPeriod is the value under driftKey.
type driftPeriod struct {
	Period int64  `json:"period"`
	Owner  string `json:"owner"`
	Start  int64  `json:"startUnix"`
}

// checkDrift runs the drift check once per RECONCILE_INTERVAL across the
// replicas: at the start of each interval, the replica that moves
// driftKey to it (a revision-checked write) runs the check; the others
// wait for the next interval. A replica that starts in an interval whose
// check has not run runs it at once.
func (w *Worker) checkDrift(ctx context.Context) {
	kv, hub := w.objs.KV, w.hub
	interval := w.cfg.ReconcileInterval
	if interval <= 0 {
		return
	}
	// The check's list calls take at most a fifth of the rate budget.
	var pause time.Duration
	if w.cfg.ChatHubRateLimit > 0 {
		pause = time.Duration(float64(5*time.Second) / w.cfg.ChatHubRateLimit)
	}
	for {
		period := time.Now().UnixNano() / int64(interval)
		if w.takePeriod(ctx, kv, period) {
			w.runDrift(ctx, hub, period, pause)
		}
		next := time.Unix(0, (period+1)*int64(interval))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
	}
}

// takePeriod says whether this replica is the one to check in period.
func (w *Worker) takePeriod(ctx context.Context, kv jetstream.KeyValue, period int64) bool {
	data, _ := json.Marshal(driftPeriod{Period: period, Owner: w.name, Start: time.Now().Unix()})
	entry, err := kv.Get(ctx, driftKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		_, err = kv.Create(ctx, driftKey, data)
		return err == nil
	case err != nil:
		w.log.Warn().Err(err).Msg("cannot read which replica runs the drift check")
		return false
	}
	var last driftPeriod
	if json.Unmarshal(entry.Value(), &last) == nil && last.Period >= period {
		return false
	}
	_, err = kv.Update(ctx, driftKey, data, entry.Revision())
	return err == nil
}

// runDrift runs one check and reports it in logs and metrics.
func (w *Worker) runDrift(ctx context.Context, hub drift.Lister, period int64, pause time.Duration) {
	start := time.Now()
	reports, err := drift.Check(ctx, w.store, hub, broker.NewSchedules(w.js, w.cfg.SchedulesStream),
		drift.Options{Apply: w.cfg.ReconcileApply, Pause: pause})
	counts := map[int]map[string]int{}
	found := 0
	for _, rep := range reports {
		counts[rep.OrganizationID] = map[string]int{}
		for _, f := range rep.Findings {
			counts[rep.OrganizationID][string(f.Kind)]++
			if f.Kind != drift.Unmanaged {
				found++
			}
			w.log.Warn().Str("kind", string(f.Kind)).Int("organization_id", f.OrganizationID).Str("employee_id", f.EmployeeID).
				Int64("operator_id", f.OperatorID).Str("listed", f.Listed).Str("desired", f.Desired).Bool("applied", f.Applied).
				Msg("drift: ChatHub differs from the records")
		}
	}
	kinds := make([]string, len(drift.Kinds))
	for i, k := range drift.Kinds {
		kinds[i] = string(k)
		n := 0
		for _, c := range counts {
			n += c[kinds[i]]
		}
		w.metrics.DriftFound(kinds[i], n)
	}
	result := "in_step"
	switch {
	case err != nil && ctx.Err() == nil:
		result = "error"
		w.log.Error().Err(err).Msg("drift check failed; the next interval tries again")
	case found > 0:
		result = "drift"
	}
	w.metrics.DriftChecked(counts, kinds, result)
	w.log.Info().Int64("period", period).Int("organizations", len(reports)).Int("drift", found).Bool("apply", w.cfg.ReconcileApply).
		Str("result", result).Int64("took_ms", time.Since(start).Milliseconds()).Msg("drift check")
}
