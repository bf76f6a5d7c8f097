package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chathub-operator-worker/worker/internal/guard"
)

// gate is the mass-offboarding guard as the leading worker keeps it: per
// organization, the state in the store (trips, decisions, deactivations
// applied within the window) and, in memory, the deactivations counted
// and not applied yet. A deactivation is counted when its employee's look
// first meets it, before any ChatHub call and whatever ChatHub's rate, so
// a burst is counted whole. The guard decides once no new deactivation of
// the organization has begun to wait for GuardSettle.
type gate struct {
	p    *Pipeline
	mu   sync.Mutex
	orgs map[int]*orgGuard
	// counted is the organization each waiting deactivation is counted
	// in, so that it is forgotten there after its employee moved. g.mu
	// may be taken while an orgGuard's mu is held, never the other way.
	counted map[string]int
}

// orgGuard is one organization's guard.
type orgGuard struct {
	mu     sync.Mutex
	loaded bool
	st     guard.State
	rev    uint64
	// waiting began to wait since last; admitted are let through and not
	// applied yet: both count.
	waiting  map[string]bool
	admitted map[string]bool
	last     time.Time
	// arrived is when the intake last took in a leave or a termination of
	// the organization (Unix nanoseconds): a burst's looks wait while it
	// arrives (queue.add), so its first ones alone must not settle.
	arrived atomic.Int64
	// unflushed are deactivations applied and not yet in the store, per
	// Unix millisecond.
	unflushed map[int64]int
}

func newGate(p *Pipeline) *gate {
	return &gate{p: p, orgs: map[int]*orgGuard{}, counted: map[string]int{}}
}

// reset forgets what an earlier lead knew: the state is read again, and
// the deactivations it counted come again with their messages. Those it
// applied and could not write down yet are kept: they count.
func (g *gate) reset() {
	g.mu.Lock()
	old := g.orgs
	g.mu.Unlock()
	orgs := map[int]*orgGuard{}
	for id, o := range old {
		o.mu.Lock() // never under g.mu (see gate)
		if len(o.unflushed) > 0 {
			orgs[id] = &orgGuard{waiting: map[string]bool{}, admitted: map[string]bool{}, unflushed: cloneApplied(o.unflushed)}
		}
		o.mu.Unlock()
	}
	g.mu.Lock()
	g.orgs, g.counted = orgs, map[string]int{}
	g.mu.Unlock()
}

// org returns the organization's guard.
func (g *gate) org(id int) *orgGuard {
	g.mu.Lock()
	defer g.mu.Unlock()
	o := g.orgs[id]
	if o == nil {
		o = &orgGuard{waiting: map[string]bool{}, admitted: map[string]bool{}, unflushed: map[int64]int{}}
		g.orgs[id] = o
	}
	return o
}

// retryIn is how soon a deactivation asks again when the guard's state
// cannot be read or another look is deciding.
const retryIn = 50 * time.Millisecond

