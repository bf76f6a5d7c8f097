package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// AlertsSubjects are the subjects of HR_ALERTS.
const AlertsSubjects = "hr.alerts.>"

// Alerts publishes the mass-offboarding guard's alerts to HR_ALERTS.
type Alerts struct {
	js  jetstream.JetStream
	now func() time.Time
}

// NewAlerts returns an Alerts publisher.
func NewAlerts(js jetstream.JetStream) *Alerts { return &Alerts{js: js, now: time.Now} }

// Tripped publishes the alert of one trip, with Nats-Msg-Id
// guard:<org>:<trip>, so that a trip sends one alert.
func (a *Alerts) Tripped(ctx context.Context, org int, t guard.Trip) error {
	alert := hrevent.GuardAlert{OrganizationID: org, Held: t.Held, Threshold: t.Threshold, GuardThreshold: t.Rule,
		Window: t.Window.String(), Since: t.Since.UTC().Format(time.RFC3339Nano), EmployeeIDs: t.EmployeeIDs, Gen: t.Gen}
	if alert.EmployeeIDs == nil {
		alert.EmployeeIDs = []string{}
	}
	body, err := alert.Marshal(a.now())
	if err != nil {
		return err
	}
	msg := &nats.Msg{Subject: alert.Subject(), Data: body, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, alert.ID())
	pubCtx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if _, err := a.js.PublishMsg(pubCtx, msg); err != nil {
		return fmt.Errorf("cannot publish the guard's alert: %w", err)
	}
	return nil
}
