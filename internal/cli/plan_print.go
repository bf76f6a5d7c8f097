package cli

import (
	"fmt"
	"io"
	"time"
)

// print writes the plan for a person.
func (p *plan) print(w io.Writer) {
	for _, o := range p.Orgs {
		fmt.Fprintf(w, "organization %d: create %d, adopt %d, activate %d, deactivate %d, delete %d (%s)\n",
			o.OrganizationID, o.Create, o.Adopt, o.Activate, o.Deactivate, o.Delete, Count(o.Calls, "call"))
		if o.MovesIn > 0 {
			fmt.Fprintf(w, "  %s in from another organization: made before their old operator is deleted\n", moving(o.MovesIn))
		}
		if o.MovesOut > 0 {
			fmt.Fprintf(w, "  %s out: deleted once their operator in the new organization exists (no deactivation for the guard)\n",
				moving(o.MovesOut))
		}
		if o.GuardHolds {
			fmt.Fprintf(w, "  the mass-offboarding guard would hold its %d deactivations (over %d): a person must approve them\n", o.GuardCount, o.GuardLimit)
		}
	}
	for _, s := range p.Scheduled {
		then := s.State
		if s.moved {
			then += fmt.Sprintf(" in organization %d", s.Org)
		}
		fmt.Fprintf(w, "line %d: %s %s for %s waits until %s, then %s\n", s.Line, s.Kind, s.EventID, s.Employee, s.At.UTC().Format(time.RFC3339), then)
	}
	for _, n := range p.NoOps {
		fmt.Fprintf(w, "line %d: %s %s changes nothing: %s\n", n.Line, n.Kind, n.EventID, n.Reason)
	}
	for _, b := range p.Invalid {
		fmt.Fprintf(w, "line %d: invalid: %s\n", b.Line, b.Reason)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "not asked: %s\n", s)
	}
	fmt.Fprintf(w, "%d lines: %d ChatHub calls, %s at %v calls a second (CHATHUB_RATE_LIMIT); nothing was published\n",
		p.Lines, p.Calls, p.Takes, p.RateLimit)
}

// moving says how many employees move, in words.
func moving(n int) string {
	if n == 1 {
		return "1 employee moves"
	}
	return fmt.Sprintf("%d employees move", n)
}
