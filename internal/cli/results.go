package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// resultFilter selects results.
type resultFilter struct {
	outcomes []string
	employee string
}

func (f resultFilter) match(r hrevent.Result) bool {
	return (len(f.outcomes) == 0 || slices.Contains(f.outcomes, string(r.Outcome))) &&
		(f.employee == "" || r.EmployeeID == f.employee)
}

// newFilter builds a filter from the -outcome and -employee flags.
func newFilter(outcome, employee string) (resultFilter, error) {
	outcomes, err := parseOutcomes(outcome)
	return resultFilter{outcomes: outcomes, employee: employee}, err
}

func parseOutcomes(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		switch hrevent.Outcome(o) {
		case hrevent.Applied, hrevent.Skipped, hrevent.Rejected, hrevent.Failed:
			out = append(out, o)
		default:
			return nil, fmt.Errorf("-outcome: %q is not one of applied, skipped, rejected, failed", o)
		}
	}
	return out, nil
}

// Results prints the results in HR_RESULTS, readably or as JSON lines, and
// then follows new ones until interrupted (or stops at the end with
// -follow=false).
func Results(ctx context.Context, args []string, env Env) error {
	fs := flags("results", env)
	asJSON := fs.Bool("json", false, "print each result's data as a JSON line")
	outcome := fs.String("outcome", "", "only these outcomes, comma-separated: applied,skipped,rejected,failed")
	employee := fs.String("employee", "", "only results for this employee id")
	follow := fs.Bool("follow", true, "keep printing new results; false stops at the end of the stream")
	if err := fs.Parse(args); err != nil {
		return err
	}
	filter, err := newFilter(*outcome, *employee)
	if err != nil {
		return err
	}
	cfg, nc, js, err := connect(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	return eachResult(ctx, js, cfg.ResultsStream, *follow, func(r hrevent.Result, _ jetstream.Msg) error {
		if !filter.match(r) {
			return nil
		}
		if *asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, string(b))
			return nil
		}
		fmt.Fprintln(env.Stdout, r.Summary())
		return nil
	})
}

// eachResult calls fn for every result in the stream, in order; with follow
// it then waits for new ones until ctx is done.
func eachResult(ctx context.Context, js jetstream.JetStream, stream string, follow bool, fn func(hrevent.Result, jetstream.Msg) error) error {
	infoCtx, cancel := withTimeout(ctx)
	s, err := js.Stream(infoCtx, stream)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot open stream %s: %w", stream, err)
	}
	info := s.CachedInfo()
	caughtUp := info.State.Msgs == 0
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("cannot read stream %s: %w", stream, err)
	}
	for {
		if caughtUp && !follow {
			return nil
		}
		fetchCtx, cancel := context.WithTimeout(ctx, time.Second)
		m, err := cons.Next(jetstream.FetchContext(fetchCtx))
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout):
			caughtUp = true
			continue
		case err != nil:
			return fmt.Errorf("cannot read results: %w", err)
		}
		if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
			caughtUp = true
		}
		r, err := hrevent.DecodeResult(m.Data())
		if err != nil {
			continue
		}
		if err := fn(r, m); err != nil {
			return err
		}
	}
}
