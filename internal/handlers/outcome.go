package handlers

import "time"

// Action is what becomes of a message once a handler is done with it.
type Action int

// The actions the broker maps to JetStream acknowledgements, in one place.
const (
	// Ack: done. Any result it has is stored.
	Ack Action = iota
	// Term: invalid or refused; its rejected or failed result is stored,
	// and it is never delivered again.
	Term
	// Retry: not done; deliver it again after Delay.
	Retry
	// Defer: keep it in this worker and offer it in a round again after
	// Delay (at once when zero): it was not looked at yet, or this worker
	// may hold the employee's lease and so must be the one to look again.
	Defer
)

// Outcome is a handler's word on one message.
type Outcome struct {
	Action Action
	Delay  time.Duration
	// Why is the cause, for metrics and logs: the reason of a Term, or
	// what a Retry waits for ("busy", "store", "results").
	Why string
	// Revision is the employee record's revision once the reconciler
	// saved it; the broker drops notifications older than that.
	Revision uint64
	// Settled: the record as saved at Revision asks for nothing, now or
	// later, so the notification of that very revision is dropped too
	// instead of costing a look.
	Settled bool
}

var (
	done  = Outcome{Action: Ack}
	later = Outcome{Action: Defer}
)

func ptr(o Outcome) *Outcome { return &o }

// again asks this worker to look again after d.
func again(d time.Duration) Outcome { return Outcome{Action: Defer, Delay: d} }

// retry asks for another delivery after d.
func retry(d time.Duration, why string) Outcome {
	return Outcome{Action: Retry, Delay: d, Why: why}
}
