// Package handlers is the worker's pipeline, run by the worker that leads:
// the intake takes HR events off the stream into per-employee queues
// (intake.go), the queue hands out employees, never one twice at once
// (queue.go), and a look reads an employee's record, merges their new
// events, asks the domain what to do and does it (look.go, finish.go).
// The domain (package employee) decides; the pipeline holds no rule. It
// reaches NATS and ChatHub only through ports.
package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

type (
	// Message is the acknowledgement side of a message taken off a
	// stream.
	Message interface {
		Ack() error
		Nak(delay time.Duration) error
		Term(reason string) error
		InProgress() error
	}

	// Results publishes result events and reports, per result, whether
	// the stream stored it.
	Results interface {
		Publish(ctx context.Context, results []hrevent.Result) []error
	}

	// Wakes asks for a look at an employee at a time.
	Wakes interface {
		WakeAt(ctx context.Context, employeeID string, at time.Time) error
	}

	// Events reads an input message back by its stream sequence, for the
	// original body a failed result carries.
	Events interface {
		Body(ctx context.Context, seq uint64) ([]byte, error)
	}
)

// Ports are what the pipeline reaches the world through.
type Ports struct {
	Store   employee.Store
	Intents employee.Intents
	ChatHub employee.ChatHub
	Guards  employee.Guards
	Alerts  employee.Alerts
	Results Results
	Wakes   Wakes
	Events  Events
	// Probe asks ChatHub whether it accepts the token again, about an
	// organization a refused call was for.
	Probe func(ctx context.Context, org int) error
}

// Config tunes the pipeline; zero fields take defaults.
type Config struct {
	Policy employee.Policy
	Guard  guard.Rule
	// GuardSettle is how long no new deactivation of an organization must
	// begin to wait before the guard decides, so that a burst is counted
	// whole.
	GuardSettle time.Duration
	// Looks bounds the steps of looks run at once (their store round
	// trips overlap); LooksMax the looks under way (their records held).
	Looks, LooksMax int
	// HoldMax and HoldBytes bound the messages held unacknowledged, by
	// count and by bytes of their bodies; past them, waiting work is
	// written down and its messages acknowledged.
	HoldMax, HoldBytes int
	// AckWait is the consumers' AckWait: held messages are marked in
	// progress well within it.
	AckWait time.Duration
	// Sweep is how often the list of unfinished work is walked for
	// employees that nothing else would bring back.
	Sweep time.Duration
	// CallTimeout is how long a ChatHub call may take.
	CallTimeout time.Duration
	Now         func() time.Time
	Metrics     *metrics.Metrics
	Tracer      trace.Tracer
}

func (c Config) withDefaults() Config {
	if c.Policy.MaxAttempts <= 0 {
		c.Policy = employee.DefaultPolicy
	}
	if c.GuardSettle <= 0 {
		c.GuardSettle = time.Second
	}
	if c.Looks <= 0 {
		c.Looks = 128
	}
	if c.LooksMax <= 0 {
		c.LooksMax = 4000
	}
	if c.HoldMax <= 0 {
		c.HoldMax = 4000
	}
	if c.HoldBytes <= 0 {
		c.HoldBytes = 3 << 20
	}
	if c.AckWait <= 0 {
		c.AckWait = 10 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 15 * time.Second
	}
	if c.Sweep <= 0 {
		c.Sweep = 5 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Tracer == nil {
		c.Tracer = noop.NewTracerProvider().Tracer("")
	}
	return c
}

// Pipeline is the worker's work while it leads.
type Pipeline struct {
	cfg       Config
	ports     Ports
	validator *hrevent.Validator
	log       zerolog.Logger
	queue     *queue
	gate      *gate
	intents   *intents
	// commits takes the looks to end to the committers.
	commits chan commit
	// caughtUp: the intake's last batch left the stream with nothing more
	// for it; inHand: it holds a batch not yet queued; arrivals: when
	// batches came.
	caughtUp, inHand atomic.Bool
	arrivals         flow
	// paused: ChatHub refuses the token; pausedOrg is the organization to
	// probe it with.
	paused    atomic.Bool
	pausedOrg atomic.Int64
	// work is the context of the ChatHub work while the pipeline runs.
	work context.Context
	bg   sync.WaitGroup
}

// New returns a pipeline; Run runs it.
func New(cfg Config, p Ports, v *hrevent.Validator, log zerolog.Logger) *Pipeline {
	cfg = cfg.withDefaults()
	pl := &Pipeline{cfg: cfg, ports: p, validator: v, log: log, work: context.Background()}
	pl.queue = newQueue(cfg)
	pl.commits = make(chan commit, 2*commitBatch)
	pl.gate = newGate(pl)
	pl.intents = &intents{p: pl, open: map[string]map[string]bool{}}
	return pl
}

// SetChatHub gives the pipeline its ChatHub port: the executor, which
// itself asks the pipeline whether more work is on its way (Busy).
func (p *Pipeline) SetChatHub(h employee.ChatHub) { p.ports.ChatHub = h }

// Intents is the notes of creates under way, for the executor: the
// pipeline drops each once every record it concerns is saved.
func (p *Pipeline) Intents() employee.Intents { return p.intents }

// Gate is the mass-offboarding guard as the pipeline keeps it.
func (p *Pipeline) Gate() employee.Gate { return p.gate }

// Busy says whether more work is on its way to ChatHub: events in the
// stream not taken in yet, in hand, or not looked at yet, or events
// arriving (one came within the last quiet): a partial synchronize call
// waits for them, within BATCH_MAX_WAIT.
func (p *Pipeline) Busy() bool {
	return p.inHand.Load() || !p.caughtUp.Load() || p.arrivals.arriving(time.Now()) || p.queue.busy()
}

// Paused says whether ChatHub refuses the token.
func (p *Pipeline) Paused() bool { return p.paused.Load() }

// Room is how many more messages the pipeline takes now; Roomed is
// signalled when room is made.
func (p *Pipeline) Room() int               { return p.queue.room() }
func (p *Pipeline) Roomed() <-chan struct{} { return p.queue.roomed }
