package drift

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/ctxtime"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// Store is what a check reads and, applying, writes.
type Store interface {
	Records(ctx context.Context, each func(employee.Record, uint64), bad func(key string, err error)) error
	Claimed(ctx context.Context, org int) (map[int64]string, error)
	Get(ctx context.Context, employeeID string) (employee.Record, uint64, error)
	Put(ctx context.Context, rec employee.Record, rev uint64) (uint64, error)
}

// Poker asks the worker that leads to look at an employee whose record
// was corrected.
type Poker interface {
	Poke(ctx context.Context, employeeID string) error
}

// Lister lists an organization's operators, deleted ones included.
type Lister interface {
	ListOperators(ctx context.Context, orgID int) ([]chathub.Operator, error)
}

// Options shape a check.
type Options struct {
	// Orgs are the organizations to compare; empty: every organization
	// that has records.
	Orgs []int
	// Apply corrects the records of the drifted employees.
	Apply bool
	// Pause is the least time between two organizations' list calls, so
	// that a check leaves the rate budget to event work.
	Pause time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Check compares every organization asked for, one list call each, and
// corrects the drifted employees' records when asked to. An organization
// that cannot be compared gets a report with its error, and the error is
// returned too, after the others are compared.
func Check(ctx context.Context, store Store, hub Lister, poke Poker, o Options) ([]Report, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	byOrg := map[int][]Entry{}
	var bad []error
	err := store.Records(ctx, func(rec employee.Record, rev uint64) {
		for _, e := range Entries(rec, rev, now()) {
			if len(o.Orgs) == 0 || slices.Contains(o.Orgs, e.OrganizationID) {
				byOrg[e.OrganizationID] = append(byOrg[e.OrganizationID], e)
			}
		}
	}, func(key string, err error) { bad = append(bad, fmt.Errorf("record %s: %w", key, err)) })
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	orgs := o.Orgs
	if len(orgs) == 0 {
		// An organization where no employee has an operator has nothing
		// the worker manages: an organization ChatHub does not know, say.
		for org, entries := range byOrg {
			if slices.ContainsFunc(entries, func(e Entry) bool { return e.OperatorID != 0 }) {
				orgs = append(orgs, org)
			}
		}
		slices.Sort(orgs)
	}
	var reports []Report
	var errs []error
	for i, org := range orgs {
		if i > 0 && o.Pause > 0 {
			if err := ctxtime.Sleep(ctx, o.Pause); err != nil {
				return reports, err
			}
		}
		// One organization's trouble does not keep the others unchecked.
		rep, err := checkOrg(ctx, store, hub, poke, org, byOrg[org], o.Apply)
		if err != nil {
			if rep.OrganizationID == 0 {
				rep = Report{OrganizationID: org, Findings: []Finding{}}
			}
			rep.Error = err.Error()
			errs = append(errs, fmt.Errorf("organization %d: %w", org, err))
		}
		reports = append(reports, rep)
		if ctx.Err() != nil {
			break
		}
	}
	return reports, errors.Join(errs...)
}

// checkOrg compares one organization and applies its drift.
func checkOrg(ctx context.Context, store Store, hub Lister, poke Poker, org int, entries []Entry, apply bool) (Report, error) {
	claimed, err := store.Claimed(ctx, org)
	if err != nil {
		return Report{}, err
	}
	ops, err := hub.ListOperators(ctx, org)
	if err != nil {
		return Report{}, err
	}
	rep := Compare(org, entries, claimed, ops)
	if apply {
		if err := Apply(ctx, store, poke, rep.Findings); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Apply corrects the records of the findings that concern employees, each
// write checked against the revision compared (a record that changed since
// is left to the worker and the next check), and asks the worker that
// leads to look at each. It marks what it applied.
func Apply(ctx context.Context, store Store, poke Poker, findings []Finding) error {
	var failed []error
	for i, f := range findings {
		if f.Kind == Unmanaged {
			continue
		}
		rec, rev, err := store.Get(ctx, f.EmployeeID)
		if err != nil {
			return err
		}
		if rev != f.revision && !f.Left {
			continue
		}
		Correct(&rec, f)
		if _, err := store.Put(ctx, rec, rev); err != nil {
			if !errors.Is(err, employee.ErrConflict) {
				failed = append(failed, fmt.Errorf("employee %q: %w", f.EmployeeID, err))
			}
			continue
		}
		findings[i].Applied = true
		if err := poke.Poke(ctx, f.EmployeeID); err != nil {
			failed = append(failed, fmt.Errorf("employee %q: corrected, but %w", f.EmployeeID, err))
		}
	}
	return errors.Join(failed...)
}
