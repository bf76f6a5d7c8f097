package chathub_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// failOnce is a limiter whose first Wait fails, as the shared one does
// when the KV bucket cannot be read (a NATS blip).
type failOnce struct{ n atomic.Int32 }

func (f *failOnce) Wait(ctx context.Context) error {
	if f.n.Add(1) == 1 {
		return errors.New("cannot read the shared rate limit: nats: timeout")
	}
	return ctx.Err()
}
func (f *failOnce) HoldUntil(time.Time) {}

// TestLimiterTroubleDelaysWork: a rate limit that cannot be read delays
// the work waiting; the work is then done, and answered as done only
// then. It neither is answered as done without a call nor stops the
// executor.
func TestLimiterTroubleDelaysWork(t *testing.T) {
	t.Parallel()
	sim := chathubsim.New(token, map[int]string{24: "Support"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := chathub.NewClient(srv.URL, token, chathub.WithTimeout(5*time.Second), chathub.WithLimiter(&failOnce{}))
	if err != nil {
		t.Fatal(err)
	}
	id := sim.AddOperator(24, "Alex", 0)
	e := chathub.NewExecutor(c, &claimBook{owner: map[int64]string{}}, chathub.ExecutorOptions{}, zerolog.Nop())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	got := make(chan employee.Answer, 2)
	op := employee.Op{Kind: employee.SetStatus, EmployeeID: "E1", Org: 24, OperatorID: id, From: 0, To: 2, Deactivation: true, Urgent: true}
	e.Do(op, func(a employee.Answer) { got <- a })
	if a := <-got; a.Err != nil || sim.Operators(24)[0].Status != 2 {
		t.Errorf("answer %v with ChatHub holding %+v, want the operator deleted", a.Err, sim.Operators(24)[0])
	}
	op.From, op.To, op.Deactivation = 2, 2, false
	e.Do(op, func(a employee.Answer) { got <- a })
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Error("a later operation is never answered: the executor stopped")
	}
}

// TestStoppedExecutorAnswersWithAnError: what the executor never started
// when it stops, and what it is given until it runs again, is answered
// with an error, never as done.
func TestStoppedExecutorAnswersWithAnError(t *testing.T) {
	t.Parallel()
	sim := chathubsim.New(token, map[int]string{24: "Support"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := chathub.NewClient(srv.URL, token, chathub.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e := chathub.NewExecutor(c, &claimBook{owner: map[int64]string{}}, chathub.ExecutorOptions{BatchMaxWait: time.Hour, BatchMaxSize: 100}, zerolog.Nop())
	got := make(chan employee.Answer, 2)
	hire := employee.Op{Kind: employee.Ensure, EmployeeID: "E1", Org: 24, Name: "Alex", To: employee.StatusActive}
	e.Do(hire, func(a employee.Answer) { got <- a }) // waits for its call to fill
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	cancel()
	<-done
	if a := <-got; a.Err == nil {
		t.Error("a hire never sent was answered as made when the executor stopped")
	}
	e.Do(hire, func(a employee.Answer) { got <- a })
	select {
	case a := <-got:
		if a.Err == nil {
			t.Error("a hire given to a stopped executor was answered as made")
		}
	case <-time.After(10 * time.Second):
		t.Error("a hire given to a stopped executor is never answered")
	}
	if n := len(sim.Operators(24)); n != 0 {
		t.Errorf("ChatHub holds %d operators, want none", n)
	}
}
