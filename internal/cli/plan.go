package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/guard"
)

// plan is what publishing a file would change.
type plan struct {
	Lines     int       `json:"lines"`
	Invalid   []badLine `json:"invalid"`
	Orgs      []orgPlan `json:"organizations"`
	NoOps     []planned `json:"noOps"`
	Scheduled []planned `json:"scheduled"`
	Calls     int       `json:"calls"`
	Takes     string    `json:"takes"`
	RateLimit float64   `json:"rateLimit"`
	Skipped   []string  `json:"notAsked,omitempty"`
	orgs      map[int]*orgPlan
}

type badLine struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// orgPlan is what one organization's operators would go through.
type orgPlan struct {
	OrganizationID int `json:"organizationId"`
	Create         int `json:"create"`
	Adopt          int `json:"adopt"`
	Activate       int `json:"activate"`
	Deactivate     int `json:"deactivate"`
	Delete         int `json:"delete"`
	// MovesIn are the creates and adoptions for employees who move here
	// from another organization; MovesOut the deletes of the operators of
	// employees who move away, each once their new one exists. Neither
	// is a deactivation the guard counts.
	MovesIn  int `json:"movesIn"`
	MovesOut int `json:"movesOut"`
	Calls    int `json:"calls"`
	// GuardHolds: the mass-offboarding guard would hold the organization's
	// deactivations (GuardCount of them, over GuardLimit).
	GuardHolds bool `json:"guardHolds"`
	GuardCount int  `json:"guardCount"`
	GuardLimit int  `json:"guardLimit"`
}

// planned is one event that changes nothing, or waits for its time.
type planned struct {
	Line     int       `json:"line"`
	EventID  string    `json:"eventId"`
	Kind     string    `json:"kind"`
	Employee string    `json:"employeeId"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at,omitzero"`
	State    string    `json:"state,omitempty"`
	// Org is the employee's organization once a scheduled change takes
	// effect; moved says it is another than now.
	Org   int `json:"organizationId,omitempty"`
	moved bool
}

