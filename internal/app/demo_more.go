package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// demoEvent is the body of an event the demo makes up.
func demoEvent(id, kind, employee string, org int, name string, at time.Time) []byte {
	data := map[string]any{"employeeId": employee, "organizationId": org}
	if name != "" {
		data["name"] = name
	}
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "hr/demo", "type": "hr.employee." + kind,
		"time": at.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "data": data})
	return b
}

// demoPublish publishes made-up events with their ids as Nats-Msg-Id.
func demoPublish(ctx context.Context, js jetstream.JetStream, kind string, ids []string, bodies [][]byte) error {
	for i, body := range bodies {
		msg := &nats.Msg{Subject: "hr.events." + kind, Data: body, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, ids[i])
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			return fmt.Errorf("cannot publish %s: %w", ids[i], err)
		}
	}
	return nil
}

// nextResults waits for n results and returns them.
func nextResults(ctx context.Context, results jetstream.Consumer, n int) ([]hrevent.Result, error) {
	var out []hrevent.Result
	for len(out) < n {
		wait, cancel := context.WithTimeout(ctx, time.Minute)
		m, err := results.Next(jetstream.FetchContext(wait))
		cancel()
		if err != nil {
			return out, fmt.Errorf("waiting for results: %w", err)
		}
		r, err := hrevent.DecodeResult(m.Data())
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// playScheduled shows a change dated ahead: recorded at once, applied at
// its time.
func playScheduled(ctx context.Context, js jetstream.JetStream, results jetstream.Consumer, out io.Writer) error {
	at := time.Now().Add(3 * time.Second).Truncate(time.Millisecond)
	fmt.Fprintf(out, "\npublished leave_started evt-demo-leave for E-1004, dated %s (3 s ahead): it waits for its time\n", at.Format("15:04:05.000"))
	if err := demoPublish(ctx, js, "leave_started", []string{"evt-demo-leave"},
		[][]byte{demoEvent("evt-demo-leave", "leave_started", "E-1004", 24, "", at)}); err != nil {
		return err
	}
	rs, err := nextResults(ctx, results, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  -> at %s, %s after its time: %s\n", time.Now().Format("15:04:05.000"), time.Since(at).Round(time.Millisecond), rs[0].Summary())
	return nil
}

// playGuard shows the mass-offboarding guard: a bad import terminates
// organization 25 at once; nobody is deactivated, an alert goes out, and
// a person approves.
func playGuard(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, results jetstream.Consumer, out io.Writer) error {
	const n = 12
	ids, bodies := make([]string, n), make([][]byte, n)
	for i := range n {
		ids[i] = fmt.Sprintf("evt-demo-hire-%02d", i)
		bodies[i] = demoEvent(ids[i], "hired", fmt.Sprintf("E-20%02d", i), 25, fmt.Sprintf("Agent %02d", i), time.Now().Add(-time.Hour))
	}
	if err := demoPublish(ctx, js, "hired", ids, bodies); err != nil {
		return err
	}
	if _, err := nextResults(ctx, results, n); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nhired %d agents in organization 25\n", n)
	alerts, err := js.OrderedConsumer(ctx, "HR_ALERTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	for i := range n {
		ids[i] = fmt.Sprintf("evt-demo-term-%02d", i)
		bodies[i] = demoEvent(ids[i], "terminated", fmt.Sprintf("E-20%02d", i), 25, "", time.Now())
	}
	fmt.Fprintf(out, "a bad import terminates all %d at once (GUARD_THRESHOLD 20%%, GUARD_MIN 10)\n", n)
	if err := demoPublish(ctx, js, "terminated", ids, bodies); err != nil {
		return err
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	m, err := alerts.Next(jetstream.FetchContext(wait))
	cancel()
	if err != nil {
		return fmt.Errorf("waiting for the guard's alert: %w", err)
	}
	var alert struct {
		Data hrevent.GuardAlert `json:"data"`
	}
	if err := json.Unmarshal(m.Data(), &alert); err != nil {
		return err
	}
	fmt.Fprintf(out, "  -> alert on %s: %s held, threshold %d; nobody was deactivated\n", m.Subject(), cli.Count(alert.Data.Held, "deactivation"), alert.Data.Threshold)
	env := cli.Env{Stdout: out, Stderr: out, Environ: map[string]string{"NATS_URL": nc.ConnectedUrl()}}
	fmt.Fprintln(out, "$ worker guard")
	if err := cli.Guard(ctx, nil, env); err != nil {
		return err
	}
	fmt.Fprintln(out, "$ worker guard approve -org 25")
	if err := cli.Guard(ctx, []string{"approve", "-org", "25"}, env); err != nil {
		return err
	}
	rs, err := nextResults(ctx, results, n)
	if err != nil {
		return err
	}
	applied := 0
	for _, r := range rs {
		if r.Outcome == hrevent.Applied {
			applied++
		}
	}
	fmt.Fprintf(out, "  -> %s applied after the approval\n", cli.Count(applied, "termination"))
	return nil
}
