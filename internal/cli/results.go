package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
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

// newFilter builds a filter from the -outcome and -employee flags; an
// unknown outcome is a usage error (for replay too).
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
			return nil, usageError("-outcome: %q is not one of applied, skipped, rejected, failed", o)
		}
	}
	return out, nil
}

// Results prints the results in HR_RESULTS, readably or as JSON lines, and
// then follows new ones until interrupted (or stops at the end with
// -follow=false).
func Results(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "results [-json] [-outcome LIST] [-employee ID] [-since D|TIME] [-follow=false]",
		Summary: "Prints the results in HR_RESULTS and follows new ones. Outcomes are filtered by the server (the\n" +
			"result's subject), employees here.",
		Example: "worker results -outcome failed,rejected -since 24h -follow=false\nworker results -json -employee E-1001",
	}
	fs := spec.Flags(env)
	asJSON := fs.Bool("json", false, "print each result's data as a JSON line")
	outcome := fs.String("outcome", "", "only these outcomes, comma-separated: applied,skipped,rejected,failed")
	employee := fs.String("employee", "", "only results for this employee id")
	since := fs.String("since", "", "only results stored since then: a duration back from now (24h) or an RFC 3339 time")
	follow := fs.Bool("follow", true, "keep printing new results; false stops at the end of the stream")
	if rest, err := spec.Parse(fs, args); err != nil {
		return err
	} else if err := Args(rest); err != nil {
		return err
	}
	filter, err := newFilter(*outcome, *employee)
	if err != nil {
		return err
	}
	from, err := parseSince(*since, time.Now())
	if err != nil {
		return err
	}
	cfg, nc, js, err := connect(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	read := readOptions{follow: *follow, since: from, subjects: filter.subjects()}
	rr, err := openResults(ctx, js, cfg.ResultsStream, read)
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(env.Stdout, resultRow, "OUTCOME", "KIND", "EVENT", "EMPLOYEE", "ORG", "OPERATOR", "SEQ", "ATTEMPT", "REASON")
	}
	return rr.each(ctx, func(r hrevent.Result, _ jetstream.Msg, _ bool) error {
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
		writeResult(env.Stdout, r)
		return nil
	})
}

// resultRow lays a result out in columns of fixed widths, so that rows
// printed as they arrive line up with the header and the rows before them
// (a tabwriter sizes each flush on its own rows). A longer value pushes
// the rest of its row to the right.
const resultRow = "%-8s  %-13s  %-16s  %-10s  %-5s  %-15s  %-6s  %-7s  %s\n"

// writeResult writes one result as a row: outcome, kind, event, employee,
// organization, operator, sequence and attempt, and the reason.
func writeResult(w io.Writer, r hrevent.Result) {
	op := "-"
	if r.OperatorID != 0 && r.OperatorStatus != nil {
		op = fmt.Sprintf("%d (%s)", r.OperatorID, hrevent.StatusName(*r.OperatorStatus))
	}
	fmt.Fprintf(w, resultRow, r.Outcome, hrevent.OrDash(string(hrevent.KindOfType(r.EventType))), hrevent.OrDash(r.EventID),
		hrevent.OrDash(r.EmployeeID), strconv.Itoa(r.OrganizationID), op, strconv.FormatUint(r.StreamSequence, 10),
		strconv.Itoa(r.Attempts), r.Reason)
}

// parseSince reads -since: a duration back from now, or a time; anything
// else is a usage error.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError("-since: %q is neither a duration such as 24h nor a time such as 2026-11-25T09:00:00Z", s)
}

// subjects are the result subjects of the filter's outcomes, for the
// server to filter on.
func (f resultFilter) subjects() []string {
	var out []string
	for _, o := range f.outcomes {
		out = append(out, "hr.results."+o+".>")
	}
	return out
}

// readOptions say which results eachResult reads.
type readOptions struct {
	follow   bool
	since    time.Time
	subjects []string
}

// eachResult calls fn for every result in the stream that the options
// select, in order, saying whether it reached the end of what was stored;
// with follow it then waits for new ones until ctx is done.
func eachResult(ctx context.Context, js jetstream.JetStream, stream string, o readOptions, fn func(hrevent.Result, jetstream.Msg, bool) error) error {
	rr, err := openResults(ctx, js, stream, o)
	if err != nil {
		return err
	}
	return rr.each(ctx, fn)
}

// resultReader reads a results stream that exists.
type resultReader struct {
	o        readOptions
	cons     jetstream.Consumer
	caughtUp bool
}

// openResults opens the results stream, saying so in one line when no
// worker has created it yet.
func openResults(ctx context.Context, js jetstream.JetStream, stream string, o readOptions) (*resultReader, error) {
	infoCtx, cancel := withTimeout(ctx)
	s, err := js.Stream(infoCtx, stream)
	cancel()
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return nil, notCreated("stream " + stream)
	case err != nil:
		return nil, fmt.Errorf("cannot open stream %s: %w", stream, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: o.subjects}
	if !o.since.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &o.since
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot read stream %s: %w", stream, err)
	}
	return &resultReader{o: o, cons: cons, caughtUp: s.CachedInfo().State.Msgs == 0}, nil
}

// each is eachResult on an open stream.
func (rr *resultReader) each(ctx context.Context, fn func(hrevent.Result, jetstream.Msg, bool) error) error {
	o, cons, caughtUp := rr.o, rr.cons, rr.caughtUp
	for {
		if caughtUp && !o.follow {
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
		if err := fn(r, m, caughtUp); err != nil {
			return err
		}
	}
}
