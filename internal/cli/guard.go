package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// Guard lists the organizations whose deactivations the mass-offboarding
// guard holds (`worker guard`), or decides for one (`worker guard approve
// -org N`, `worker guard reject -org N`). It needs only NATS.
func Guard(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "guard [approve|reject] [-org N] [-json]",
		Summary: "Lists the organizations whose deactivations the mass-offboarding guard holds; approve -org N applies\n" +
			"them, reject -org N fails them (ChatHub keeps those operators as they are). Needs only NATS_URL.",
		Example: "worker guard\nworker guard approve -org 24",
	}
	fs := spec.Flags(env)
	org := fs.Int("org", 0, "organization id (approve and reject)")
	reason := fs.String("reason", "", "why, kept with the decision (approve and reject)")
	by := fs.String("by", os.Getenv("USER"), "who decides, kept with the decision (approve and reject)")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := spec.Parse(fs, args)
	if err != nil {
		return err
	}
	verb := ""
	if len(rest) > 0 {
		verb, rest = rest[0], rest[1:]
	}
	switch {
	case verb != "" && verb != "approve" && verb != "reject":
		return usageError("unknown action %q: want approve or reject", verb)
	case len(rest) > 0:
		return usageError("unexpected argument %q", rest[0])
	case verb != "" && *org <= 0:
		return usageError("-org is required with %s: the organization whose held deactivations to %s", verb, verb)
	}
	cfg, nc, js, err := connect(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	kv, err := openBucket(ctx, js, cfg.KVBucket)
	if err != nil {
		return err
	}
	store := broker.NewStore(js, kv)
	if verb == "" {
		return listGuards(ctx, store, *asJSON, env)
	}
	return decide(ctx, cfg, js, store, *org, verb == "approve", *by, *reason, env)
}

// held is one organization's held deactivations, as listed: those of a
// trip that waits for a person, or those of a trip a person decided that
// the worker has not applied (or failed) yet.
type held struct {
	OrganizationID int       `json:"organizationId"`
	Held           int       `json:"held"`
	Since          time.Time `json:"since"`
	Threshold      int       `json:"threshold"`
	GuardThreshold string    `json:"guardThreshold"`
	Window         string    `json:"window"`
	// Decision is who decided, when and why, once a person did.
	Decision *guard.Decision `json:"decision,omitempty"`
}

func listGuards(ctx context.Context, store *broker.Store, asJSON bool, env Env) error {
	readCtx, cancel := withTimeout(ctx)
	defer cancel()
	states, err := store.States(readCtx)
	if err != nil {
		return err
	}
	slices.SortFunc(states, func(a, b guard.State) int { return a.OrganizationID - b.OrganizationID })
	list := []held{}
	for _, st := range states {
		if st.Tripped == nil && len(st.Decisions) == 0 {
			continue
		}
		waiting, err := store.Held(readCtx, st.OrganizationID)
		if err != nil {
			return err
		}
		count := map[uint64]int{}
		for _, w := range waiting {
			count[w.Held]++
		}
		if t := st.Tripped; t != nil {
			list = append(list, held{st.OrganizationID, count[t.Gen], t.Since, t.Threshold, t.Rule, t.Window.String(), nil})
		}
		for _, d := range st.Decisions {
			if n := count[d.Gen]; n > 0 && d.Trip != nil {
				t := d.Trip
				list = append(list, held{st.OrganizationID, n, t.Since, t.Threshold, t.Rule, t.Window.String(), &d})
			}
		}
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "no organization's deactivations are held")
	} else if err := printHeld(list, env); err != nil {
		return err
	}
	for _, st := range states {
		if n := len(st.Decisions); n > 0 {
			d := st.Decisions[n-1]
			fmt.Fprintf(env.Stdout, "last decision: organization %d %s %s\n", st.OrganizationID, verbOf(d), decidedBy(d))
		}
	}
	return nil
}

// printHeld prints the held deactivations as a table.
func printHeld(list []held, env Env) error {
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORGANIZATION\tHELD\tSINCE\tTHRESHOLD\tWINDOW\tDECISION")
	undecided := false
	for _, h := range list {
		decision := "waits for a person"
		if d := h.Decision; d != nil {
			decision = verbOf(*d) + ": the worker is releasing them"
		} else {
			undecided = true
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d (%s)\t%s\t%s\n", h.OrganizationID, h.Held, h.Since.UTC().Format(time.RFC3339),
			h.Threshold, h.GuardThreshold, h.Window, decision)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if undecided {
		fmt.Fprintln(env.Stdout, "decide with: worker guard approve -org N, or worker guard reject -org N")
	}
	return nil
}

// verbOf is what a person decided.
func verbOf(d guard.Decision) string {
	return map[bool]string{true: "approved", false: "rejected"}[d.Approve]
}

// decidedBy says who decided about which trip, when and why.
func decidedBy(d guard.Decision) string {
	s := fmt.Sprintf("by %s at %s", orUnknown(d.By), d.At.UTC().Format(time.RFC3339))
	if t := d.Trip; t != nil {
		s += fmt.Sprintf(" (tripped %s with %d held)", t.Since.UTC().Format(time.RFC3339), t.Held)
	}
	if d.Reason != "" {
		s += ": " + d.Reason
	}
	return s
}

// decide records a person's decision (who, when, why), then wakes every
// deactivation the trip held, so that the worker applies (or fails) them
// at once; the worker also finds them by itself within seconds. Running
// the same decision again finishes one that was interrupted.
func decide(ctx context.Context, cfg config.Config, js jetstream.JetStream, store *broker.Store, org int, approve bool, by, reason string, env Env) error {
	var d guard.Decision
	var again bool
	for attempt := 0; ; attempt++ {
		opCtx, cancel := withTimeout(ctx)
		st, rev, err := store.State(opCtx, org)
		if err == nil {
			st.OrganizationID = org
			if d, again, err = st.Decide(approve, by, reason, time.Now()); err == nil && !again {
				_, err = store.PutState(opCtx, st, rev)
			}
		}
		cancel()
		if errors.Is(err, employee.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	opCtx, cancel := withTimeout(ctx)
	defer cancel()
	held, err := store.Held(opCtx, org)
	if err != nil {
		return fmt.Errorf("decided, but cannot read the held deactivations (run the command again): %w", err)
	}
	wakes := broker.NewSchedules(js, cfg.SchedulesStream)
	woken := 0
	for id, w := range held {
		if w.Held != d.Gen {
			continue
		}
		if err := wakes.Poke(opCtx, id); err != nil {
			return fmt.Errorf("decided, but cannot wake the held employees (run the command again): %w", err)
		}
		woken++
	}
	what := "approved: the worker applies"
	if !approve {
		what = "rejected: the worker fails"
	}
	if again {
		what += " (decided before; finishing)"
	}
	fmt.Fprintf(env.Stdout, "organization %d: %s %s; decided %s\n", org, what, Count(woken, "held deactivation"), decidedBy(d))
	return nil
}
