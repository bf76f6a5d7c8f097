package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, log zerolog.Logger) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, cfg)
		if err == nil {
			log.Info().Str("stream", cfg.Name).Int("replicas", cfg.Replicas).Msg("created stream")
		} else if s2, err2 := js.Stream(ctx, cfg.Name); err2 == nil {
			// Another worker created it at the same moment.
			s, err = s2, nil
		}
	}
	if err != nil {
		return nil, setupError("stream "+cfg.Name, err)
	}
	return s, nil
}

func ensureConsumer(ctx context.Context, js jetstream.JetStream, stream string, cfg jetstream.ConsumerConfig, log zerolog.Logger) (jetstream.Consumer, error) {
	cons, err := js.Consumer(ctx, stream, cfg.Durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cons, err = js.CreateConsumer(ctx, stream, cfg)
		if err == nil {
			log.Info().Str("stream", stream).Str("consumer", cfg.Durable).Msg("created consumer")
		}
	}
	if err != nil {
		return nil, setupError("consumer "+cfg.Durable+" on "+stream, err)
	}
	have := cons.CachedInfo().Config
	if have.AckPolicy != jetstream.AckExplicitPolicy {
		return nil, fmt.Errorf("consumer %s on %s has ack policy %s; the worker needs explicit acks", cfg.Durable, stream, have.AckPolicy)
	}
	if strings.HasPrefix(have.Description, ourPrefix) && (have.AckWait != cfg.AckWait || have.MaxAckPending < cfg.MaxAckPending) {
		// A consumer an earlier version created: it gets this version's
		// AckWait (how soon a crashed worker's messages come back) and
		// room for what the pipeline holds.
		have.AckWait, have.MaxAckPending = cfg.AckWait, max(have.MaxAckPending, cfg.MaxAckPending)
		if updated, err := js.UpdateConsumer(ctx, stream, have); err == nil {
			cons = updated
			log.Info().Str("stream", stream).Str("consumer", cfg.Durable).Str("ack_wait", cfg.AckWait.String()).Msg("updated consumer")
		} else {
			log.Warn().Err(err).Str("stream", stream).Str("consumer", cfg.Durable).Msg("cannot update consumer; keeping it as it is")
		}
	}
	return cons, nil
}

// errCodeReplicasNotSupported is JetStream's answer to replicas asked of
// a server that is not part of a cluster.
const errCodeReplicasNotSupported = 10074

// setupError says what could not be created or opened, and what to do
// when the answer says it.
func setupError(what string, err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeReplicasNotSupported {
		return fmt.Errorf("cannot create %s: %w (JS_REPLICAS asks for more copies than a NATS server that is not part of a cluster keeps: set JS_REPLICAS=1)", what, err)
	}
	return fmt.Errorf("cannot create or open %s: %w", what, err)
}
