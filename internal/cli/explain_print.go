package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// print writes the explanation for a person.
func (x explanation) print(w io.Writer) {
	fmt.Fprintf(w, "employee %s, organization %d\n", x.EmployeeID, x.OrganizationID)
	desired := []string{x.Desired + " now"}
	org := x.OrganizationID
	for _, a := range x.Ahead {
		state := a.State
		if a.OrganizationID != org {
			state, org = fmt.Sprintf("%s in organization %d", a.State, a.OrganizationID), a.OrganizationID
		}
		desired = append(desired, fmt.Sprintf("%s from %s (%s %s)", state, a.At.UTC().Format(time.RFC3339), a.Kind, a.Event))
	}
	fmt.Fprintf(w, "desired:   %s\n", strings.Join(desired, "; "))
	op := "none"
	if x.Operator.ID != 0 {
		op = fmt.Sprintf("%d in organization %d, %s as recorded; ChatHub: %s", x.Operator.ID, x.Operator.OrganizationID, x.Operator.Recorded, x.Operator.ChatHub)
	}
	if x.Operator.ID != 0 && x.Operator.OrganizationID != x.OrganizationID && x.Operator.Recorded != "deleted" {
		op += fmt.Sprintf("; the employee moved to organization %d: this one is deleted once their operator there exists", x.OrganizationID)
	}
	if x.Operator.Relist {
		op += "; ChatHub is listed afresh before the next create (an operator vanished, or a create's answer was lost)"
	}
	fmt.Fprintf(w, "operator:  %s\n", op)
	for _, o := range x.Retired {
		fmt.Fprintf(w, "left:      operator %d in organization %d, which the employee left: %s as recorded; ChatHub: %s; expected: %s\n",
			o.ID, o.OrganizationID, o.Recorded, o.ChatHub, o.Expected)
	}
	if len(x.Waiting) == 0 {
		fmt.Fprintln(w, "waiting:   no event waits for its result")
	}
	for _, e := range x.Waiting {
		when := "due"
		if e.Scheduled {
			when = "scheduled"
		}
		fmt.Fprintf(w, "waiting:   %s %s, dated %s (%s; seq %d, attempt %d)\n", e.Kind, e.ID, e.Time.UTC().Format(time.RFC3339), when, e.Seq, e.Attempts)
	}
	for _, r := range x.Recent {
		line := fmt.Sprintf("result:    %s %s (seq %d) at %s", r.Outcome, r.ID, r.Seq, r.At.UTC().Format(time.RFC3339))
		if r.Reason != "" {
			line += ": " + r.Reason
		}
		fmt.Fprintln(w, line)
	}
	if g := x.Guard; g != nil {
		state := fmt.Sprintf("held by the mass-offboarding guard since %s: a person must approve or reject it (worker guard approve|reject -org %d)",
			g.Since.UTC().Format(time.RFC3339), x.OrganizationID)
		if d := g.Decision; d != nil {
			verb := map[bool]string{true: "approved", false: "rejected"}[d.Approve]
			state = fmt.Sprintf("held by the mass-offboarding guard; %s by %s at %s", verb, orUnknown(d.By), d.At.UTC().Format(time.RFC3339))
			if d.Reason != "" {
				state += ": " + d.Reason
			}
		}
		fmt.Fprintf(w, "guard:     %s\n", state)
	}
	if r := x.Retry; r != nil {
		fmt.Fprintf(w, "retry:     attempt %d failed (%s); next at %s\n", r.Attempts, r.Err, r.NextAt.UTC().Format(time.RFC3339))
	}
	if x.Failure != "" {
		fmt.Fprintf(w, "failure:   %s\n", x.Failure)
	}
	fmt.Fprintf(w, "next:      %s\n", x.Next)
}
