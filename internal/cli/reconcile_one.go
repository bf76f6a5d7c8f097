package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/drift"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// oneOutput is what reconcile -employee prints: the comparison before,
// what -apply did, and the comparison after the wait.
type oneOutput struct {
	drift.One
	// Next says what the worker does next for the employee.
	Next string `json:"next"`
	// Applied: -apply woke the worker for the employee; RetryNow: it let
	// a retry waiting for its backoff go at once.
	Applied  bool       `json:"applied,omitempty"`
	RetryNow bool       `json:"retryNow,omitempty"`
	After    *drift.One `json:"after,omitempty"`
}

// reconcileOne compares one employee with ChatHub and, with apply, has
// the running worker drive them now and waits up to wait for it:
// provisioning on demand.
func reconcileOne(ctx context.Context, env Env, store *broker.Store, hub *chathub.Client, poke drift.Poker,
	id string, apply bool, wait time.Duration, asJSON bool) error {
	o, err := drift.CheckOne(ctx, store, hub, id, time.Now())
	if err != nil {
		return err
	}
	out := oneOutput{One: o, Next: nextFor(ctx, store, id)}
	if apply {
		if out.RetryNow, err = drift.ApplyOne(ctx, store, poke, &out.One); err != nil {
			return err
		}
		out.Applied = true
		if wait > 0 {
			fmt.Fprintf(env.Stderr, "waiting up to %s for the worker to drive employee %s\n", wait, id)
			if err := waitOne(ctx, store, id, wait); err != nil {
				return err
			}
		}
		after, err := drift.CheckOne(ctx, store, hub, id, time.Now())
		if err != nil {
			return err
		}
		out.After, out.Next = &after, nextFor(ctx, store, id)
	}
	if asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(out); err != nil {
			return err
		}
	} else {
		out.print(env.Stdout)
	}
	last := out.One
	if out.After != nil {
		last = *out.After
	}
	switch {
	case last.InStep:
		return nil
	case apply:
		return partly("employee %s is not in step after %s: %s", id, wait, out.Next)
	}
	return partly("employee %s differs from ChatHub (worker reconcile -employee %s -apply drives them now)", id, id)
}

// nextFor says what the worker does next for the employee, with the
// guard of their organization as the store holds it.
func nextFor(ctx context.Context, store *broker.Store, id string) string {
	rec, _, err := store.Get(ctx, id)
	if err != nil {
		return "unknown: " + err.Error()
	}
	st, _, err := store.State(ctx, rec.Org)
	if err != nil {
		return "unknown: " + err.Error()
	}
	return rec.NextAction(time.Now(), storedGate{st})
}

// waitOne waits until the worker is done with the employee, or until
// waiting cannot help: a guard hold or a failure waits for a person or an
// event, and a retry set for after the wait will not come within it.
func waitOne(ctx context.Context, store *broker.Store, id string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		rec, rev, err := store.Get(ctx, id)
		if err != nil {
			return err
		}
		if !drift.EntryOf(rec, rev, time.Now()).Busy || stuck(rec, deadline) || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stuck says whether the record waits for something the wait cannot
// bring.
func stuck(rec employee.Record, deadline time.Time) bool {
	return rec.Guard != nil || rec.Failure != "" || rec.Retry != nil && rec.Retry.NextAt.After(deadline)
}

func (o oneOutput) print(w io.Writer) {
	fmt.Fprintf(w, "employee %s, organization %d: %s, so ChatHub should hold %s\n", o.EmployeeID, o.OrganizationID, o.State, want(o.Desired))
	fmt.Fprintf(w, "before:    %s\n", describeOne(o.One))
	if o.Applied {
		did := "woke the worker for the employee"
		switch {
		case o.Drift != nil && o.Drift.Applied:
			did = "corrected the record (" + string(o.Drift.Kind) + ") and " + did
		case o.RetryNow:
			did = "let the retry waiting for its backoff go now and " + did
		}
		fmt.Fprintf(w, "applied:   %s\n", did)
	}
	if o.After != nil {
		fmt.Fprintf(w, "after:     %s\n", describeOne(*o.After))
	}
	fmt.Fprintf(w, "next:      %s\n", o.Next)
}

// want names what a desired status asks of ChatHub.
func want(desired string) string {
	if desired == employee.StatusDeleted.String() {
		return "no operator (or a deleted one)"
	}
	return "an " + desired + " operator"
}

// describeOne says in a line what ChatHub holds against the record.
func describeOne(o drift.One) string {
	s := "no operator recorded"
	if o.OperatorID != 0 {
		s = fmt.Sprintf("operator %d is %s as recorded, %s in ChatHub", o.OperatorID, o.Recorded, o.Listed)
	}
	switch {
	case o.InStep && o.Busy:
		s += "; in step, and the worker is still at work on the employee"
	case o.InStep:
		s += "; in step"
	case o.Drift != nil:
		s += fmt.Sprintf("; drift: %s", o.Drift.Kind)
	case o.Busy:
		s += "; differs while the worker is at work on the employee"
	default:
		s += "; differs"
	}
	return s
}
