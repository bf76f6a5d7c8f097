package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/drift"
)

// reconcileOutput is what reconcile -json prints.
type reconcileOutput struct {
	Organizations []drift.Report `json:"organizations"`
	// Drift counts the findings that concern employees, Applied those
	// corrected, Unmanaged the operators no employee claims.
	Drift     int  `json:"drift"`
	Applied   int  `json:"applied"`
	Unmanaged int  `json:"unmanaged"`
	InStep    bool `json:"inStep"`
	// Back counts the corrected employees the workers drove back while
	// reconcile waited; NotBack lists those they had not when it ended.
	Back    int      `json:"back"`
	NotBack []string `json:"notBack,omitempty"`
}

// Reconcile compares the employees' desired state with ChatHub and
// reports drift; -apply drives the drifted employees back.
func Reconcile(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "reconcile [-org N | -employee ID] [-apply] [-wait D] [-json]",
		Summary: "Compares, per organization (-org N, or every organization with records), what the employees'\n" +
			"records say ChatHub holds with what ChatHub lists, one list call each, and reports drift: statuses\n" +
			"changed by hand, operators deleted by hand or gone, operators no employee claims (reported, never\n" +
			"touched). -apply corrects the drifted employees' records so that the running workers drive ChatHub\n" +
			"back (rate limit, adopt before create, claims), and waits up to -wait for them.\n" +
			"-employee ID compares one employee (provisioning on demand): what their record asks, what ChatHub\n" +
			"holds and what the worker does next; -apply has the running worker drive them now (drift corrected,\n" +
			"a retry waiting for its backoff let go at once) and waits up to -wait for it.\n" +
			"Exit 0 in step (or drift applied and driven back), 1 error, 3 drift found and not applied.",
		Example: "worker reconcile -org 24\nworker reconcile -apply -json\nworker reconcile -employee E-1001 -apply",
	}
	fs := spec.Flags(env)
	orgs := fs.String("org", "", "organization ids to compare, comma-separated (default: every organization with records)")
	one := fs.String("employee", "", "compare only this employee; with -apply, the worker drives them now")
	apply := fs.Bool("apply", false, "correct the drifted employees' records so that the workers drive ChatHub back")
	wait := fs.Duration("wait", time.Minute, "with -apply, how long to wait for the workers to drive the employees back (0: do not wait)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	rest, err := spec.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("unexpected argument %q", rest[0])
	}
	ids, err := parseOrgs(*orgs)
	if err != nil {
		return err
	}
	if *one != "" && len(ids) > 0 {
		return usageError("-org and -employee exclude each other: -employee compares the organization of that employee")
	}
	cfg, nc, js, err := connectNeeding(env, config.Worker)
	if err != nil {
		return err
	}
	defer nc.Close()
	openCtx, cancel := withTimeout(ctx)
	defer cancel()
	kv, err := js.KeyValue(openCtx, cfg.KVBucket)
	if err != nil {
		return fmt.Errorf("cannot open the bucket %s (has a worker run yet?): %w", cfg.KVBucket, err)
	}
	store := broker.NewStore(js, kv)
	hub, err := hubClient(cfg)
	if err != nil {
		return err
	}
	if *one != "" {
		return reconcileOne(ctx, env, store, hub, broker.NewSchedules(js, cfg.SchedulesStream), *one, *apply, *wait, *asJSON)
	}
	reports, checkErr := drift.Check(ctx, store, hub, broker.NewSchedules(js, cfg.SchedulesStream), drift.Options{Orgs: ids, Apply: *apply})
	if checkErr != nil && len(reports) == 0 {
		return checkErr
	}
	out := summarize(reports)
	if *apply && out.Applied > 0 && *wait > 0 {
		fmt.Fprintf(env.Stderr, "waiting up to %s for the workers to drive %d employees back\n", *wait, out.Applied)
		if out.NotBack, err = waitBack(ctx, store, reports, *wait); err != nil {
			return err
		}
		out.Back = out.Applied - len(out.NotBack)
	}
	if *asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(out); err != nil {
			return err
		}
	} else {
		out.print(env.Stdout, *apply)
	}
	switch {
	case checkErr != nil:
		return checkErr
	case len(out.NotBack) > 0:
		return partly("%s not back in step after %s: is a worker running?", Count(len(out.NotBack), "employee"), *wait)
	case out.Drift > out.Applied:
		return partly("drift found: %d employees differ from ChatHub (worker reconcile -apply drives them back)", out.Drift-out.Applied)
	}
	return nil
}

