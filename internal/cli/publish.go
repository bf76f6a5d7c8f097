package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publish sends HR events from a JSON-lines or CSV file to HR_EVENTS. Every
// line is validated against the schemas first; valid ones are published with
// Nats-Msg-Id set to the event id (CSV rows get an id derived from their
// content, so publishing a file twice adds nothing within the stream's
// duplicates window, and the worker skips duplicates after it).
func Publish(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "publish [-json] [-allow-invalid] [-source S] FILE",
		Summary: "Publishes HR events from a file of JSON lines, or CSV with the header " + csvHeader + ", to HR_EVENTS.\n" +
			"A CSV kind is hired, leave_started, leave_ended, terminated or transferred; organizationId is the employee's\n" +
			"organization from time on (for transferred, the one they move to).\n" +
			"Every line is validated first; invalid ones are listed and not published. FILE - reads standard input.\n" +
			"Exit 0 when all were published, 3 when some lines were invalid (0 with -allow-invalid), 1 when nothing could be.",
		Example: "worker publish team.csv\ncat events.jsonl | worker publish -json -",
	}
	in, err := readInput(spec, args, env, "print the summary as JSON")
	if err != nil {
		return err
	}
	lines, valid, invalid := in.lines, in.valid, in.invalid
	for _, l := range invalid {
		fmt.Fprintf(env.Stderr, "line %d: invalid: %v\n", l.no, l.err)
	}
	cfg, nc, js, err := connect(env)
	if err != nil {
		return err
	}
	defer nc.Close()

	bar := newProgress(env.Stderr, env.Terminal, len(valid))
	published, duplicates := 0, 0
	for _, l := range valid {
		msg := &nats.Msg{Subject: "hr.events." + string(l.ev.Kind), Data: l.body, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, l.ev.ID)
		pubCtx, cancel := withTimeout(ctx)
		ack, err := js.PublishMsg(pubCtx, msg)
		cancel()
		if err != nil {
			bar.done()
			if noStream(ctx, js, err, msg.Subject) {
				return fmt.Errorf("cannot publish: no stream takes %s: %s %w: the worker creates it at its first start "+
					"(start the worker once), or the HR system creates it with subjects hr.events.>", msg.Subject, cfg.EventsStream, ErrNotCreated)
			}
			return fmt.Errorf("line %d: cannot publish: %w (%d published before it)", l.no, err, published)
		}
		if ack.Duplicate {
			duplicates++
		} else {
			published++
		}
		bar.step()
	}
	bar.done()
	if in.asJSON {
		type bad struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		}
		summary := struct {
			Published  int   `json:"published"`
			Duplicates int   `json:"duplicates"`
			Lines      int   `json:"lines"`
			Invalid    []bad `json:"invalid"`
		}{published, duplicates, len(lines), []bad{}}
		for _, l := range invalid {
			summary.Invalid = append(summary.Invalid, bad{l.no, l.err.Error()})
		}
		if err := json.NewEncoder(env.Stdout).Encode(summary); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.Stdout, "published %d, already in the stream %d, invalid %d (of %s)\n",
			published, duplicates, len(invalid), Count(len(lines), "line"))
	}
	switch {
	case len(invalid) == 0 || in.allowInvalid:
		return nil
	case published+duplicates == 0 && len(lines) == 1:
		return errors.New("the one line is invalid")
	case published+duplicates == 0:
		return fmt.Errorf("none of the %d lines is valid", len(lines))
	}
	return partly("%s not published", Count(len(invalid), "invalid line"))
}

// noStream says whether a publish failed because no stream takes its
// subject: the server had no one to answer (ErrNoStreamResponse), and no
// stream is bound to the subject, as before any worker has run.
func noStream(ctx context.Context, js jetstream.JetStream, err error, subject string) bool {
	if !errors.Is(err, jetstream.ErrNoStreamResponse) {
		return false
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err = js.StreamNameBySubject(ctx, subject)
	return errors.Is(err, jetstream.ErrStreamNotFound)
}
