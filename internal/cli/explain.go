package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/nats-io/nats.go/jetstream"
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
// to delete: it is expected to be deleted.
type retiredView struct {
	ID             int64  `json:"id"`
	OrganizationID int    `json:"organizationId"`
	Recorded       string `json:"recorded"`
	ChatHub        string `json:"chathub"`
	Expected       string `json:"expected"`
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
		return fmt.Errorf("employee %q is unknown: no event of theirs has been taken in%s", ids[0], waitingEvents(opCtx, js, cfg))
	}
	st, _, err := store.State(opCtx, rec.Org)
	if err != nil {
		return err
	}
	x := explain(rec, st, time.Now())
	x.Operator.ChatHub = listedStatus(opCtx, cfg, rec.Operator)
	for i, o := range rec.Retired {
		x.Retired[i].ChatHub = listedStatus(opCtx, cfg, o)
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(x)
	}
	x.print(env.Stdout)
	return nil
}

// explain reads what the record says, and the guard of the employee's
// organization.
func explain(rec employee.Record, st guard.State, now time.Time) explanation {
	x := explanation{EmployeeID: rec.EmployeeID, OrganizationID: rec.OrgAt(now), Failure: rec.Failure,
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
		x.Retired = append(x.Retired, retiredView{ID: o.ID, OrganizationID: o.Org, Recorded: o.Status.String(), Expected: employee.StatusDeleted.String()})
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

// listedStatus asks ChatHub (one list call) what it holds for one of the
// employee's operators.
func listedStatus(ctx context.Context, cfg config.Config, o employee.Operator) string {
	if cfg.ChatHubBaseURL == "" || cfg.ChatHubToken == "" {
		return "not asked: set CHATHUB_BASE_URL and CHATHUB_TOKEN (or CHATHUB_TOKEN_FILE)"
	}
	if o.ID == 0 {
		return "no operator to look for"
	}
	hub, err := hubClient(cfg)
	if err != nil {
		return "unknown: " + err.Error()
	}
	ops, err := hub.ListOperators(ctx, o.Org)
	if err != nil {
		return "unknown: " + err.Error()
	}
	op, ok := chathub.FindByID(ops, o.ID)
	if !ok {
		return "not listed: ChatHub does not know this operator"
	}
	return op.Status.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}

// waitingEvents says how many events wait to be taken in, or are held by
// the worker and not saved yet: an employee's may be among them.
func waitingEvents(ctx context.Context, js jetstream.JetStream, cfg config.Config) string {
	c, err := js.Consumer(ctx, cfg.EventsStream, cfg.ConsumerName)
	if err != nil {
		return ""
	}
	info := c.CachedInfo()
	if info.NumPending == 0 && info.NumAckPending == 0 {
		return ""
	}
	return fmt.Sprintf(" (yet %s wait in %s and %d are held by the worker, not saved yet: theirs may be among them; "+
		"/readyz says whether the worker is paused)", Count(int(info.NumPending), "event"), cfg.EventsStream, info.NumAckPending)
}