// parseOrgs reads -org: organization ids, comma-separated.
func parseOrgs(s string) ([]int, error) {
	var ids []int
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		id, err := strconv.Atoi(part)
		if err != nil || id <= 0 {
			return nil, usageError("-org: %q is not an organization id (a positive integer)", part)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func summarize(reports []drift.Report) reconcileOutput {
	out := reconcileOutput{Organizations: reports}
	if out.Organizations == nil {
		out.Organizations = []drift.Report{}
	}
	for _, rep := range reports {
		out.Drift += rep.Managed()
		out.Unmanaged += rep.Count(drift.Unmanaged)
		for _, f := range rep.Findings {
			if f.Applied {
				out.Applied++
			}
		}
	}
	out.InStep = out.Drift == 0
	return out
}

// waitBack waits until the corrected employees' records say ChatHub holds
// their desired state again, and returns those that do not by the end.
func waitBack(ctx context.Context, store *broker.Store, reports []drift.Report, wait time.Duration) ([]string, error) {
	waiting := map[string]bool{}
	for _, rep := range reports {
		for _, f := range rep.Findings {
			if f.Applied {
				waiting[f.EmployeeID] = true
			}
		}
	}
	deadline := time.Now().Add(wait)
	for {
		for id := range waiting {
			rec, rev, err := store.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			if e := drift.EntryOf(rec, rev, time.Now()); !e.Busy {
				delete(waiting, id)
			}
		}
		if len(waiting) == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	var left []string
	for id := range waiting {
		left = append(left, id)
	}
	return left, nil
}

func (o reconcileOutput) print(w io.Writer, applied bool) {
	for _, rep := range o.Organizations {
		fmt.Fprintf(w, "organization %d: %d employees compared, %d busy (not compared), %d operators listed\n",
			rep.OrganizationID, rep.Employees, rep.Busy, rep.Operators)
		for _, f := range rep.Findings {
			fmt.Fprintf(w, "  %-15s %s\n", f.Kind, describe(f))
		}
		if rep.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", rep.Error)
		}
	}
	switch {
	case len(o.Organizations) == 0:
		fmt.Fprintln(w, "no organization to compare: no employee records yet")
	case o.Drift == 0:
		fmt.Fprintf(w, "in step: no employee's operator differs from ChatHub (%s)\n", Count(o.Unmanaged, "unmanaged operator"))
	case applied:
		fmt.Fprintf(w, "drift: %s, %d corrected, %d driven back by the workers; %s left alone\n",
			Count(o.Drift, "employee"), o.Applied, o.Back, Count(o.Unmanaged, "unmanaged operator"))
	default:
		fmt.Fprintf(w, "drift: %s (run with -apply to drive them back); %s\n", Count(o.Drift, "employee"), Count(o.Unmanaged, "unmanaged operator"))
	}
}

// describe says what one finding means, in a line.
func describe(f drift.Finding) string {
	op := fmt.Sprintf("operator %d %q", f.OperatorID, f.Name)
	var s string
	switch {
	case f.Kind == drift.Unmanaged:
		return fmt.Sprintf("%s is %s and no employee claims it (left alone)", op, f.Listed)
	case f.Kind == drift.Gone:
		s = fmt.Sprintf("employee %s: ChatHub no longer lists %s; the employee should be %s", f.EmployeeID, op, f.Desired)
	case f.Left:
		s = fmt.Sprintf("employee %s left organization %d: %s is %s in ChatHub; it should be deleted", f.EmployeeID, f.OrganizationID, op, f.Listed)
	default:
		s = fmt.Sprintf("employee %s: %s is %s in ChatHub; the employee should be %s", f.EmployeeID, op, f.Listed, f.Desired)
	}
	if f.Applied {
		s += " (corrected)"
	}
	return s
}
