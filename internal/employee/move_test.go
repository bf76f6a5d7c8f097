package employee_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// TestChangeDatedAheadAfterARefusal: a termination dated ahead takes
// effect at its time even though ChatHub refused the employee's move
// before it; its result is not lost behind the failure.
func TestChangeDatedAheadAfterARefusal(t *testing.T) {
	t.Parallel()
	r, h := hired(t)
	r.Merge(in(ev("x1", employee.Transfer, now), 99), 2, 1, "", now)
	d := r.Decide(now, open{})
	refused := employee.Answer{Op: d.Ops[0], Err: errors.Join(employee.ErrRefused, errors.New("organization does not exist"))}
	if failed, _ := r.Apply([]employee.Answer{refused}, employee.DefaultPolicy, now); len(failed) != 1 {
		t.Fatalf("refused move: %+v", failed)
	}
	at := now.Add(time.Hour)
	r.Merge(in(ev("t1", employee.Termination, at), 99), 3, 1, "", now)
	drive(&r, h, now) // tries the move again, refused again
	results := drive(&r, h, at)
	if len(results) != 1 || results[0].ID != "t1" || results[0].Outcome != employee.Applied || len(h.live()) != 0 {
		t.Errorf("at the termination's time: %+v, live %+v; want t1 applied and no operator", results, h.live())
	}
}
