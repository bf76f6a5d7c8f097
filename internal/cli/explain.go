package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// explanation is what explain says of one employee.
type explanation struct {
	EmployeeID     string         `json:"employeeId"`
	OrganizationID int            `json:"organizationId"`
	Desired        string         `json:"desired"`
	Ahead          []ahead        `json:"ahead"`
	Operator       operatorView   `json:"operator"`
	Retired        []retiredView  `json:"retired,omitempty"`
	Waiting        []waiting      `json:"waiting"`
	Recent         []resolvedView `json:"recent"`
	Guard          *guardView     `json:"guard,omitempty"`
	Retry          *retryView     `json:"retry,omitempty"`
	Failure        string         `json:"failure,omitempty"`
	Next           string         `json:"next"`
}

type operatorView struct {
	ID             int64  `json:"id,omitempty"`
	OrganizationID int    `json:"organizationId,omitempty"`
	Recorded       string `json:"recorded"`
	ChatHub        string `json:"chathub"`
	// Relist: ChatHub is listed afresh before the next create (an
	// operator vanished, or a create's outcome is unknown).
	Relist bool `json:"relist,omitempty"`
}

// retiredView is an operator of an organization the employee left, still
// to delete.
type retiredView struct {
	ID             int64  `json:"id"`
	OrganizationID int    `json:"organizationId"`
	Recorded       string `json:"recorded"`
}

type ahead struct {
	At             time.Time `json:"at"`
	Event          string    `json:"event"`
	Kind           string    `json:"kind"`
	State          string    `json:"state"`
	OrganizationID int       `json:"organizationId"`
}

