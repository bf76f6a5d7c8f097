package testenv

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/await"
)

// Publish sends an event body to HR_EVENTS with Nats-Msg-Id set to
// msgID (none when empty).
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

// PublishEvent publishes e with its id as the message id.
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
