package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// guardEvery is how often the leading worker reads every organization's
// guard: decisions people made, alerts still to send, deactivations
// applied to write down.
const guardEvery = 2 * time.Second

// watch keeps the guard moving while the pipeline runs: it writes down
// the deactivations applied, sends every trip's alert until it is stored
// (a trip recorded by a worker that died before its alert went out
// included), and, once a person decided about a trip (from any machine,
// with worker guard approve or reject), lets each deactivation it held go
// on, so that a decision never depends on the command finishing.
func (g *gate) watch(ctx context.Context) {
	if g.p.cfg.Guard.Threshold.Off() {
		return
	}
	for ctxtime.Sleep(ctx, guardEvery) == nil {
		g.flush(ctx)
		states, err := g.p.ports.Guards.States(ctx)
		if err != nil {
			continue
		}
		for _, st := range states {
			g.follow(ctx, st)
		}
	}
}

// follow acts on one organization's state as stored.
func (g *gate) follow(ctx context.Context, st guard.State) {
	o := g.org(st.OrganizationID)
	o.mu.Lock()
	if o.loaded && (o.st.Gen != st.Gen || (o.st.Tripped == nil) != (st.Tripped == nil) || len(o.st.Decisions) != len(st.Decisions)) {
		o.loaded = false // a person decided: read it again before counting
	}
	o.mu.Unlock()
	if t := st.Tripped; t != nil && !t.Alerted {
		g.alert(st.OrganizationID, *t)
	}
	if len(st.Decisions) == 0 {
		return
	}
	held, err := g.p.ports.Guards.Held(ctx, st.OrganizationID)
	if err != nil {
		return
	}
	for id, w := range held {
		if _, decided := st.Decided(w.Held); decided {
			g.p.queue.wake(id, false)
		}
	}
}

// alert tells people that the organization's guard tripped, and records
// that it did; until then, the next pass of watch sends it again (the
// alert's message id makes a repeat one alert).
func (g *gate) alert(org int, t guard.Trip) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.p.ports.Alerts.Tripped(ctx, org, t); err != nil {
		g.p.log.Error().Err(err).Int("organization_id", org).Msg("cannot publish the guard's alert; trying again")
		return
	}
	o := g.org(org)
	o.mu.Lock()
	defer o.mu.Unlock()
	for range 3 {
		st, rev, err := g.p.ports.Guards.State(ctx, org)
		if err != nil || st.Tripped == nil || st.Tripped.Gen != t.Gen || st.Tripped.Alerted {
			return
		}
		st.Tripped.Alerted = true
		if rev, err = g.p.ports.Guards.PutState(ctx, st, rev); err == nil {
			if o.loaded {
				o.st, o.rev = st, rev
			}
			return
		}
	}
}

// flush writes the deactivations applied into each organization's state,
// revision-checked, reading the state again when a person changed it.
func (g *gate) flush(ctx context.Context) {
	g.mu.Lock()
	orgs := make(map[int]*orgGuard, len(g.orgs))
	for id, o := range g.orgs {
		orgs[id] = o
	}
	g.mu.Unlock()
	for id, o := range orgs {
		o.mu.Lock()
		for tries := 0; len(o.unflushed) > 0 && tries < 3; tries++ {
			if err := g.load(ctx, id, o); err != nil {
				break
			}
			st := o.st
			st.Applied = cloneApplied(st.Applied)
			for ms, n := range o.unflushed {
				st.AddApplied(n, time.UnixMilli(ms))
			}
			rev, err := g.p.ports.Guards.PutState(ctx, st, o.rev)
			if errors.Is(err, employee.ErrConflict) {
				o.loaded = false
				continue
			}
			if err == nil {
				o.st, o.rev = st, rev
				clear(o.unflushed)
			}
			break
		}
		o.mu.Unlock()
	}
}

func cloneApplied(m map[int64]int) map[int64]int {
	out := make(map[int64]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
