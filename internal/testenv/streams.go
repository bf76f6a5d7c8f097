package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/kvstore"
)

// publish sends events to HR_EVENTS with Nats-Msg-Id set to msgID (none
// when empty).
func (h *Harness) Publish(body []byte, kind, msgID string) {
	h.t.Helper()
	msg := &nats.Msg{Subject: "hr.events." + kind, Data: body, Header: nats.Header{}}
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	// Like any publisher, retry while a cluster elects a new stream leader
	// (no responders) or the connection comes back; the message id keeps a
	// retry from storing the event twice.
	var err error
	await.True(h.t, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = h.JS.PublishMsg(ctx, msg)
		return err == nil
	}, "the publish to be stored")
}

// results returns every result in HR_RESULTS, with its subject and msg id.
func (h *Harness) Results() []Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.JS.Stream(ctx, "HR_RESULTS")
	if err != nil {
		h.t.Fatalf("results stream: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatalf("results stream info: %v", err)
	}
	var out []Result
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			h.t.Fatalf("result %d: %v", seq, err)
		}
		r, err := hrevent.DecodeResult(m.Data)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, Result{Result: r, Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader), Body: m.Data})
	}
	return out
}

// Messages returns every message of a stream.
func (h *Harness) Messages(stream string) []*jetstream.RawStreamMsg {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.JS.Stream(ctx, stream)
	if err != nil {
		return nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatalf("%s info: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

type Result struct {
	hrevent.Result
	Subject, MsgID string
	Body           []byte
}

// WaitResults waits until n results are stored and the consumer has
// nothing left to deliver or to be acked.
func (h *Harness) WaitResults(n int, timeout time.Duration) []Result {
	h.t.Helper()
	var got []Result
	deadline := time.Now().Add(timeout)
	for {
		got = h.Results()
		if len(got) >= n && h.ConsumerIdle() {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s waiting for %d results and an idle consumer: %d results, consumer %s; %s",
				timeout, n, len(got), h.consumerState(), h.owing())
		}
		select {
		case <-h.t.Context().Done():
			h.t.Fatal("the test ended while waiting for results")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// consumerState describes the input consumer, for a failure message.
func (h *Harness) consumerState() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := h.JS.Consumer(ctx, "HR_EVENTS", "chathub-operator-worker")
	if err != nil {
		return err.Error()
	}
	info, err := c.Info(ctx)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("pending %d, ack pending %d, redelivered %d", info.NumPending, info.NumAckPending, info.NumRedelivered)
}

// owing describes the records that still owe results, for a failure
// message: what each waits for.
func (h *Harness) owing() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := h.JS.KeyValue(ctx, "chathub-operator-worker")
	if err != nil {
		return err.Error()
	}
	var lines []string
	err = kvstore.New(h.JS, kv).Records(ctx, func(r employee.Record, rev uint64) {
		if len(r.Owed) == 0 {
			return
		}
		raw, _ := json.Marshal(r)
		lines = append(lines, fmt.Sprintf("rev %d %s", rev, raw))
	}, func(string, error) {})
	if err != nil {
		return err.Error()
	}
	n := len(lines)
	state := "reconciler consumer unknown"
	if c, err := h.JS.Consumer(ctx, "KV_chathub-operator-worker", "chathub-operator-worker"); err == nil {
		if info, err := c.Info(ctx); err == nil {
			state = fmt.Sprintf("reconciler consumer pending %d, ack pending %d, redelivered %d", info.NumPending, info.NumAckPending, info.NumRedelivered)
		}
	}
	return fmt.Sprintf("%s; %d records owe results: %s", state, n, strings.Join(lines[:min(n, 5)], "; "))
}

// ConsumerIdle reports whether the input consumer has nothing left to
// deliver, to be acked or redelivered.
func (h *Harness) ConsumerIdle() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := h.JS.Consumer(ctx, "HR_EVENTS", "chathub-operator-worker")
	if err != nil {
		return false
	}
	info, err := c.Info(ctx)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

// WaitSettled waits until no worker is busy with the employees: each has
// a record, without a lease, a pending create or an event due.
func (h *Harness) WaitSettled(ids ...string) {
	h.t.Helper()
	kv, err := h.JS.KeyValue(h.t.Context(), "chathub-operator-worker")
	if err != nil {
		h.t.Fatal(err)
	}
	store := kvstore.New(h.JS, kv)
	await.True(h.t, 30*time.Second, func() bool {
		for _, id := range ids {
			rec, rev, err := store.Get(h.t.Context(), id)
			if err != nil || rev == 0 || rec.Lease != nil || rec.Pending != nil || rec.HasDue() {
				return false
			}
		}
		return true
	}, fmt.Sprintf("the records of %v settled", ids))
}

// Event builds a valid Event body.
type Event struct {
	ID, Kind, Employee, Name string
	Org                      int
	At                       time.Time
}

// Body is the event as CloudEvents JSON.
func (e Event) Body() []byte {
	data := map[string]any{"employeeId": e.Employee, "organizationId": e.Org}
	if e.Name != "" {
		data["name"] = e.Name
	}
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": e.ID, "source": "hr/test", "type": "hr.employee." + e.Kind,
		"time": e.At.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "data": data,
	})
	return b
}

func (h *Harness) PublishEvent(e Event) { h.Publish(e.Body(), e.Kind, e.ID) }

// asyncWindow is how many publishes PublishAsync leaves outstanding.
const asyncWindow = 1000

// PublishAsync publishes many events at once and waits until the stream
// stored them all.
func (h *Harness) PublishAsync(events []Event) {
	h.t.Helper()
	var futures []jetstream.PubAckFuture
	for _, e := range events {
		if h.JS.PublishAsyncPending() >= asyncWindow {
			// Past the client's limit of outstanding publishes it fails
			// them after a short stall, which a loaded machine reaches.
			select {
			case <-h.JS.PublishAsyncComplete():
			case <-time.After(30 * time.Second):
				h.t.Fatal("publishes not acknowledged within 30s")
			}
		}
		msg := &nats.Msg{Subject: "hr.events." + e.Kind, Data: e.Body(), Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, e.ID)
		f, err := h.JS.PublishMsgAsync(msg)
		if err != nil {
			h.t.Fatalf("publish %s: %v", e.ID, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			h.t.Fatalf("publish: %v", err)
		case <-time.After(30 * time.Second):
			h.t.Fatal("publish not acknowledged within 30s")
		}
	}
}

// StreamMsgs is how many messages a stream holds (0 when it cannot tell).
func (h *Harness) StreamMsgs(name string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.JS.Stream(ctx, name)
	if err != nil {
		return 0
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// ByEventID indexes results, failing the test if an Event has two.
func ByEventID(t *testing.T, results []Result) map[string]Result {
	t.Helper()
	m := map[string]Result{}
	for _, r := range results {
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

var ValidatorOnce = sync.OnceValues(hrevent.NewValidator)

// SyncBuffer is a bytes.Buffer safe for concurrent writers and readers,
// for capturing a worker's logs or a command's output.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
