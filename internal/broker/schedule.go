package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/kvstore"
)

// Schedules asks JetStream to wake the reconciler for an employee at a
// time: message schedules on <stream>.at.<key>, which the server fires as
// a message on <stream>.wake.<key>. When one fires, the server purges the
// employee's schedules, the later ones too; the look the wake-up brings
// schedules again what the record still waits for. A wake-up replaces one
// not yet consumed. The schedules live in the stream, so they survive
// restarts of the worker and of NATS, and any number of them costs nothing
// until it fires.
type Schedules struct {
	js     jetstream.JetStream
	stream string
}

// NewSchedules returns the schedules kept in stream.
func NewSchedules(js jetstream.JetStream, stream string) *Schedules {
	return &Schedules{js: js, stream: stream}
}

// AtSubject and WakeSubject are the subjects of an employee's schedule and
// of the message it fires.
func AtSubject(stream, employeeID string) string {
	return stream + ".at." + kvstore.Token(employeeID)
}

func WakeSubject(stream, employeeID string) string {
	return stream + ".wake." + kvstore.Token(employeeID)
}

// WakeAll schedules the wake-ups at once and waits until each is stored.
func (s *Schedules) WakeAll(ctx context.Context, wakes []handlers.Wake) []error {
	msgs := make([]*nats.Msg, len(wakes))
	errs := make([]error, len(wakes))
	for i, w := range wakes {
		m := nats.NewMsg(AtSubject(s.stream, w.EmployeeID))
		// Nanoseconds: the server fires at the instant given, so a change
		// dated 09:00:00.5 is not applied half a second early.
		m.Header.Set(jetstream.ScheduleHeader, "@at "+w.At.UTC().Format(time.RFC3339Nano))
		m.Header.Set(jetstream.ScheduleTargetHeader, WakeSubject(s.stream, w.EmployeeID))
		// A wake-up not yet consumed is replaced, not added to.
		m.Header.Set(jetstream.ScheduleRollupHeader, jetstream.MsgRollupSubject)
		msgs[i] = m
	}
	publishAll(ctx, s.js, msgs, errs)
	return errs
}

// Events reads input messages back from HR_EVENTS.
type Events struct {
	js     jetstream.JetStream
	stream string
}

// NewEvents returns a reader of stream.
func NewEvents(js jetstream.JetStream, stream string) *Events { return &Events{js: js, stream: stream} }

// Body returns the body of the message at seq.
func (e *Events) Body(ctx context.Context, seq uint64) ([]byte, error) {
	s, err := e.js.Stream(ctx, e.stream)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", e.stream, err)
	}
	m, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("message %d is no longer in %s", seq, e.stream)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read message %d of %s: %w", seq, e.stream, err)
	}
	return m.Data, nil
}
