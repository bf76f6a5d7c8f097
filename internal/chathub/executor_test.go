package chathub_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// claimBook is an in-memory claims port: which employee each operator is.
type claimBook struct {
	mu    sync.Mutex
	owner map[int64]string
}

func (b *claimBook) ClaimAll(_ context.Context, claims []employee.Claim) ([]bool, []error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ours := make([]bool, len(claims))
	for i, c := range claims {
		if b.owner[c.OperatorID] == "" {
			b.owner[c.OperatorID] = c.EmployeeID
		}
		ours[i] = b.owner[c.OperatorID] == c.EmployeeID
	}
	return ours, make([]error, len(claims))
}

// executor runs an executor against a fresh simulator at rps calls a
// second (0: no limit) until the test ends.
func executor(t *testing.T, rps float64, opts chathub.ExecutorOptions) (*chathub.Executor, *chathubsim.Server) {
	t.Helper()
	sim := chathubsim.New(token, map[int]string{24: "Support", 25: "Sales"})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := chathub.NewClient(srv.URL, token, chathub.WithRateLimit(rps), chathub.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e := chathub.NewExecutor(c, &claimBook{owner: map[int64]string{}}, opts, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, sim
}

// answers collects the answers of operations.
type answers struct {
	mu  sync.Mutex
	got []employee.Answer
}

func (a *answers) done(x employee.Answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, x)
}

func (a *answers) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.got)
}

func hire(i, org int) employee.Op {
	return employee.Op{Kind: employee.Ensure, EmployeeID: fmt.Sprint("E", i), Org: org, Name: fmt.Sprint("Person ", i), To: employee.StatusActive}
}

// TestHiresFillCallsWhileWaitingForTheRate: hires that arrive while their
// organization's call waits for ChatHub's rate go in that call, so a
// burst costs the fewest calls whatever the rate.
func TestHiresFillCallsWhileWaitingForTheRate(t *testing.T) {
	t.Parallel()
	// The pipeline is busy while it hands hires over, as it is while
	// events still arrive.
	var handing atomic.Bool
	handing.Store(true)
	e, sim := executor(t, 20, chathub.ExecutorOptions{BatchMaxSize: 100, BatchMaxWait: time.Minute, Busy: handing.Load})
	var a answers
	for i := range 1000 {
		e.Do(hire(i, 24), a.done)
	}
	handing.Store(false)
	await.True(t, 30*time.Second, func() bool { return a.count() == 1000 }, "every hire answered")
	for _, x := range a.got {
		if x.Err != nil || x.Operator.ID == 0 {
			t.Fatalf("hire %s: %+v", x.Op.EmployeeID, x)
		}
	}
	if n := sim.Counters().Calls["synchronize"]; n != 10 {
		t.Errorf("%d synchronize calls for 1000 hires, want 10: %v", n, sim.Counters().BatchSizes)
	}
}

// TestUrgentWorkGoesFirst: with more work waiting than the rate allows,
// deactivations queued after a hire burst reach ChatHub before the
// hires still waiting.
func TestUrgentWorkGoesFirst(t *testing.T) {
	t.Parallel()
	e, sim := executor(t, 10, chathub.ExecutorOptions{BatchMaxSize: 10, BatchMaxWait: time.Millisecond})
	var a answers
	ids := make([]int64, 5)
	for i := range ids {
		ids[i] = sim.AddOperator(25, fmt.Sprint("Leaver ", i), 0)
	}
	for i := range 200 {
		e.Do(hire(i, 24), a.done)
	}
	for i, id := range ids {
		e.Do(employee.Op{Kind: employee.SetStatus, EmployeeID: fmt.Sprint("L", i), Org: 25, OperatorID: id, To: employee.StatusDeleted,
			Deactivation: true, Urgent: true}, a.done)
	}
	await.True(t, 30*time.Second, func() bool { return a.count() >= 5+20 }, "the deactivations and some hires answered")
	// The deactivations were queued after 20 calls' worth of hires; all
	// five must have reached ChatHub within the first few calls.
	changes := sim.Changes()
	last := slices.IndexFunc(changes, func(c chathubsim.Change) bool { return c.Status == 2 && c.OperatorID == ids[4] })
	if last < 0 {
		t.Fatal("the last deactivation never reached ChatHub")
	}
	if created := len(slices.DeleteFunc(slices.Clone(changes[:last]), func(c chathubsim.Change) bool { return !c.Created })); created > 30 {
		t.Errorf("%d operators were created before the last deactivation, want at most 30 (3 calls): hires went first", created)
	}
}

// TestSlowChatHubKeepsTheRateInUse: with ChatHub answering in 400-900 ms,
// calls overlap: 60 status changes at 20 a second take about 3 s, not the
// sum of their latencies.
func TestSlowChatHubKeepsTheRateInUse(t *testing.T) {
	t.Parallel()
	e, sim := executor(t, 20, chathub.ExecutorOptions{})
	var ids []int64
	for i := range 60 {
		ids = append(ids, sim.AddOperator(24, fmt.Sprint("Agent ", i), 0))
	}
	sim.SetFaults(chathubsim.Faults{Latency: 400 * time.Millisecond, LatencyMax: 900 * time.Millisecond})
	var a answers
	start := time.Now()
	for i, id := range ids {
		e.Do(employee.Op{Kind: employee.SetStatus, EmployeeID: fmt.Sprint("E", i), Org: 24, OperatorID: id, To: employee.StatusInactive}, a.done)
	}
	await.True(t, 30*time.Second, func() bool { return a.count() == len(ids) }, "every change answered")
	took := time.Since(start)
	// The bound: 60 calls at 20 a second, plus the last call's latency.
	if bound := 3*time.Second + 900*time.Millisecond; took > bound*12/10 {
		t.Errorf("60 changes took %s, want within 1.2 x %s: calls waited for each other", took, bound)
	}
}
