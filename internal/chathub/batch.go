package chathub

import (
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// orgQueue is one organization's hires waiting for a synchronize call.
//
// A call goes once it is full (BatchMaxSize names), once its oldest hire
// has waited BatchMaxWait, or once the hires have stopped coming: none
// joined for five times their recent mean gap (at least 2 ms, at most half
// of BatchMaxWait) while nothing more is on its way to the worker. So a
// lone hire on a quiet stream waits a few milliseconds, a flow of hires
// fills its calls, and no hire waits longer than BatchMaxWait for its call
// to fill.
// The wait for ChatHub's rate comes after and does not count: hires that
// join while a due call waits for its slot go in it.
type orgQueue struct {
	org   int
	tasks []*task
	// last is when the last hire joined, gap the mean gap between hires
	// joining (an exponential moving average, reset after a pause).
	last time.Time
	gap  time.Duration
}

// minQuiet is the least quiet that says hires have stopped coming, and
// how often a partial call is looked at again while more work is on its
// way.
const minQuiet = 2 * time.Millisecond

func (q *orgQueue) add(t *task) {
	if !q.last.IsZero() {
		switch gap := t.at.Sub(q.last); {
		case gap > time.Second:
			q.gap = 0 // a new flow: its gaps are yet to be seen
		case q.gap == 0:
			q.gap = gap
		default:
			q.gap = (4*q.gap + gap) / 5
		}
	}
	q.last = t.at
	q.tasks = append(q.tasks, t)
}

// dueAt says when the next call of the queue is due, if it has hires;
// busy says more work is on its way to the worker (the call is then due
// at the latest at its deadline, and looked at again soon).
func (q *orgQueue) dueAt(now time.Time, opts ExecutorOptions, busy bool) (time.Time, bool) {
	if len(q.tasks) == 0 {
		return time.Time{}, false
	}
	if len(q.tasks) >= opts.BatchMaxSize {
		return now, true
	}
	due := q.tasks[0].at.Add(opts.BatchMaxWait)
	if !busy {
		quiet := min(max(5*q.gap, minQuiet), opts.BatchMaxWait/2)
		if stopped := q.last.Add(quiet); stopped.Before(due) {
			due = stopped
		}
	}
	return due, true
}

// oldest is when the oldest hire waiting joined.
func (q *orgQueue) oldest() time.Time { return q.tasks[0].at }

// take removes and returns up to n of the oldest hires.
func (q *orgQueue) take(n int) []*task {
	n = min(n, len(q.tasks))
	out := q.tasks[:n:n]
	q.tasks = append([]*task(nil), q.tasks[n:]...)
	return out
}

// remove takes back a hire not sent yet.
func (q *orgQueue) remove(op employee.Op) bool {
	for i, t := range q.tasks {
		if t.op == op {
			q.tasks = append(q.tasks[:i], q.tasks[i+1:]...)
			return true
		}
	}
	return false
}
