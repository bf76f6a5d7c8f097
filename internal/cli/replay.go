package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// Replay republishes failed and rejected events from their results, after
// the cause was fixed (an organization created in ChatHub, say). Each event
// goes back to hr.events.<kind> unchanged; a truncated one cannot be
// replayed from its result and is named instead.
func Replay(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "replay [-dry-run] [-outcome failed,rejected] [-employee ID]",
		Summary:  "Republishes failed and rejected events from their results' event field, once the cause is fixed.",
		Example:  "worker replay -dry-run\nworker replay -outcome failed -employee E-1006",
	}
	fs := spec.Flags(env)
	dryRun := fs.Bool("dry-run", false, "print what would be replayed, publish nothing")
	outcome := fs.String("outcome", "failed,rejected", "replay results with these outcomes")
	employee := fs.String("employee", "", "only this employee's events")
	if rest, err := spec.Parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usageError("unexpected argument %q", rest[0])
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

	replayed, skipped := 0, 0
	err = eachResult(ctx, js, cfg.ResultsStream, readOptions{subjects: filter.subjects()}, func(r hrevent.Result, m jetstream.Msg, _ bool) error {
		if !filter.match(r) || (r.Outcome != hrevent.Failed && r.Outcome != hrevent.Rejected) {
			return nil
		}
		body, why := replayBody(r)
		if why != "" {
			skipped++
			fmt.Fprintf(env.Stderr, "seq %d (%s): not replayed: %s\n", r.StreamSequence, hrevent.OrDash(r.EventID), why)
			return nil
		}
		kind := string(hrevent.KindOfType(r.EventType))
		if kind == "" {
			kind = "unknown"
		}
		if *dryRun {
			fmt.Fprintf(env.Stdout, "would replay %s %s from seq %d\n", kind, hrevent.OrDash(r.EventID), r.StreamSequence)
			replayed++
			return nil
		}
		msg := &nats.Msg{Subject: "hr.events." + kind, Data: body, Header: nats.Header{}}
		// A new message id: the original is inside HR_EVENTS's window or
		// gone from it, and the replay must not be taken for a duplicate.
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("replay:%d:%d", r.StreamSequence, time.Now().UnixNano()))
		pubCtx, cancel := withTimeout(ctx)
		ack, err := js.PublishMsg(pubCtx, msg)
		cancel()
		if err != nil {
			return fmt.Errorf("cannot replay seq %d: %w", r.StreamSequence, err)
		}
		replayed++
		fmt.Fprintf(env.Stdout, "replayed %s %s from seq %d as seq %d\n", kind, hrevent.OrDash(r.EventID), r.StreamSequence, ack.Sequence)
		return nil
	})
	if err != nil {
		return err
	}
	verb := "replayed"
	if *dryRun {
		verb = "would replay"
	}
	fmt.Fprintf(env.Stdout, "%s %d, could not replay %d\n", verb, replayed, skipped)
	return nil
}

// replayBody returns the original event of a result, or why it has none.
func replayBody(r hrevent.Result) ([]byte, string) {
	switch {
	case r.EventTruncated:
		return nil, fmt.Sprintf("the result holds only the first 64 KiB; the whole message is in HR_EVENTS at seq %d", r.StreamSequence)
	case r.Event != nil:
		return []byte(*r.Event), ""
	case r.EventBase64 != "":
		b, err := base64.StdEncoding.DecodeString(r.EventBase64)
		if err != nil {
			return nil, "eventBase64 does not decode"
		}
		return b, ""
	}
	return nil, "the result holds no event"
}
