package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// Results returns every result in HR_RESULTS, with its subject and msg id.
func (h *Harness) Results() []Result {
	h.t.Helper()
	out, err := h.results()
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// results reads every result in HR_RESULTS.
func (h *Harness) results() ([]Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.JS.Stream(ctx, "HR_RESULTS")
	if err != nil {
		return nil, fmt.Errorf("results stream: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("results stream info: %w", err)
	}
	var out []Result
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", seq, err)
		}
		r, err := hrevent.DecodeResult(m.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, Result{Result: r, Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader), Body: m.Data})
	}
	return out, nil
}

// Result is a stored result with its message's subject, id and body.
type Result struct {
	hrevent.Result
	Subject, MsgID string
	Body           []byte
}

// First reports whether r is the result of an event's first message, not
// of a later message repeating its id (a duplicate or a replay), whose
// result id is result@<sequence>:<id>.
func (r Result) First() bool { return !strings.HasPrefix(r.MsgID, "result@") }

// firsts counts the results of events' first messages.
func firsts(results []Result) int {
	n := 0
	for _, r := range results {
		if r.First() {
			n++
		}
	}
	return n
}

// WaitResults waits until n events have the result of their first
// message stored and the consumer has nothing left to deliver or to be
// acked, and returns every result (repeats included).
func (h *Harness) WaitResults(n int, timeout time.Duration) []Result {
	h.t.Helper()
	var got []Result
	deadline := time.Now().Add(timeout)
	for {
		// A cluster electing a stream leader may not answer for a while:
		// the wait goes on.
		read, err := h.results()
		if err == nil {
			got = read
		}
		if err == nil && firsts(got) >= n && h.ConsumerIdle() {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s waiting for %d results and an idle consumer: %d results (%d first), consumer %s; %s (last read: %v)",
				timeout, n, len(got), firsts(got), h.consumerState(EventsStream), h.owing(), err)
		}
		select {
		case <-h.t.Context().Done():
			h.t.Fatal("the test ended while waiting for results")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Names of the worker's durable consumers and bucket in the harness's
// NATS: the intake's on HR_EVENTS, the wake-ups' on the schedules stream.
const (
	Durable         = "chathub-operator-worker"
	Bucket          = "chathub-operator-worker"
	EventsStream    = "HR_EVENTS"
	SchedulesStream = "CHATHUB_SCHEDULES"
	consumerWaited  = 5 * time.Second
)

// ConsumerInfo reads the worker's durable consumer on stream.
func (h *Harness) ConsumerInfo(stream string) (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), consumerWaited)
	defer cancel()
	c, err := h.JS.Consumer(ctx, stream, Durable)
	if err != nil {
		return nil, err
	}
	return c.Info(ctx)
}

// consumerState describes the worker's consumer on stream, for a failure
// message.
func (h *Harness) consumerState(stream string) string {
	info, err := h.ConsumerInfo(stream)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("pending %d, ack pending %d, redelivered %d", info.NumPending, info.NumAckPending, info.NumRedelivered)
}

// wakeState says how many schedules and unconsumed wake-ups the
// employee has in the schedules stream, for a failure message.
func (h *Harness) wakeState(ctx context.Context, employeeID string) string {
	s, err := h.JS.Stream(ctx, SchedulesStream)
	if err != nil {
		return err.Error()
	}
	count := func(subject string) string {
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(info.State.Subjects[subject])
	}
	return fmt.Sprintf("schedules %s, wake-ups %s",
		count(broker.AtSubject(SchedulesStream, employeeID)), count(broker.WakeSubject(SchedulesStream, employeeID)))
}

// owing describes the records that still owe results, for a failure
// message: what each waits for.
func (h *Harness) owing() string {
	ctx, cancel := context.WithTimeout(context.Background(), consumerWaited)
	defer cancel()
	kv, err := h.JS.KeyValue(ctx, Bucket)
	if err != nil {
		return err.Error()
	}
	var lines []string
	err = broker.NewStore(h.JS, kv).Records(ctx, func(r employee.Record, rev uint64) {
		if len(r.Owed) == 0 {
			return
		}
		raw, _ := broker.EncodeRecord(r)
		lines = append(lines, fmt.Sprintf("rev %d %s (%s)", rev, raw, h.wakeState(ctx, r.EmployeeID)))
	}, func(string, error) {})
	if err != nil {
		return err.Error()
	}
	n := len(lines)
	return fmt.Sprintf("wake-up consumer %s; %d records owe results: %s", h.consumerState(SchedulesStream), n, strings.Join(lines[:min(n, 5)], "; "))
}

// ConsumerIdle reports whether the input consumer has nothing left to
// deliver, to be acked or redelivered.
func (h *Harness) ConsumerIdle() bool {
	info, err := h.ConsumerInfo(EventsStream)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

// WaitSettled waits until no worker is busy with the employees: each has
// a record that owes no result and asks ChatHub for nothing.
func (h *Harness) WaitSettled(ids ...string) {
	h.t.Helper()
	kv, err := h.JS.KeyValue(h.t.Context(), Bucket)
	if err != nil {
		h.t.Fatal(err)
	}
	store := broker.NewStore(h.JS, kv)
	await.True(h.t, 30*time.Second, func() bool {
		for _, id := range ids {
			rec, rev, err := store.Get(h.t.Context(), id)
			if err != nil || rev == 0 || rec.Relist || rec.HasDue() || !rec.Settled() {
				return false
			}
		}
		return true
	}, fmt.Sprintf("the records of %v settled", ids))
}

// ByEventID indexes the results of events' first messages, failing the
// test if an event has two. A later message repeating an event's id has a
// result of its own: a duplicate's must be skipped, naming the first.
func ByEventID(t *testing.T, results []Result) map[string]Result {
	t.Helper()
	m := map[string]Result{}
	for _, r := range results {
		if !r.First() {
			if r.Outcome == hrevent.Skipped && !strings.Contains(r.Reason, "duplicate") {
				t.Errorf("result %s of a repeated message: %s %q, want a skipped duplicate (or a replay's result)", r.MsgID, r.Outcome, r.Reason)
			}
			continue
		}
		if _, dup := m[r.EventID]; dup && r.EventID != "" {
			t.Errorf("Event %s has two results", r.EventID)
		}
		m[r.EventID] = r
	}
	return m
}

// NoToken fails if the token appears in any result.
func NoToken(t *testing.T, results []Result) {
	t.Helper()
	for _, r := range results {
		if strings.Contains(string(r.Body), Token) {
			t.Errorf("result %s carries the token", r.MsgID)
		}
	}
}