type resolvedView struct {
	ID      string    `json:"id"`
	Seq     uint64    `json:"seq"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

type guardView struct {
	Since time.Time `json:"since"`
	Held  uint64    `json:"held"`
	// Decision is a person's decision about the trip that holds it.
	Decision *guard.Decision `json:"decision,omitempty"`
}

type retryView struct {
	Attempts int       `json:"attempts"`
	NextAt   time.Time `json:"nextAt"`
	Err      string    `json:"err"`
}

type waiting struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Time      time.Time `json:"time"`
	Seq       uint64    `json:"streamSequence"`
	Attempts  int       `json:"attempts"`
	Scheduled bool      `json:"scheduled"`
}

// Explain says what the worker knows and will do about one employee.
func Explain(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "explain [-json] EMPLOYEE_ID",
		Summary: "Says what the worker knows and will do about one employee: the desired state now and at each\n" +
			"scheduled time, the operator as recorded and as ChatHub lists it, events waiting for their result,\n" +
			"the last results, a guard hold, a retry, and the next action. Exit 1 for an unknown employee.",
		Example: "worker explain E-1002\nworker explain -json 'E 1.*>'",
	}
	fs := spec.Flags(env)
	asJSON := fs.Bool("json", false, "print one JSON object")
	ids, err := spec.Parse(fs, args)
	if err != nil {
		return err
	}
	if err := Args(ids, "EMPLOYEE_ID"); err != nil {
		return err
	}
	cfg, nc, js, err := connect(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	opCtx, cancel := withTimeout(ctx)
	defer cancel()
	kv, err := js.KeyValue(opCtx, cfg.KVBucket)
	if err != nil {
		return fmt.Errorf("cannot open the bucket %s (has a worker run yet?): %w", cfg.KVBucket, err)
	}
	store := broker.NewStore(js, kv)
	rec, rev, err := store.Get(opCtx, ids[0])
	if err != nil {
		return err
	}
	if rev == 0 {
		return fmt.Errorf("employee %q is unknown: no event of theirs has been taken in", ids[0])
	}
	st, _, err := store.State(opCtx, rec.Org)
	if err != nil {
		return err
	}
	x := explain(rec, st, time.Now())
	x.Operator.ChatHub = listedStatus(opCtx, cfg, rec)
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(x)
	}
	x.print(env.Stdout)
	return nil
}

// explain reads what the record says, and the guard of the employee's
// organization.
func explain(rec employee.Record, st guard.State, now time.Time) explanation {
	x := explanation{EmployeeID: rec.EmployeeID, OrganizationID: rec.Org, Failure: rec.Failure,
		Next: rec.NextAction(now, storedGate{st}), Ahead: []ahead{}, Waiting: []waiting{}, Recent: []resolvedView{}}
	desired, later := rec.Timeline(now)
	x.Desired = desired.String()
	for _, a := range later {
		x.Ahead = append(x.Ahead, ahead{At: a.At, Event: a.Event, Kind: string(a.Kind), State: a.State.String(), OrganizationID: a.Org})
	}
	x.Operator = operatorView{ID: rec.Operator.ID, OrganizationID: rec.Operator.Org, Recorded: "none", Relist: rec.Relist}
	if rec.Operator.ID != 0 {
		x.Operator.Recorded = rec.Operator.Status.String()
	}
	for _, o := range rec.Retired {
		x.Retired = append(x.Retired, retiredView{ID: o.ID, OrganizationID: o.Org, Recorded: o.Status.String()})
	}
	for _, o := range rec.Owed {
		scheduled := slices.ContainsFunc(rec.Scheduled, func(c employee.Change) bool { return c.ID == o.ID })
		x.Waiting = append(x.Waiting, waiting{o.ID, string(o.Kind), o.Time, o.Seq, o.Attempts, scheduled})
	}
	for _, r := range rec.Recent {
		x.Recent = append(x.Recent, resolvedView{r.ID, r.Seq, string(r.Outcome), r.Reason, r.At})
	}
	if g := rec.Guard; g != nil {
		x.Guard = &guardView{Since: g.Since, Held: g.Held}
		if d, ok := st.Decided(g.Held); ok {
			x.Guard.Decision = &d
		}
	}
	if r := rec.Retry; r != nil {
		x.Retry = &retryView{r.Attempts, r.NextAt, r.Err}
	}
	return x
}

// storedGate is the mass-offboarding guard as its state in the store
// tells it: a trip waiting for a person holds every deactivation of the
// organization.
type storedGate struct{ st guard.State }

func (g storedGate) Admit(_ int, _ string, held uint64, _ time.Time) guard.Verdict {
	if held != 0 {
		if d, ok := g.st.Decided(held); ok {
			return guard.Verdict{Rejected: !d.Approve}
		}
		return guard.Verdict{Held: held}
	}
	if g.st.Tripped != nil {
		return guard.Verdict{Held: g.st.Tripped.Gen}
	}
	return guard.Verdict{}
}

// listedStatus asks ChatHub (one list call) what it holds for the
// employee's operator.
func listedStatus(ctx context.Context, cfg config.Config, rec employee.Record) string {
	if cfg.ChatHubBaseURL == "" || cfg.ChatHubToken == "" {
		return "not asked: set CHATHUB_BASE_URL and CHATHUB_TOKEN (or CHATHUB_TOKEN_FILE)"
	}
	if rec.Operator.ID == 0 {
		return "no operator to look for"
	}
	hub, err := hubClient(cfg)
	if err != nil {
		return "unknown: " + err.Error()
	}
	ops, err := hub.ListOperators(ctx, rec.Operator.Org)
	if err != nil {
		return "unknown: " + err.Error()
	}
	op, ok := chathub.FindByID(ops, rec.Operator.ID)
	if !ok {
		return "not listed: ChatHub does not know this operator"
	}
	return op.Status.String()
}

func (x explanation) print(w io.Writer) {
	fmt.Fprintf(w, "employee %s, organization %d\n", x.EmployeeID, x.OrganizationID)
	desired := []string{x.Desired + " now"}
	for _, a := range x.Ahead {
		desired = append(desired, fmt.Sprintf("%s from %s (%s %s)", a.State, a.At.UTC().Format(time.RFC3339), a.Kind, a.Event))
	}
	fmt.Fprintf(w, "desired:   %s\n", strings.Join(desired, "; "))
	op := "none"
	if x.Operator.ID != 0 {
		op = fmt.Sprintf("%d in organization %d, %s as recorded; ChatHub: %s", x.Operator.ID, x.Operator.OrganizationID, x.Operator.Recorded, x.Operator.ChatHub)
	}
	if x.Operator.Relist {
		op += "; ChatHub is listed afresh before the next create (an operator vanished, or a create's answer was lost)"
	}
	fmt.Fprintf(w, "operator:  %s\n", op)
	for _, o := range x.Retired {
		fmt.Fprintf(w, "left:      operator %d in organization %d (%s as recorded), deleted once the new one exists\n", o.ID, o.OrganizationID, o.Recorded)
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

func orUnknown(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}
