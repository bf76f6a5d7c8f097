package handlers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

// fakeGuards keeps one organization's guard in memory.
type fakeGuards struct {
	mu    sync.Mutex
	st    guard.State
	rev   uint64
	waits map[string]guard.Wait
}

func (f *fakeGuards) State(context.Context, int) (guard.State, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.rev, nil
}

func (f *fakeGuards) PutState(_ context.Context, st guard.State, _ uint64) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = st
	f.rev++
	return f.rev, nil
}

func (f *fakeGuards) States(context.Context) ([]guard.State, error) { return nil, nil }

func (f *fakeGuards) Hold(_ context.Context, _ int, waits []guard.Wait) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range waits {
		f.waits[w.EmployeeID] = w
	}
	return nil
}

func (f *fakeGuards) Held(context.Context, int) (map[string]guard.Wait, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]guard.Wait{}
	for id, w := range f.waits {
		out[id] = w
	}
	return out, nil
}

func (f *fakeGuards) HeldOne(_ context.Context, _ int, id string) (guard.Wait, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.waits[id]
	return w, ok, nil
}

func (f *fakeGuards) Release(_ context.Context, _ int, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.waits, id)
	}
	return nil
}

func guardedPipeline(fg *fakeGuards) *Pipeline {
	cfg := Config{Guard: guard.Rule{Threshold: guard.Threshold{Count: 5}, Window: time.Hour}, GuardSettle: time.Millisecond, Metrics: metrics.New()}
	return New(cfg, Ports{Guards: fg}, nil, zerolog.Nop())
}

// TestDecidedHoldSurvivesALostLook: a person rejected trip 3, which held
// E-1's termination, though E-1's record does not say so (a worker
// stopped between holding it and saving the record). The look that meets
// it holds it again, keeping the entry, and is lost before its record is
// saved; the next lead meets it again, and once its record says it is
// held, the rejection stands.
func TestDecidedHoldSurvivesALostLook(t *testing.T) {
	fg := &fakeGuards{waits: map[string]guard.Wait{"E-1": {EmployeeID: "E-1", Held: 3}},
		st: guard.State{OrganizationID: 7, Gen: 3, Decisions: []guard.Decision{{Gen: 3, Approve: false}}}}
	p := guardedPipeline(fg)
	now := time.Now()
	if v := p.gate.Admit(7, "E-1", 0, now); v.Held != 3 {
		t.Fatalf("a decided hold the record does not show: %+v, want it held again (trip 3)", v)
	}
	if _, ok, _ := fg.HeldOne(t.Context(), 7, "E-1"); !ok {
		t.Fatal("the entry was released before the record was saved")
	}
	p.gate.reset() // the look is lost with its lead
	if v := p.gate.Admit(7, "E-1", 0, now.Add(time.Second)); v.Held != 3 {
		t.Fatalf("the next lead: %+v, want it held again (trip 3)", v)
	}
	if v := p.gate.Admit(7, "E-1", 3, now.Add(2*time.Second)); !v.Rejected {
		t.Errorf("its record held: %+v, want the person's rejection", v)
	}
}

// TestNewLeadKeepsUnwrittenDeactivations: deactivations the last lead
// applied and could not write down yet still count after a new lead
// begins.
func TestNewLeadKeepsUnwrittenDeactivations(t *testing.T) {
	p := guardedPipeline(&fakeGuards{waits: map[string]guard.Wait{}})
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		p.gate.applied(7, id, true)
	}
	p.gate.reset()
	if n := p.gate.org(7).appliedSince(time.Now(), time.Hour); n != 5 {
		t.Errorf("%d deactivations applied and not written down count after a new lead, want 5", n)
	}
}
