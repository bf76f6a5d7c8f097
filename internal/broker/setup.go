// Package broker is the JetStream plumbing of the worker: it creates what
// is missing (streams, the durable consumer, the KV bucket), takes events
// off HR_EVENTS in batches, publishes results to HR_RESULTS and maps each
// decision to one acknowledgement. It knows nothing of ChatHub.
package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Names are the JetStream objects the worker uses.
type Names struct {
	EventsStream  string // HR_EVENTS
	ResultsStream string // HR_RESULTS
	Consumer      string // chathub-operator-worker
	Bucket        string // chathub-operator-worker
}

// Subjects of the contract.
const (
	EventsSubjects  = "hr.events.>"
	ResultsSubjects = "hr.results.>"
	ResultsPrefix   = "hr.results"
)

// Consumer settings, chosen for a ChatHub that may be slow or away for an
// hour. InProgress extends AckWait while a batch runs. MaxDeliver is
// unlimited: the worker itself turns a spent retry policy into a failed
// result, so no event ever vanishes without one.
const (
	MaxAckPending = 4096
	// ResultsDuplicates is the dedup window of HR_RESULTS, at least the
	// contract's 10 minutes.
	ResultsDuplicates = 20 * time.Minute
)

// Setup creates the streams, consumer and bucket that are missing, with
// replicas copies each, and binds to those that exist without changing
// them.
func Setup(ctx context.Context, js jetstream.JetStream, n Names, replicas int, ackWait time.Duration, log zerolog.Logger) (jetstream.Consumer, jetstream.KeyValue, error) {
	if _, err := ensureStream(ctx, js, jetstream.StreamConfig{
		Name: n.EventsStream, Subjects: []string{EventsSubjects}, Storage: jetstream.FileStorage,
		Replicas: replicas, Duplicates: 2 * time.Minute,
	}, log); err != nil {
		return nil, nil, err
	}
	results, err := ensureStream(ctx, js, jetstream.StreamConfig{
		Name: n.ResultsStream, Subjects: []string{ResultsSubjects}, Storage: jetstream.FileStorage,
		Replicas: replicas, Duplicates: ResultsDuplicates,
	}, log)
	if err != nil {
		return nil, nil, err
	}
	if d := results.CachedInfo().Config.Duplicates; d < 10*time.Minute {
		log.Warn().Str("stream", n.ResultsStream).Dur("duplicates", d).
			Msg("the results stream keeps duplicates for less than 10 minutes; a redelivered event may get two results")
	}
	cons, err := js.Consumer(ctx, n.EventsStream, n.Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cons, err = js.CreateConsumer(ctx, n.EventsStream, jetstream.ConsumerConfig{
			Durable: n.Consumer, Description: "chathub-operator-worker: HR events to ChatHub operators",
			FilterSubject: EventsSubjects, DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: -1,
			MaxAckPending: MaxAckPending, Replicas: replicas,
		})
		if err == nil {
			log.Info().Str("consumer", n.Consumer).Msg("created consumer")
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot bind consumer %s on %s: %w", n.Consumer, n.EventsStream, err)
	}
	if p := cons.CachedInfo().Config.AckPolicy; p != jetstream.AckExplicitPolicy {
		return nil, nil, fmt.Errorf("consumer %s has ack policy %s; the worker needs explicit acks", n.Consumer, p)
	}
	kv, err := js.KeyValue(ctx, n.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: n.Bucket, Description: "chathub-operator-worker: employee records and operator claims",
			History: 1, Storage: jetstream.FileStorage, Replicas: replicas,
		})
		if err == nil {
			log.Info().Str("bucket", n.Bucket).Msg("created KV bucket")
		} else {
			// Another worker may have created it at the same moment.
			kv, err = js.KeyValue(ctx, n.Bucket)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot bind KV bucket %s: %w", n.Bucket, err)
	}
	return cons, kv, nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, log zerolog.Logger) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, cfg)
		if err == nil {
			log.Info().Str("stream", cfg.Name).Int("replicas", cfg.Replicas).Msg("created stream")
		} else {
			// Another worker may have created it at the same moment.
			s, err = js.Stream(ctx, cfg.Name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot bind stream %s: %w", cfg.Name, err)
	}
	return s, nil
}