// Admit says what becomes of the employee's deactivation.
func (g *gate) Admit(org int, employeeID string, held uint64, now time.Time) guard.Verdict {
	rule := g.p.cfg.Guard
	if rule.Threshold.Off() {
		return guard.Verdict{}
	}
	o := g.org(org)
	if !o.mu.TryLock() {
		return guard.Verdict{Wait: now.Add(retryIn)}
	}
	locked := true
	defer func() {
		if locked {
			o.mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.load(ctx, org, o); err != nil {
		g.p.log.Warn().Err(err).Int("organization_id", org).Msg("mass-offboarding guard")
		return guard.Verdict{Wait: now.Add(time.Second)}
	}
	switch {
	case held != 0:
		d, decided := o.st.Decided(held)
		switch {
		case !decided:
			return guard.Verdict{Held: held}
		case !d.Approve:
			return guard.Verdict{Rejected: true}
		}
		return guard.Verdict{} // approved: applied, and not counted
	case o.st.Tripped != nil:
		// A trip waits for a person: this one is held with the others,
		// its entry written without the lock, which a whole burst's looks
		// want at once (under it, 1,000 took 25 s to be held).
		gen := o.st.Tripped.Gen
		locked = false
		o.mu.Unlock()
		if err := g.p.ports.Guards.Hold(ctx, org, []guard.Wait{{EmployeeID: employeeID, Since: now, Held: gen}}); err != nil {
			return guard.Verdict{Wait: now.Add(time.Second)}
		}
		return guard.Verdict{Held: gen}
	case o.admitted[employeeID]:
		return guard.Verdict{}
	case len(o.st.Decisions) > 0 && !o.waiting[employeeID]:
		// Held by a trip a person decided, though the record does not say
		// so (a worker stopped between holding it and saving the
		// record): it is held again, its record saved so, and looked at
		// once more at once, to go the way of every decided hold (the
		// entry is released only once that look is saved).
		w, ok, err := g.p.ports.Guards.HeldOne(ctx, org, employeeID)
		if err != nil {
			return guard.Verdict{Wait: now.Add(time.Second)}
		}
		if _, decided := o.st.Decided(w.Held); ok && decided {
			locked = false
			o.mu.Unlock()
			g.p.queue.wake(employeeID, false)
			return guard.Verdict{Held: w.Held}
		}
	}
	if !o.waiting[employeeID] {
		o.waiting[employeeID], o.last = true, now
		g.mu.Lock()
		g.counted[employeeID] = org
		g.mu.Unlock()
	}
	settled := o.last.Add(g.p.cfg.GuardSettle)
	if a := time.Unix(0, o.arrived.Load()).Add(g.p.cfg.GuardSettle); a.After(settled) {
		settled = a
	}
	if now.Before(settled) {
		return guard.Verdict{Wait: settled}
	}
	active := 0
	if rule.Threshold.Percent > 0 {
		// Counting may list the organization (seconds for a large one):
		// without the lock, which the deactivations applied meanwhile
		// want. What changed meanwhile is looked at again.
		seen := o.last
		locked = false
		o.mu.Unlock()
		n, err := g.p.ports.ChatHub.CountActive(ctx, org)
		if err != nil {
			g.p.log.Warn().Err(err).Int("organization_id", org).Msg("mass-offboarding guard: cannot count the active operators")
			return guard.Verdict{Wait: now.Add(time.Second)}
		}
		if !o.mu.TryLock() {
			return guard.Verdict{Wait: now.Add(retryIn)}
		}
		locked = true
		if !o.loaded || o.st.Tripped != nil || !o.waiting[employeeID] || !o.last.Equal(seen) {
			return guard.Verdict{Wait: now}
		}
		active = n
	}
	return g.decide(ctx, org, o, employeeID, now, active)
}

// arriving notes that the intake took in a leave or a termination in the
// organization at now: the guard decides on none of its deactivations
// until GuardSettle later.
func (g *gate) arriving(org int, now time.Time) {
	if !g.p.cfg.Guard.Threshold.Off() {
		g.org(org).arrived.Store(now.UnixNano())
	}
}

// load reads the organization's state once; o.mu is held.
func (g *gate) load(ctx context.Context, org int, o *orgGuard) error {
	if o.loaded {
		return nil
	}
	st, rev, err := g.p.ports.Guards.State(ctx, org)
	if err != nil {
		return err
	}
	st.OrganizationID = org
	o.st, o.rev, o.loaded = st, rev, true
	return nil
}

// applied counts a deactivation made; counted is false for one a person
// approved at the guard, which starts a fresh window.
func (g *gate) applied(org int, employeeID string, counted bool) {
	if g.p.cfg.Guard.Threshold.Off() {
		return
	}
	g.mu.Lock()
	delete(g.counted, employeeID)
	g.mu.Unlock()
	o := g.org(org)
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.admitted, employeeID)
	delete(o.waiting, employeeID)
	if counted {
		o.unflushed[time.Now().UnixMilli()]++
	}
}

// appliedSince counts the deactivations applied within window and not yet
// in the store; o.mu is held.
func (o *orgGuard) appliedSince(now time.Time, window time.Duration) int {
	st := guard.State{Applied: o.unflushed, WindowFrom: o.st.WindowFrom}
	return st.AppliedSince(now, window)
}

// forget drops a deactivation that is no longer wanted (a later event
// undid it) from the count: in org, and in the organization it was
// counted in, which the employee may have left since.
func (g *gate) forget(org int, employeeID string) {
	g.mu.Lock()
	orgs := []*orgGuard{g.orgs[org]}
	if at, ok := g.counted[employeeID]; ok && at != org {
		orgs = append(orgs, g.orgs[at])
	}
	delete(g.counted, employeeID)
	g.mu.Unlock()
	for _, o := range orgs {
		if o == nil {
			continue
		}
		o.mu.Lock()
		delete(o.admitted, employeeID)
		delete(o.waiting, employeeID)
		o.mu.Unlock()
	}
}
