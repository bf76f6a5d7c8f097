package handlers

import (
	"fmt"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// TestCarried: while more changes are on their way, the hires that would
// make an organization's last synchronize call short wait for the next
// round, but only those that have waited less than BatchMaxWait; with
// nothing more on its way, or once too few of them are young, every hire
// goes now.
func TestCarried(t *testing.T) {
	const wait = 200 * time.Millisecond
	rc := &Reconciler{cfg: Config{BatchMaxSize: 100, BatchMaxWait: wait}.WithDefaults()}
	now := time.Now()
	hires := func(org, n int, age time.Duration, more bool) []*job {
		jobs := make([]*job, n)
		for i := range jobs {
			jobs[i] = &job{
				change: Change{EmployeeID: fmt.Sprintf("E-%d-%d", org, i), Since: now.Add(-age), More: more},
				rec:    employee.Record{OrganizationID: org, Hire: &employee.Mark{ID: fmt.Sprint(i)}},
			}
		}
		return jobs
	}
	count := func(jobs []*job, carry map[*job]bool) (n int) {
		for _, j := range jobs {
			if carry[j] {
				n++
			}
		}
		return n
	}

	t.Run("a young remainder waits", func(t *testing.T) {
		jobs := hires(24, 130, 0, true)
		carry := rc.carried(jobs, now)
		if n := count(jobs, carry); n != 30 {
			t.Fatalf("%d of 130 young hires carried, want the 30 past a full call", n)
		}
		for _, j := range jobs[100:] {
			if !carry[j] {
				t.Fatalf("%s sent, want the last-come carried", j.change.EmployeeID)
			}
		}
	})
	t.Run("full calls go", func(t *testing.T) {
		jobs := hires(24, 200, 0, true)
		if n := count(jobs, rc.carried(jobs, now)); n != 0 {
			t.Fatalf("%d carried from two full calls", n)
		}
	})
	t.Run("nothing more on its way", func(t *testing.T) {
		jobs := hires(24, 30, 0, false)
		if n := count(jobs, rc.carried(jobs, now)); n != 0 {
			t.Fatalf("%d of 30 hires carried with nothing more to come, want none", n)
		}
	})
	t.Run("waited BATCH_MAX_WAIT", func(t *testing.T) {
		jobs := hires(24, 30, wait, true)
		if n := count(jobs, rc.carried(jobs, now)); n != 0 {
			t.Fatalf("%d of 30 hires carried after waiting BATCH_MAX_WAIT, want none", n)
		}
	})
	t.Run("the round's own time does not count", func(t *testing.T) {
		// Offered a second ago, to a round that started then and took
		// that long to get here (a loaded machine).
		jobs := hires(24, 30, time.Second, true)
		if n := count(jobs, rc.carried(jobs, now.Add(-time.Second))); n != 30 {
			t.Fatalf("%d of 30 hires carried, want all: they had not waited when their round started", n)
		}
	})
	t.Run("old ones go, young ones fill the call", func(t *testing.T) {
		jobs := append(hires(24, 110, 0, true), hires(24, 10, wait, true)...)
		carry := rc.carried(jobs, now)
		if n := count(jobs, carry); n != 20 {
			t.Fatalf("%d carried, want 20 young ones", n)
		}
		for _, j := range jobs[110:] {
			if carry[j] {
				t.Fatalf("%s carried although it waited BATCH_MAX_WAIT", j.change.EmployeeID)
			}
		}
	})
	t.Run("too few young ones: all go", func(t *testing.T) {
		jobs := append(hires(24, 110, wait, true), hires(24, 20, 0, true)...)
		if n := count(jobs, rc.carried(jobs, now)); n != 0 {
			t.Fatalf("%d carried, want none: 20 young ones cannot shorten the call of 30", n)
		}
	})
	t.Run("per organization", func(t *testing.T) {
		a, b := hires(24, 100, 0, true), hires(25, 40, 0, true)
		carry := rc.carried(append(a, b...), now)
		if n, m := count(a, carry), count(b, carry); n != 0 || m != 40 {
			t.Fatalf("carried %d of organization 24's full call and %d of 25's 40, want 0 and 40", n, m)
		}
	})
	t.Run("a hire with an intent goes", func(t *testing.T) {
		jobs := hires(24, 10, 0, true)
		for _, j := range jobs {
			j.rec.Pending = &employee.Intent{Name: "x", Since: now}
		}
		if n := count(jobs, rc.carried(jobs, now)); n != 0 {
			t.Fatalf("%d carried of hires whose create may have happened, want none", n)
		}
	})
}