// Plan is a dry run of publish: from the current records and ChatHub's
// lists, what publishing the file would change, and what it would cost.
func Plan(ctx context.Context, args []string, env Env) error {
	spec := Spec{
		Synopsis: "plan [-json] [-allow-invalid] [-source S] FILE",
		Summary: "A dry run of 'worker publish FILE': validates the file like publish, then says, from the current\n" +
			"records and ChatHub's lists, which operators would be created, which statuses would change, which\n" +
			"events change nothing and why, which wait for their time, what the guard would hold, and the ChatHub\n" +
			"calls and time it costs at CHATHUB_RATE_LIMIT. Publishes and writes nothing. Exit codes as publish's.",
		Example: "worker plan team.csv\nworker plan -json events.jsonl",
	}
	in, err := readInput(spec, args, env, "print one JSON object")
	if err != nil {
		return err
	}
	lines, valid, invalid := in.lines, in.valid, in.invalid
	cfg, nc, js, err := connect(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	p, err := makePlan(ctx, cfg, js, valid, time.Now())
	if err != nil {
		return err
	}
	p.Lines = len(lines)
	for _, l := range invalid {
		p.Invalid = append(p.Invalid, badLine{l.no, l.err.Error()})
	}
	if in.asJSON {
		err = json.NewEncoder(env.Stdout).Encode(p)
	} else {
		p.print(env.Stdout)
	}
	switch {
	case err != nil:
		return err
	case len(invalid) == 0 || in.allowInvalid:
		return nil
	case len(valid) == 0:
		return fmt.Errorf("none of the %d lines is valid", len(lines))
	}
	return partly("%d lines are invalid", len(invalid))
}

// makePlan merges the file's events into copies of the records, then
// compares each employee's desired state with what ChatHub lists.
func makePlan(ctx context.Context, cfg config.Config, js jetstream.JetStream, valid []line, now time.Time) (*plan, error) {
	p := &plan{RateLimit: cfg.ChatHubRateLimit, orgs: map[int]*orgPlan{}, Invalid: []badLine{}, NoOps: []planned{}, Scheduled: []planned{}}
	opCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var store *broker.Store
	if kv, err := js.KeyValue(opCtx, cfg.KVBucket); err == nil {
		store = broker.NewStore(js, kv)
	}
	recs := map[string]*employee.Record{}
	var order []string
	for _, l := range valid {
		id := l.ev.EmployeeID
		if recs[id] == nil {
			rec := employee.Record{}
			if store != nil {
				r, rev, err := store.Get(opCtx, id)
				if err != nil {
					return nil, err
				}
				if rev != 0 {
					rec = r
				}
			}
			recs[id], order = &rec, append(order, id)
		}
		v := recs[id].Merge(l.ev.Domain(), 0, 1, "", now)
		row := planned{Line: l.no, EventID: l.ev.ID, Kind: string(l.ev.Kind), Employee: id, Reason: v.Reason}
		switch {
		case v.Kind == employee.Skip || v.Kind == employee.Fail:
			p.NoOps = append(p.NoOps, row)
		case l.ev.Time.After(now.Add(employee.ScheduleAhead)):
			row.At, row.State, row.Org = l.ev.Time, recs[id].StateAt(l.ev.Time).String(), recs[id].OrgAt(l.ev.Time)
			row.moved = row.Org != recs[id].Org
			p.Scheduled = append(p.Scheduled, row)
		}
	}
	hub := planHub(cfg, p)
	for _, id := range order {
		p.change(ctx, hub, recs[id], now)
	}
	p.guard(opCtx, cfg, store, hub)
	p.cost(cfg)
	return p, nil
}

// planHub is a ChatHub client for the lists, if ChatHub is configured.
func planHub(cfg config.Config, p *plan) *chathub.Client {
	if cfg.ChatHubBaseURL == "" || cfg.ChatHubToken == "" {
		p.Skipped = append(p.Skipped, "ChatHub (set CHATHUB_BASE_URL and a token): creates are counted without looking for operators to adopt")
		return nil
	}
	// A plan asks about many employees of one organization: list it once.
	hub, err := hubClient(cfg, chathub.WithCacheTTL(chathub.DefaultCacheTTL))
	if err != nil {
		p.Skipped = append(p.Skipped, "ChatHub: "+err.Error())
		return nil
	}
	return hub
}

// change counts what making ChatHub match one employee's record takes:
// the operations the domain decides, step by step, as if ChatHub made
// each (an operator to make is adopted if ChatHub lists one of its name).
func (p *plan) change(ctx context.Context, hub *chathub.Client, rec *employee.Record, now time.Time) {
	for range 4 {
		d := rec.Decide(now, openGate{})
		if len(d.Ops) == 0 {
			return
		}
		var answers []employee.Answer
		for _, op := range d.Ops {
			o := p.org(op.Org)
			a := employee.Answer{Op: op}
			switch old := rec.Operator; {
			case op.Kind == employee.Ensure && !op.NoCreate && old.ID != 0 && old.Org != op.Org && old.Status != employee.StatusDeleted:
				o.MovesIn++
			case op.Kind == employee.SetStatus && op.OperatorID != old.ID:
				o.MovesOut++
			}
			switch {
			case op.Kind == employee.Ensure:
				a.Operator = employee.Operator{ID: -1, Org: op.Org, Status: op.To}
				if hub != nil {
					found, err := hub.FindByNames(ctx, op.Org, []string{op.Name}, false)
					if ops := found[chathub.NameKey(op.Name)]; err == nil && len(ops) > 0 {
						o.Adopt++
						if ops[0].Status != op.To {
							o.count(op.To)
						}
						break
					}
				}
				o.Create++
				if op.To != employee.StatusActive {
					o.count(op.To)
				}
			default:
				if op.Deactivation {
					o.GuardCount++
				}
				o.count(op.To)
			}
			answers = append(answers, a)
		}
		rec.Apply(answers, employee.DefaultPolicy, now)
	}
}

// openGate lets every deactivation through: the plan counts them and
// says itself what the guard would hold.
type openGate struct{}

func (openGate) Admit(int, string, uint64, time.Time) guard.Verdict { return guard.Verdict{} }

func (o *orgPlan) count(s employee.Status) {
	switch s {
	case employee.StatusActive:
		o.Activate++
	case employee.StatusInactive:
		o.Deactivate++
	default:
		o.Delete++
	}
}

func (p *plan) org(id int) *orgPlan {
	if p.orgs[id] == nil {
		p.orgs[id] = &orgPlan{OrganizationID: id}
	}
	return p.orgs[id]
}
