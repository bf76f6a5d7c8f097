// Package broker is the JetStream plumbing of the worker: it creates what
// is missing (streams, consumers, the KV bucket), pulls HR_EVENTS and the
// wake-ups, reads and writes the employees' records, the guard's state and
// the notes of creates, elects the one active worker, shares the ChatHub
// rate between replicas, and publishes results, wake-ups and alerts. It
// knows nothing of ChatHub's API.
package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Names are the JetStream objects the worker uses.
type Names struct {
	EventsStream    string // HR_EVENTS
	ResultsStream   string // HR_RESULTS
	SchedulesStream string // CHATHUB_SCHEDULES
	AlertsStream    string // HR_ALERTS
	Consumer        string // chathub-operator-worker, on each stream it reads
	Bucket          string // chathub-operator-worker
}

// Subjects of the contract.
const (
	EventsSubjects  = "hr.events.>"
	ResultsSubjects = "hr.results.>"
	ResultsPrefix   = "hr.results"
)

// Consumer settings, chosen for a ChatHub that may be slow or away for an
// hour. MaxDeliver is unlimited: the worker itself turns a spent retry
// policy into a failed result, so no event ever vanishes without one.
// MaxAckPending leaves room for the messages the pipeline holds while it
// works on them (HoldMax) and what the client pulls ahead.
const (
	MaxAckPending = 32768
	// ResultsDuplicates is the dedup window of HR_RESULTS, at least the
	// contract's 10 minutes.
	ResultsDuplicates = 20 * time.Minute
)

// MinServer is the oldest NATS server with what the worker needs: message
// schedules (2.12) with sub-second @at times and per-subject rollup of
// what they fire (2.14).
const MinServer = "2.14.0"

// Retention is how long the streams the worker creates keep messages;
// 0 keeps them forever.
type Retention struct {
	// Events: HR_EVENTS keeps an event this long once the intake took it
	// in (the worker purges; see PurgeTakenIn).
	Events time.Duration
	// Results: HR_RESULTS and HR_ALERTS keep theirs this long (MaxAge).
	Results time.Duration
}

// EventsDescription marks an events stream the worker created, the only
// kind it purges.
const EventsDescription = "chathub-operator-worker: HR events; events taken in are purged after EVENTS_MAX_AGE"

// Objects are what Setup binds to.
type Objects struct {
	// Intake is the durable consumer of HR_EVENTS.
	Intake jetstream.Consumer
	// Wakes is the consumer of the wake-ups the schedules fire.
	Wakes jetstream.Consumer
	KV    jetstream.KeyValue
}

// CheckServer refuses a NATS server older than MinServer.
func CheckServer(version string) error {
	if !atLeast(version, MinServer) {
		return fmt.Errorf("NATS server %s is too old: the worker needs %s or newer (JetStream message schedules)", version, MinServer)
	}
	return nil
}

// atLeast compares dotted versions numerically.
func atLeast(version, min string) bool {
	v, m := strings.Split(strings.TrimPrefix(version, "v"), "."), strings.Split(min, ".")
	for i := range m {
		want, _ := strconv.Atoi(m[i])
		got := 0
		if i < len(v) {
			got, _ = strconv.Atoi(strings.SplitN(v[i], "-", 2)[0])
		}
		if got != want {
			return got > want
		}
	}
	return true
}

