package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/kvstore"
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
	store := kvstore.New(js, kv)
	if verb == "" {
		return listGuards(ctx, store, *asJSON, env)
	}
	return decide(ctx, cfg, js, store, *org, verb == "approve", env)
}

// held is one organization's held deactivations, as listed.
type held struct {
	OrganizationID int       `json:"organizationId"`
	Held           int       `json:"held"`
	Since          time.Time `json:"since"`
	Threshold      int       `json:"threshold"`
	GuardThreshold string    `json:"guardThreshold"`
	Window         string    `json:"window"`
}

func listGuards(ctx context.Context, store *kvstore.Store, asJSON bool, env Env) error {
	readCtx, cancel := withTimeout(ctx)
	defer cancel()
	states, err := store.States(readCtx)
	if err != nil {
		return err
	}
	list := []held{}
	for _, st := range states {
		if st.Tripped == nil {
			continue
		}
		waiting, err := store.Waiting(readCtx, st.OrganizationID)
		if err != nil {
			return err
		}
		n := 0
		for _, w := range waiting {
			if w.Held == st.Tripped.Gen {
				n++
			}
		}
		t := st.Tripped
		list = append(list, held{st.OrganizationID, n, t.Since, t.Threshold, t.Rule, t.Window.String()})
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "no organization's deactivations are held")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORGANIZATION\tHELD\tSINCE\tTHRESHOLD\tWINDOW")
	for _, h := range list {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d (%s)\t%s\n", h.OrganizationID, h.Held, h.Since.UTC().Format(time.RFC3339), h.Threshold, h.GuardThreshold, h.Window)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "decide with: worker guard approve -org N, or worker guard reject -org N")
	return nil
}

// decide records a person's decision, then wakes every held employee of
// the organization, so that the worker applies (or fails) them. Held
// employees left over by an earlier decision are woken too.
func decide(ctx context.Context, cfg config.Config, js jetstream.JetStream, store *kvstore.Store, org int, approve bool, env Env) error {
	var trip guard.Trip
	for attempt := 0; ; attempt++ {
		opCtx, cancel := withTimeout(ctx)
		st, rev, err := store.State(opCtx, org)
		if err == nil {
			if trip, err = st.Decide(approve, time.Now()); err == nil {
				err = store.PutState(opCtx, st, rev)
			}
		}
		cancel()
		if errors.Is(err, handlers.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	opCtx, cancel := withTimeout(ctx)
	defer cancel()
	waiting, err := store.Waiting(opCtx, org)
	if err != nil {
		return err
	}
	woken := 0
	for id, w := range waiting {
		if w.Held == 0 {
			continue
		}
		if _, err := js.Publish(opCtx, broker.WakeSubject(cfg.SchedulesStream, id), nil); err != nil {
			return fmt.Errorf("decided, but cannot wake the held employees (run the command again): %w", err)
		}
		woken++
	}
	what := "approved: the worker applies"
	if !approve {
		what = "rejected: the worker fails"
	}
	fmt.Fprintf(env.Stdout, "organization %d: %s %s (tripped %s with %d held, threshold %d)\n",
		org, what, Count(woken, "held deactivation"), trip.Since.UTC().Format(time.RFC3339), trip.Held, trip.Threshold)
	return nil
}
