package employee

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Ahead is the desired state after a change dated ahead takes effect.
type Ahead struct {
	At    time.Time
	Event string
	Kind  Kind
	State State
	Org   int
}

// Timeline is the desired state now and after each change waiting for its
// time.
func (r Record) Timeline(now time.Time) (State, []Ahead) {
	var ahead []Ahead
	changes := slices.Clone(r.Scheduled)
	slices.SortFunc(changes, func(a, b Change) int { return a.Time.Compare(b.Time) })
	for _, c := range changes {
		if c.Time.After(now) {
			ahead = append(ahead, Ahead{At: c.Time, Event: c.ID, Kind: c.Kind, State: r.StateAt(c.Time), Org: r.OrgAt(c.Time)})
		}
	}
	return r.StateAt(now), ahead
}

// NextAction says, in a sentence, what the worker does next for the
// employee at now, from the record and the guard as gate tells it.
func (r Record) NextAction(now time.Time, gate Gate) string {
	c := r.Clone()
	d := c.Decide(now, gate)
	switch {
	case d.Held:
		return fmt.Sprintf("held: the mass-offboarding guard of organization %d holds this deactivation; a person must approve or reject it "+
			"(worker guard approve|reject -org %d)", c.Org, c.Org)
	case c.Retry != nil && now.Before(c.Retry.NextAt):
		return fmt.Sprintf("retry at %s (attempt %d failed: %s): %s", stamp(c.Retry.NextAt), c.Retry.Attempts, c.Retry.Err, c.describe(c.wanted()))
	case c.Failure != "":
		return "nothing until the employee's next event: " + c.Failure
	case len(d.Ops) > 0:
		return c.describe(d.Ops) + " now"
	case len(d.Results) > 0:
		return fmt.Sprintf("publish the results of %d events", len(d.Results))
	case !d.Wake.IsZero() && !c.Settled():
		return fmt.Sprintf("wait until %s for the mass-offboarding guard of organization %d to count this deactivation with the others "+
			"arriving, then %s", stamp(d.Wake), c.Org, c.describe(c.wanted()))
	case !d.Wake.IsZero():
		later := c.Clone()
		later.Fold(d.Wake)
		return fmt.Sprintf("nothing now; at %s: %s", stamp(d.Wake), later.describe(later.wanted()))
	}
	return "nothing: in step"
}

// describe says what a list of operations does; for the make of a move,
// what follows it: the old operator's deletion.
func (r *Record) describe(ops []Op) string {
	if len(ops) == 0 {
		return "nothing to change in ChatHub"
	}
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = op.String()
		switch {
		case op.Kind == Ensure && op.NoCreate:
			parts[i] = fmt.Sprintf("look in organization %d for an operator named %s that a create whose answer was lost may have made, and set it to %s",
				op.Org, Quote(op.Name), op.To)
		case op.Kind == Ensure:
			parts[i] = fmt.Sprintf("adopt an operator named %s in organization %d that no employee claims, or create one", Quote(op.Name), op.Org)
			if op.To != StatusActive {
				parts[i] += ", with status " + op.To.String()
			}
			if old := r.Operator; old.ID != 0 && old.Org != op.Org && old.Status != StatusDeleted {
				parts[i] += fmt.Sprintf(", then delete operator %d of organization %d, which the employee left", old.ID, old.Org)
			}
		}
	}
	return strings.Join(parts, ", then ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
