package cli

import (
	"context"
	"sort"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/config"
)

// guard says which organizations' deactivations the guard would hold.
func (p *plan) guard(ctx context.Context, cfg config.Config, store *broker.Store, hub *chathub.Client) {
	rule := cfg.Guard
	if rule.Threshold.Off() {
		return
	}
	for id, o := range p.orgs {
		if o.GuardCount == 0 {
			continue
		}
		count := o.GuardCount
		if store != nil {
			if st, _, err := store.State(ctx, id); err == nil {
				count += st.AppliedSince(time.Now(), rule.Window)
			}
		}
		active := 0
		if rule.Threshold.Percent > 0 && hub != nil {
			active, _ = hub.CountActive(ctx, id)
		}
		o.GuardLimit = rule.Threshold.Limit(active)
		o.GuardHolds = rule.Trips(count, active)
	}
}

// cost counts the ChatHub calls and the time they take at the rate limit.
func (p *plan) cost(cfg config.Config) {
	for _, o := range p.orgs {
		if o.Create+o.Adopt > 0 {
			o.Calls++ // the list before creating
		}
		o.Calls += (o.Create + cfg.BatchMaxSize - 1) / cfg.BatchMaxSize
		o.Calls += o.Activate + o.Deactivate + o.Delete
		p.Calls += o.Calls
		p.Orgs = append(p.Orgs, *o)
	}
	sort.Slice(p.Orgs, func(i, j int) bool { return p.Orgs[i].OrganizationID < p.Orgs[j].OrganizationID })
	if p.Orgs == nil {
		p.Orgs = []orgPlan{}
	}
	p.Takes = "no limit"
	if cfg.ChatHubRateLimit > 0 {
		takes := time.Duration(max(p.Calls-1, 0)) * chathub.Interval(cfg.ChatHubRateLimit, cfg.ChatHubRateMargin)
		if takes < 10*time.Second {
			p.Takes = takes.Round(100 * time.Millisecond).String()
		} else {
			p.Takes = takes.Round(time.Second).String()
		}
	}
}
