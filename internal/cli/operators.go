package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
)

// Operators prints an organization's operators from ChatHub as a table or
// JSON, with the counts the API docs' status monitoring shows.
func Operators(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "operators -org N [-json]",
		Summary:  "Lists an organization's operators in ChatHub, with the counts by status the API docs show. Needs CHATHUB_BASE_URL and a token.",
		Example:  "worker operators -org 24",
	}
	fs := spec.Flags(env)
	org := fs.Int("org", 0, "organization id (required)")
	asJSON := fs.Bool("json", false, "print JSON: {operators, stats}")
	if rest, err := spec.Parse(fs, args); err != nil {
		return err
	} else if err := Args(rest); err != nil {
		return err
	} else if *org <= 0 {
		return usageError("-org is required: the organization id, a positive integer")
	}
	cfg, err := loadConfig(env, config.Needs{ChatHub: true})
	if err != nil {
		return err
	}
	hub, err := hubClient(cfg)
	if err != nil {
		return err
	}
	ops, err := hub.ListOperators(ctx, *org)
	if err != nil {
		return err
	}
	stats := chathub.Statistics(ops)
	if *asJSON {
		if ops == nil {
			ops = []chathub.Operator{}
		}
		return json.NewEncoder(env.Stdout).Encode(struct {
			Operators []chathub.Operator `json:"operators"`
			Stats     chathub.Stats      `json:"stats"`
		}{ops, stats})
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS")
	for _, op := range ops {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", op.ID, op.Name, op.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "organization %d: %d operators, %d active, %d inactive, %d deleted\n",
		*org, stats.Total, stats.Active, stats.Inactive, stats.Deleted)
	return nil
}
