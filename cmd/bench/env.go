package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/embedded"
)

const token = "bench-token"

// world is one embedded NATS server and one simulator, torn down by close.
type world struct {
	dir    string
	ns     *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	sim    *chathubsim.Server
	simURL string
	srv    *http.Server
}

func newWorld(ctx context.Context) (*world, error) {
	dir, err := os.MkdirTemp("", "chathub-bench-")
	if err != nil {
		return nil, err
	}
	w := &world{dir: dir}
	// The scale row keeps more than a million employees' records, events
	// and results.
	if w.ns, err = embedded.Start(embedded.Options{StoreDir: dir, MaxStore: 16 << 30}); err != nil {
		return nil, err
	}
	if w.nc, err = nats.Connect(w.ns.ClientURL()); err != nil {
		return nil, err
	}
	if w.js, err = jetstream.New(w.nc, jetstream.WithPublishAsyncMaxPending(4096)); err != nil {
		return nil, err
	}
	orgs := map[int]string{1: "One", 2: "Two", 3: "Three", 4: "Four"}
	w.sim = chathubsim.New(token, orgs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w.srv = &http.Server{Handler: w.sim}
	go func() { _ = w.srv.Serve(ln) }()
	w.simURL = "http://" + ln.Addr().String()
	_, err = w.js.CreateStream(ctx, jetstream.StreamConfig{Name: "HR_EVENTS", Subjects: []string{"hr.events.>"}, Duplicates: 2 * time.Minute})
	return w, err
}

func (w *world) close() {
	if w.srv != nil {
		w.srv.Close()
	}
	if w.nc != nil {
		w.nc.Close()
	}
	if w.ns != nil {
		w.ns.Shutdown()
		w.ns.WaitForShutdown()
	}
	os.RemoveAll(w.dir)
}

// event is one HR event of the bench.
type event struct {
	id, kind, employee, name string
	org                      int
	at                       time.Time
}

func (e event) body() []byte {
	data := map[string]any{"employeeId": e.employee, "organizationId": e.org}
	if e.name != "" {
		data["name"] = e.name
	}
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": e.id, "source": "hr/bench",
		"type": "hr.employee." + e.kind, "time": e.at.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "data": data})
	return b
}

// publishAll publishes events asynchronously, as fast as the broker takes
// them, with the given message ids, and records when each was sent.
func (w *world) publishAll(ctx context.Context, events []event, msgIDs []string, sent *sync.Map) error {
	for i, e := range events {
		msg := &nats.Msg{Subject: "hr.events." + e.kind, Data: e.body(), Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, msgIDs[i])
		if sent != nil {
			if _, ok := sent.Load(e.id); !ok {
				sent.Store(e.id, time.Now())
			}
		}
		if _, err := w.js.PublishMsgAsync(msg); err != nil {
			return err
		}
		// A large backlog goes in chunks, each acknowledged before the
		// next, so that the publisher never stalls on its pending acks.
		if (i+1)%publishChunk == 0 || i == len(events)-1 {
			if err := w.published(ctx); err != nil {
				return fmt.Errorf("publishing %d events: %w", len(events), err)
			}
		}
	}
	return nil
}

// publishChunk is how many events are published before their acks are
// awaited.
const publishChunk = 2000

// published waits for the acks of every event published.
func (w *world) published(ctx context.Context) error {
	select {
	case <-w.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Minute):
		return errors.New("the stream did not acknowledge them within 2 minutes")
	}
}

// intakeDone waits until the worker's intake has acknowledged every event
// up to stream sequence last, and says when it saw that.
func (w *world) intakeDone(ctx context.Context, last uint64) (time.Time, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if c, err := w.js.Consumer(ctx, "HR_EVENTS", "chathub-operator-worker"); err == nil {
			if info, err := c.Info(ctx); err == nil && info.AckFloor.Stream >= last {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("the intake did not take in %d events within 5 minutes", last)
}

// waitStream waits until stream holds at least n messages.
func (w *world) waitStream(ctx context.Context, stream string, n uint64) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if s, err := w.js.Stream(ctx, stream); err == nil {
			if info, err := s.Info(ctx); err == nil && info.State.Msgs >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not reach %d messages within 5 minutes", stream, n)
}

// brokerOps counts what the broker has done for the worker: messages
// written to every stream but the input's (records, claims, results,
// notes, schedules), and messages delivered to every consumer.
func (w *world) brokerOps(ctx context.Context) (writes, deliveries uint64, err error) {
	streams := w.js.ListStreams(ctx)
	for info := range streams.Info() {
		if info.Config.Name != "HR_EVENTS" {
			writes += info.State.LastSeq
		}
		s, err := w.js.Stream(ctx, info.Config.Name)
		if err != nil {
			return 0, 0, err
		}
		consumers := s.ListConsumers(ctx)
		for c := range consumers.Info() {
			deliveries += c.Delivered.Consumer
		}
		if err := consumers.Err(); err != nil {
			return 0, 0, err
		}
	}
	return writes, deliveries, streams.Err()
}
