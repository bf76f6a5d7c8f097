package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

// publishTimeout bounds the wait for one round's publish acks.
const publishTimeout = 10 * time.Second

// errNotStored is a publish the stream did not acknowledge in time.
var errNotStored = errors.New("the stream did not acknowledge the publish in time")

// Results publishes result events to HR_RESULTS and counts them.
type Results struct {
	js      jetstream.JetStream
	metrics *metrics.Metrics
	now     func() time.Time
}

// NewResults returns a Results publisher.
func NewResults(js jetstream.JetStream, m *metrics.Metrics) *Results {
	return &Results{js: js, metrics: m, now: time.Now}
}

// Publish publishes the results all at once, with Nats-Msg-Id
// result:<event id> so that HR_RESULTS keeps one per event, and waits for
// the stream's acks. It returns, per result, nil once it is stored.
func (p *Results) Publish(ctx context.Context, results []hrevent.Result) []error {
	msgs := make([]*nats.Msg, len(results))
	errs := make([]error, len(results))
	for i := range results {
		r := &results[i]
		body, err := r.Marshal(p.now())
		if err != nil {
			errs[i] = fmt.Errorf("cannot encode result: %w", err)
			continue
		}
		msgs[i] = &nats.Msg{Subject: r.Subject(ResultsPrefix), Data: body, Header: nats.Header{}}
		msgs[i].Header.Set(jetstream.MsgIDHeader, r.MsgID())
	}
	publishAll(ctx, p.js, msgs, errs, nil)
	for i, r := range results {
		if errs[i] == nil {
			p.metrics.Event(kindLabel(&r), string(r.Outcome))
		}
	}
	return errs
}

// publishAll publishes the messages that are not nil asynchronously and
// waits for every ack; errs gets each one's error, and seqs (when not
// nil) each one's stream sequence.
func publishAll(ctx context.Context, js jetstream.JetStream, msgs []*nats.Msg, errs []error, seqs []uint64) {
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		if m == nil {
			continue
		}
		var err error
		if futures[i], err = js.PublishMsgAsync(m); err != nil {
			errs[i] = fmt.Errorf("cannot publish: %w", err)
		}
	}
	timeout := time.NewTimer(publishTimeout)
	defer timeout.Stop()
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			if seqs != nil {
				seqs[i] = ack.Sequence
			}
		case err := <-f.Err():
			errs[i] = err
		case <-timeout.C:
			for k := i; k < len(futures); k++ {
				if futures[k] != nil {
					errs[k] = errNotStored
				}
			}
			return
		case <-ctx.Done():
			for k := i; k < len(futures); k++ {
				if futures[k] != nil {
					errs[k] = ctx.Err()
				}
			}
			return
		}
	}
}

// kindLabel is the event kind for metrics: one of the five, or unknown.
func kindLabel(r *hrevent.Result) string {
	if k := hrevent.KindOfType(r.EventType); k != "" {
		return string(k)
	}
	return "unknown"
}
