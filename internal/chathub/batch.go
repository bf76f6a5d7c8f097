package chathub

import (
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// orgQueue is one organization's hires waiting for a synchronize call.
//
// A call goes once it is full (BatchMaxSize names), once its oldest hire
// has waited BatchMaxWait, or as soon as nothing more is on its way to
// the worker (Busy: events in the stream not taken in, in hand, or not
// looked at yet, or events still arriving). So a lone hire on a quiet
// stream waits for nothing, a burst or a flow of hires fills its calls,
// and no hire waits longer than BatchMaxWait for its call to fill.
// The wait for ChatHub's rate comes after and does not count: hires that
// join while a due call waits for its slot go in it.
type orgQueue struct {
	org   int
	tasks []*task
}

// recheck is how often a partial call is looked at again while more work
// is on its way: nobody tells when that is done.
const recheck = 2 * time.Millisecond

func (q *orgQueue) add(t *task) { q.tasks = append(q.tasks, t) }

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
	if !busy {
		return now, true
	}
	return q.tasks[0].at.Add(opts.BatchMaxWait), true
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
