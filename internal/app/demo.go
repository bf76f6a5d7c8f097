package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/examples"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/embedded"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// demoToken is the token the demo's simulator accepts.
const demoToken = "demo-token"

// Demo starts an embedded NATS server and the ChatHub simulator, runs the
// worker against them, publishes examples/events.jsonl, prints each result
// as it arrives and what ChatHub holds at the end.
func Demo(ctx context.Context, cfg config.Config, out io.Writer, log zerolog.Logger) error {
	dir, err := os.MkdirTemp("", "chathub-worker-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := embedded.Start(embedded.Options{StoreDir: dir})
	if err != nil {
		return err
	}
	defer ns.Shutdown()

	sim := chathubsim.New(demoToken, map[int]string{24: "Customer Support", 25: "Sales"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	simSrv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = simSrv.Serve(ln) }()
	defer simSrv.Close()

	cfg.NATSURL, cfg.NATSCreds = ns.ClientURL(), ""
	cfg.ChatHubBaseURL, cfg.ChatHubToken = "http://"+ln.Addr().String(), demoToken
	if cfg.HTTPAddr == ":8080" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	fmt.Fprintf(out, "demo: embedded NATS at %s, ChatHub simulator at %s (organizations 24 and 25)\n\n", cfg.NATSURL, cfg.ChatHubBaseURL)

	w, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()

	nc, err := nats.Connect(cfg.NATSURL)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	results, err := js.OrderedConsumer(ctx, cfg.ResultsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	if err := playExamples(ctx, js, results, out); err != nil {
		return err
	}
	if err := playScheduled(ctx, js, results, out); err != nil {
		return err
	}
	if err := playGuard(ctx, nc, js, results, out); err != nil {
		return err
	}
	stop()
	if err := <-done; err != nil {
		return err
	}
	printOperators(sim, out)
	return nil
}

// playExamples publishes the examples one at a time, with Nats-Msg-Id set
// to the event id as the contract asks of the HR system, and prints each
// result before publishing the next, so that every step shows.
func playExamples(ctx context.Context, js jetstream.JetStream, results jetstream.Consumer, out io.Writer) error {
	sc := bufio.NewScanner(bytes.NewReader(examples.Events))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		id, kind := peek(line)
		msg := &nats.Msg{Subject: "hr.events." + kind, Data: line, Header: nats.Header{}}
		if id != "" {
			msg.Header.Set(jetstream.MsgIDHeader, id)
		}
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil {
			return fmt.Errorf("cannot publish example: %w", err)
		}
		fmt.Fprintf(out, "published %s %s (seq %d)\n", kind, hrevent.OrDash(id), ack.Sequence)
		if ack.Duplicate {
			fmt.Fprintln(out, "  -> dropped by HR_EVENTS: an event with this id is already in the stream")
			continue
		}
		wait, cancel := context.WithTimeout(ctx, time.Minute)
		m, err := results.Next(jetstream.FetchContext(wait))
		cancel()
		if err != nil {
			return fmt.Errorf("waiting for the result of %s: %w", hrevent.OrDash(id), err)
		}
		r, err := hrevent.DecodeResult(m.Data())
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "  -> "+r.Summary())
	}
	return sc.Err()
}

// peek reads the id and kind of an example line, as far as it can.
func peek(line []byte) (id, kind string) {
	var inv *hrevent.InvalidError
	v, err := hrevent.NewValidator()
	if err != nil {
		return "", "unknown"
	}
	e, err := v.Parse(line)
	switch {
	case err == nil:
		return e.ID, string(e.Kind)
	case errors.As(err, &inv) && hrevent.KindOfType(inv.Partial.Type) != "":
		return inv.Partial.ID, string(hrevent.KindOfType(inv.Partial.Type))
	case errors.As(err, &inv):
		return inv.Partial.ID, "unknown"
	}
	return "", "unknown"
}

func printOperators(sim *chathubsim.Server, out io.Writer) {
	ops := sim.Operators(0)
	sort.Slice(ops, func(i, j int) bool { return ops[i].ID < ops[j].ID })
	fmt.Fprintf(out, "\nChatHub now holds %s:\n", cli.Count(len(ops), "operator"))
	for _, op := range ops {
		fmt.Fprintf(out, "  id %d  org %d  %-16s %s\n", op.ID, op.OrganizationID, op.Name, chathub.Status(op.Status))
	}
	c := sim.Counters()
	fmt.Fprintf(out, "ChatHub calls: %d synchronize (batch sizes %v), %d status, %d list\n",
		c.Calls["synchronize"], c.BatchSizes, c.Calls["status"], c.Calls["list"])
}
