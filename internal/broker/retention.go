package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PurgeTakenIn removes from the events stream the messages older than
// maxAge that the intake has taken in (at or below its consumer's ack
// floor), and returns how many went. An event not yet taken in stays,
// however old: a stopped worker loses nothing. Only a stream the worker
// created (EventsDescription) is purged.
func PurgeTakenIn(ctx context.Context, js jetstream.JetStream, stream string, intake jetstream.Consumer, maxAge time.Duration, now time.Time) (uint64, error) {
	if maxAge <= 0 {
		return 0, nil
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("cannot read stream %s: %w", stream, err)
	}
	si, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("cannot read stream %s: %w", stream, err)
	}
	if si.Config.Description != EventsDescription || si.State.Msgs == 0 {
		return 0, nil
	}
	ci, err := intake.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("cannot read the intake consumer: %w", err)
	}
	cutoff := now.Add(-maxAge)
	if !si.State.FirstTime.Before(cutoff) {
		return 0, nil
	}
	// The first message young enough to keep.
	keep := si.State.LastSeq + 1
	oc, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &cutoff})
	if err != nil {
		return 0, fmt.Errorf("cannot read stream %s: %w", stream, err)
	}
	m, err := oc.Next(jetstream.FetchMaxWait(2 * time.Second))
	switch {
	case err == nil:
		md, mdErr := m.Metadata()
		if mdErr != nil {
			return 0, mdErr
		}
		keep = md.Sequence.Stream
	case errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages):
	default:
		return 0, fmt.Errorf("cannot read stream %s: %w", stream, err)
	}
	upTo := min(keep, ci.AckFloor.Stream+1)
	if upTo <= si.State.FirstSeq {
		return 0, nil
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(upTo)); err != nil {
		return 0, fmt.Errorf("cannot purge stream %s: %w", stream, err)
	}
	after, err := s.Info(ctx)
	if err != nil {
		return 0, nil
	}
	return si.State.Msgs - min(after.State.Msgs, si.State.Msgs), nil
}
