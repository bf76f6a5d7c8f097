package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/kvstore"
)

// explanation is what explain says of one employee.
type explanation struct {
	EmployeeID     string              `json:"employeeId"`
	OrganizationID int                 `json:"organizationId"`
	Desired        string              `json:"desired"`
	Ahead          []employee.Ahead    `json:"ahead"`
	Operator       operatorView        `json:"operator"`
	Waiting        []waiting           `json:"waiting"`
	Recent         []employee.Resolved `json:"recent"`
	Guard          *employee.Guarded   `json:"guard,omitempty"`
	Retry          *employee.Retry     `json:"retry,omitempty"`
	Lease          *employee.Lease     `json:"lease,omitempty"`
	Failure        string              `json:"failure,omitempty"`
	Next           string              `json:"next"`
}

type operatorView struct {
	ID       int64  `json:"id,omitempty"`
	Recorded string `json:"recorded"`
	ChatHub  string `json:"chathub"`
	Pending  string `json:"pendingCreate,omitempty"`
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
	rec, rev, err := kvstore.New(js, kv).Get(opCtx, ids[0])
	if err != nil {
		return err
	}
	if rev == 0 {
		return fmt.Errorf("employee %q is unknown: no event of theirs has been taken in", ids[0])
	}
	x := explain(rec, time.Now())
	x.Operator.ChatHub = listedStatus(opCtx, cfg, rec)
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(x)
	}
	x.print(env.Stdout)
	return nil
}

// explain reads what the record says.
func explain(rec employee.Record, now time.Time) explanation {
	x := explanation{EmployeeID: rec.EmployeeID, OrganizationID: rec.OrganizationID, Recent: rec.Recent,
		Guard: rec.Guard, Retry: rec.Retry, Lease: rec.Lease, Failure: rec.Failure, Next: rec.NextAction(now)}
	x.Desired, x.Ahead = rec.Timeline(now)
	x.Operator = operatorView{ID: rec.OperatorID, Recorded: "none"}
	if rec.OperatorID != 0 {
		x.Operator.Recorded = rec.OperatorStatus.String()
	}
	if rec.Pending != nil {
		x.Operator.Pending = rec.Pending.Name
	}
	for _, o := range rec.Owed {
		scheduled := slices.ContainsFunc(rec.Scheduled, func(c employee.Change) bool { return c.ID == o.ID })
		x.Waiting = append(x.Waiting, waiting{o.ID, string(o.Kind), o.Time, o.Seq, o.Attempts, scheduled})
	}
	if x.Ahead == nil {
		x.Ahead = []employee.Ahead{}
	}
	if x.Waiting == nil {
		x.Waiting = []waiting{}
	}
	if x.Recent == nil {
		x.Recent = []employee.Resolved{}
	}
	return x
}

// listedStatus asks ChatHub (one list call) what it holds for the
// employee's operator.
func listedStatus(ctx context.Context, cfg config.Config, rec employee.Record) string {
	if cfg.ChatHubBaseURL == "" || cfg.ChatHubToken == "" {
		return "not asked: set CHATHUB_BASE_URL and CHATHUB_TOKEN (or CHATHUB_TOKEN_FILE)"
	}
	if rec.OperatorID == 0 {
		return "no operator to look for"
	}
	hub, err := hubClient(cfg)
	if err != nil {
		return "unknown: " + err.Error()
	}
	ops, err := hub.ListOperators(ctx, rec.OrganizationID)
	if err != nil {
		return "unknown: " + err.Error()
	}
	op, ok := chathub.FindByID(ops, rec.OperatorID)
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
		op = fmt.Sprintf("%d, %s as recorded; ChatHub: %s", x.Operator.ID, x.Operator.Recorded, x.Operator.ChatHub)
	}
	if x.Operator.Pending != "" {
		op += fmt.Sprintf("; a create of %q may have reached ChatHub", x.Operator.Pending)
	}
	fmt.Fprintf(w, "operator:  %s\n", op)
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
		state := "counted by the mass-offboarding guard"
		if g.Held != 0 {
			state = "held by the mass-offboarding guard (worker guard approve|reject -org N)"
		}
		fmt.Fprintf(w, "guard:     %s since %s\n", state, g.Since.UTC().Format(time.RFC3339))
	}
	if r := x.Retry; r != nil {
		fmt.Fprintf(w, "retry:     attempt %d failed (%s); next at %s\n", r.Attempts, r.Err, r.NextAt.UTC().Format(time.RFC3339))
	}
	if x.Failure != "" {
		fmt.Fprintf(w, "failure:   %s\n", x.Failure)
	}
	fmt.Fprintf(w, "next:      %s\n", x.Next)
}
