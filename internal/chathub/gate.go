package chathub

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// gate is the limiter the executor's client waits on: the executor's
// queue in front of the real limiter. A call made with a slot already
// granted (the first call of the work the slot started) goes at once;
// any further call waits for a slot of its own, as urgent as its work.
type gate struct{ e *Executor }

func (g gate) Wait(ctx context.Context) error {
	if t, ok := ctx.Value(ticketKey{}).(*atomic.Bool); ok && t.CompareAndSwap(false, true) {
		return nil
	}
	urgent, _ := ctx.Value(urgentKey{}).(bool)
	return g.e.acquire(ctx, urgent)
}

func (g gate) HoldUntil(t time.Time) { g.e.limiter.HoldUntil(t) }

type (
	ticketKey struct{}
	urgentKey struct{}
)

// withPriority marks the calls made with ctx as urgent or not.
func withPriority(ctx context.Context, urgent bool) context.Context {
	return context.WithValue(ctx, urgentKey{}, urgent)
}

// prepaid is ctx for work that was granted a slot: its first call spends
// it.
func prepaid(ctx context.Context, urgent bool) context.Context {
	return context.WithValue(withPriority(ctx, urgent), ticketKey{}, new(atomic.Bool))
}

// classified is an error of one of the domain's classes, keeping the
// client's error for its message.
type classified struct {
	class error
	err   error
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() []error {
	return []error{c.class, c.err}
}

// classify tells the domain what kind of trouble err is: a refusal of the
// employee's data, a refused token (or a misconfiguration that looks like
// one), an unknown outcome, or transient trouble (left as it is). The
// message is ChatHub's answer, without the client's wording of the call.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	msg := err
	if errors.As(err, &ce) {
		msg = ce
	}
	switch {
	case errors.Is(err, ErrUnauthorized):
		return &classified{employee.ErrUnauthorized, msg}
	case errors.Is(err, ErrPermanent), errors.Is(err, ErrInvalid):
		return &classified{employee.ErrRefused, msg}
	case errors.Is(err, ErrOutcomeUnknown):
		return &classified{employee.ErrUnknownOutcome, msg}
	}
	return err
}
