package broker

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/handlers"
)

// publishTimeout bounds the wait for one batch's publish acks.
const publishTimeout = 10 * time.Second

// Publisher publishes results to HR_RESULTS.
type Publisher struct {
	js  jetstream.JetStream
	log zerolog.Logger
	now func() time.Time
}

// NewPublisher returns a Publisher.
func NewPublisher(js jetstream.JetStream, log zerolog.Logger) *Publisher {
	return &Publisher{js: js, log: log, now: time.Now}
}

// PublishAll publishes the result of every decision that has one, all at
// once, and waits for the stream's acks. It reports, per decision, whether
// its result is stored.
func (p *Publisher) PublishAll(ctx context.Context, decisions []handlers.Decision) []bool {
	ok := make([]bool, len(decisions))
	futures := make([]jetstream.PubAckFuture, len(decisions))
	for i, d := range decisions {
		if d.Result == nil {
			continue
		}
		body, err := d.Result.Marshal(p.now())
		if err != nil {
			p.log.Error().Err(err).Msg("cannot encode result")
			continue
		}
		msg := &nats.Msg{Subject: d.Result.Subject(ResultsPrefix), Data: body, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, d.Result.MsgID())
		if futures[i], err = p.js.PublishMsgAsync(msg); err != nil {
			p.log.Warn().Err(err).Str("event_id", d.Result.EventID).Msg("cannot publish result")
		}
	}
	timeout := time.NewTimer(publishTimeout)
	defer timeout.Stop()
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
			ok[i] = true
		case err := <-f.Err():
			p.log.Warn().Err(err).Str("event_id", decisions[i].Result.EventID).Msg("result not stored")
		case <-timeout.C:
			p.log.Warn().Msg("timed out waiting for result acks")
			return ok
		case <-ctx.Done():
			return ok
		}
	}
	return ok
}
