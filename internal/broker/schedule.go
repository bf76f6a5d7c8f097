package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Schedules asks JetStream to wake the worker for an employee at a time:
// message schedules on <stream>.at.<token>, which the server fires as a
// message on <stream>.wake.<token>. When one fires, the server purges the
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
	return stream + ".at." + Token(employeeID)
}

func WakeSubject(stream, employeeID string) string {
	return stream + ".wake." + Token(employeeID)
}

// WakeAt schedules a wake-up for the employee at at.
func (s *Schedules) WakeAt(ctx context.Context, employeeID string, at time.Time) error {
	m := nats.NewMsg(AtSubject(s.stream, employeeID))
	// Nanoseconds: the server fires at the instant given, so a change
	// dated 09:00:00.5 is not applied half a second early.
	m.Header.Set(jetstream.ScheduleHeader, "@at "+at.UTC().Format(time.RFC3339Nano))
	m.Header.Set(jetstream.ScheduleTargetHeader, WakeSubject(s.stream, employeeID))
	// A wake-up not yet consumed is replaced, not added to.
	m.Header.Set(jetstream.ScheduleRollupHeader, jetstream.MsgRollupSubject)
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("cannot schedule a wake-up: %w", err)
	}
	return nil
}

// Poke wakes the worker for the employee now: a tool that changed what the
// worker must do (a guard decision, a corrected record) asks for a look.
func (s *Schedules) Poke(ctx context.Context, employeeID string) error {
	m := nats.NewMsg(WakeSubject(s.stream, employeeID))
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("cannot wake the worker for the employee: %w", err)
	}
	return nil
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