// Setup creates the streams, consumers and bucket that are missing, with
// replicas copies each, and binds to those that exist without changing
// them.
func Setup(ctx context.Context, js jetstream.JetStream, n Names, replicas int, ackWait time.Duration, ret Retention, log zerolog.Logger) (Objects, error) {
	var o Objects
	if _, err := ensureStream(ctx, js, jetstream.StreamConfig{
		Name: n.EventsStream, Description: EventsDescription, Subjects: []string{EventsSubjects}, Storage: jetstream.FileStorage,
		Replicas: replicas, Duplicates: 2 * time.Minute,
	}, log); err != nil {
		return o, err
	}
	results, err := ensureStream(ctx, js, jetstream.StreamConfig{
		Name: n.ResultsStream, Subjects: []string{ResultsSubjects}, Storage: jetstream.FileStorage,
		Replicas: replicas, Duplicates: ResultsDuplicates, MaxAge: ret.Results,
	}, log)
	if err != nil {
		return o, err
	}
	if d := results.CachedInfo().Config.Duplicates; d < 10*time.Minute {
		log.Warn().Str("stream", n.ResultsStream).Str("duplicates_window", d.String()).
			Msg("the results stream keeps duplicates for less than 10 minutes; a redelivered event may get two results")
	}
	if _, err := ensureStream(ctx, js, jetstream.StreamConfig{
		Name: n.AlertsStream, Description: "chathub-operator-worker: alerts for people (the mass-offboarding guard)",
		Subjects: []string{AlertsSubjects}, Storage: jetstream.FileStorage, Replicas: replicas, Duplicates: ResultsDuplicates,
		MaxAge: ret.Results,
	}, log); err != nil {
		return o, err
	}
	schedules, err := ensureStream(ctx, js, jetstream.StreamConfig{
		Name: n.SchedulesStream, Description: "chathub-operator-worker: wake-ups for scheduled changes and retries",
		Subjects: []string{n.SchedulesStream + ".at.>", n.SchedulesStream + ".wake.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, AllowMsgSchedules: true, AllowRollup: true, Replicas: replicas,
	}, log)
	if err != nil {
		return o, err
	}
	if !schedules.CachedInfo().Config.AllowMsgSchedules {
		return o, fmt.Errorf("stream %s does not allow message schedules; the worker keeps its wake-ups there", n.SchedulesStream)
	}
	consumer := func(stream, filter, what string) (jetstream.Consumer, error) {
		return ensureConsumer(ctx, js, stream, jetstream.ConsumerConfig{
			Durable: n.Consumer, Description: "chathub-operator-worker: " + what,
			FilterSubject: filter, DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: -1,
			MaxAckPending: MaxAckPending, Replicas: replicas,
		}, log)
	}
	if o.Intake, err = consumer(n.EventsStream, EventsSubjects, "HR events to employee records"); err != nil {
		return o, err
	}
	if o.KV, err = ensureBucket(ctx, js, n.Bucket, replicas, log); err != nil {
		return o, err
	}
	retireChanges(ctx, js, "KV_"+n.Bucket, n.Consumer, log)
	if o.Wakes, err = consumer(n.SchedulesStream, n.SchedulesStream+".wake.>", "wake-ups to reconcile"); err != nil {
		return o, err
	}
	return o, nil
}

// ourPrefix begins the description of everything the worker creates.
const ourPrefix = "chathub-operator-worker:"

// retireChanges deletes the consumer of record changes that earlier
// versions created on the bucket's stream: this version keeps no queue
// there, and the consumer would only pile up pending messages.
func retireChanges(ctx context.Context, js jetstream.JetStream, stream, durable string, log zerolog.Logger) {
	cons, err := js.Consumer(ctx, stream, durable)
	if err != nil || !strings.HasPrefix(cons.CachedInfo().Config.Description, ourPrefix) {
		return
	}
	if err := js.DeleteConsumer(ctx, stream, durable); err == nil {
		log.Info().Str("stream", stream).Str("consumer", durable).Msg("deleted the record-change consumer of an earlier version")
	}
}

func ensureBucket(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, log zerolog.Logger) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: bucket, Description: "chathub-operator-worker: employee records and operator claims",
			History: 1, Storage: jetstream.FileStorage, Replicas: replicas,
		})
		if err == nil {
			log.Info().Str("bucket", bucket).Msg("created KV bucket")
		} else {
			// Another worker may have created it at the same moment.
			kv, err = js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, setupError("KV bucket "+bucket, err)
	}
	return kv, nil
}
