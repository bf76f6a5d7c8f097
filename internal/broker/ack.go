package broker

import (
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

// acknowledge is the one place where a handler's outcome becomes a
// JetStream acknowledgement: done is Ack, invalid or refused is Term, not
// done is a Nak with the outcome's delay. Defer is no acknowledgement at
// all: the message stays with the worker for its next round.
func acknowledge(m jetstream.Msg, o handlers.Outcome, mx *metrics.Metrics, log zerolog.Logger) {
	var err error
	switch o.Action {
	case handlers.Ack:
		err = m.Ack()
	case handlers.Term:
		err = m.TermWithReason(o.Why)
	case handlers.Retry:
		mx.Retry(o.Why)
		err = m.NakWithDelay(o.Delay)
	case handlers.Defer:
		return
	}
	if err != nil {
		// The message comes back after AckWait and is decided again.
		log.Warn().Err(err).Msg("cannot acknowledge message")
	}
}
