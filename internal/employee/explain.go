package employee

import (
	"fmt"
	"slices"
	"time"
)

// Ahead is the desired state after a change dated ahead takes effect.
type Ahead struct {
	At    time.Time `json:"at"`
	Event string    `json:"event"`
	Kind  string    `json:"kind"`
	State string    `json:"state"`
}

// Timeline is the desired state now and after each change waiting for its
// time.
func (r Record) Timeline(now time.Time) (string, []Ahead) {
	var ahead []Ahead
	changes := slices.Clone(r.Scheduled)
	slices.SortFunc(changes, func(a, b Change) int { return a.Time.Compare(b.Time) })
	for _, c := range changes {
		if c.Time.After(now) {
			ahead = append(ahead, Ahead{At: c.Time, Event: c.ID, Kind: string(c.Kind), State: r.StateAt(c.Time).String()})
		}
	}
	return r.StateAt(now).String(), ahead
}

// NextAction says, in a sentence, what the worker does next for the
// employee, from the record alone, at now.
func (r Record) NextAction(now time.Time) string {
	c := r.Clone()
	p := c.Next(now, "")
	switch {
	case !p.BusyUntil.IsZero() && p.BusyUntil.After(now):
		return fmt.Sprintf("wait: worker %s is working on it (its lease runs until %s)", c.Lease.Owner, stamp(c.Lease.Until))
	case c.Guard != nil && c.Guard.Held != 0:
		return fmt.Sprintf("wait: the mass-offboarding guard of organization %d holds this deactivation until a person runs worker guard approve or reject", c.OrganizationID)
	case c.Guard != nil:
		return fmt.Sprintf("%s, once the mass-offboarding guard of organization %d has counted it (waiting since %s)", c.change(), c.OrganizationID, stamp(c.Guard.Since))
	case c.Retry != nil && now.Before(c.Retry.NextAt):
		return fmt.Sprintf("retry at %s (attempt %d failed: %s): %s", stamp(c.Retry.NextAt), c.Retry.Attempts, c.Retry.Err, c.change())
	case c.Failure != "":
		return "nothing until the employee's next event: " + c.Failure
	case p.Act:
		return c.change() + " now"
	case !p.WakeAt.IsZero():
		later := c.Clone()
		later.Fold(p.WakeAt)
		return fmt.Sprintf("nothing now; at %s: %s", stamp(p.WakeAt), later.change())
	}
	return "nothing: in step"
}

// change describes what making ChatHub match the record takes.
func (r *Record) change() string {
	want, needed := r.State().Want()
	switch {
	case r.Pending != nil:
		return fmt.Sprintf("find the operator named %q in organization %d (a create may have happened) or create it", r.Pending.Name, r.OrganizationID)
	case needed && r.OperatorID == 0:
		return fmt.Sprintf("create an operator named %q in organization %d, unless one of that name can be adopted", r.Name, r.OrganizationID)
	case r.OperatorID != 0 && r.OperatorStatus != want && (needed || r.OperatorStatus != StatusDeleted):
		return fmt.Sprintf("set operator %d to %s", r.OperatorID, want)
	case r.HasDue():
		return fmt.Sprintf("publish the results of %d events", len(r.dueIDs()))
	}
	return "nothing to change in ChatHub"
}

func (r *Record) dueIDs() []string {
	_, due := r.OwedIDs()
	return due
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
