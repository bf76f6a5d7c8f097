package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// The statuses of a check. Only a problem fails the command: what is
// missing, the worker creates at its first start.
const (
	statusOK      = "ok"
	statusProblem = "problem"
	statusWarning = "warning"
	statusMissing = "missing"
	statusSkipped = "skipped"
)

// finding is the outcome of one check.
type finding struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// checkReport is what check prints, as one JSON object with -json.
type checkReport struct {
	OK       bool      `json:"ok"`
	Problems int       `json:"problems"`
	Missing  int       `json:"missing"`
	Checks   []finding `json:"checks"`
}

func (r *checkReport) add(check, status, format string, args ...any) {
	r.Checks = append(r.Checks, finding{check, status, fmt.Sprintf(format, args...)})
	switch status {
	case statusProblem:
		r.Problems++
	case statusMissing:
		r.Missing++
	}
}

// Check validates the configuration, reaches NATS (JetStream, the server's
// version, the streams, consumer and bucket) and ChatHub (the token), then
// exits: 0 when the worker can start and work, 1 otherwise.
func Check(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "check [-json] [-timeout D]",
		Summary: "Validates the configuration in the environment, connects to NATS (JetStream enabled, server version),\n" +
			"says whether the streams, consumer and bucket exist (the worker creates what is missing at its first\n" +
			"start, so missing is not a problem), and asks ChatHub whether it accepts the token. One line per check;\n" +
			"exit 0 when all is well, 1 when a check found a problem. For CI and the first minute of a deploy.",
		Example: "worker check\nkubectl exec deploy/chathub-operator-worker -- /worker check -json",
	}
	fs := spec.Flags(env)
	asJSON := fs.Bool("json", false, "print one JSON object: {ok, problems, missing, checks: [{check, status, detail}]}")
	timeout := fs.Duration("timeout", 10*time.Second, "how long each of the NATS and ChatHub checks may take")
	rest, err := spec.Parse(fs, args)
	if err != nil {
		return err
	}
	if err := Args(rest); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usageError("-timeout must be a positive duration such as 10s")
	}
	r := &checkReport{Checks: []finding{}}
	cfg, ok := checkConfig(r, env.Environ)
	if ok {
		checkNATS(ctx, r, cfg, *timeout)
		checkChatHub(ctx, r, cfg, *timeout)
	} else {
		r.add("nats", statusSkipped, "not tried: fix the configuration first")
		r.add("chathub", statusSkipped, "not tried: fix the configuration first")
	}
	r.OK = r.Problems == 0
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else if err := r.print(env); err != nil {
		return err
	}
	if !r.OK {
		return fmt.Errorf("check found %s", Count(r.Problems, "problem"))
	}
	return nil
}

// checkConfig reads the configuration as the worker does, and lists the
// variables that look meant for the worker but are not read.
func checkConfig(r *checkReport, environ map[string]string) (config.Config, bool) {
	cfg, err := config.Parse(environ, config.Worker)
	if err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			r.add("configuration", statusProblem, "%s", line)
		}
	} else {
		r.add("configuration", statusOK, "valid for the worker: NATS, ChatHub and its token are set")
	}
	unknown := config.Unknowns(environ)
	for _, u := range unknown {
		r.add("variables", statusWarning, "%s", u)
	}
	if len(unknown) == 0 {
		r.add("variables", statusOK, "no unknown variable of the worker's prefixes")
	}
	return cfg, err == nil
}

func (r *checkReport) print(env Env) error {
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, f := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Status, f.Check, f.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case !r.OK:
	case r.Missing > 0:
		fmt.Fprintf(env.Stdout, "all is well: the worker can start, and creates the %s at its first start\n", Count(r.Missing, "missing object"))
	default:
		fmt.Fprintln(env.Stdout, "all is well: the worker can start")
	}
	return nil
}
