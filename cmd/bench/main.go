// Command bench measures the worker against the broker's ceiling and a
// naive client, in one process on this machine, with an embedded NATS
// server and the ChatHub simulator, and prints one table:
//
//	go run ./cmd/bench          # full sizes
//	go run ./cmd/bench -short   # small sizes, under a minute
//
// The worker itself runs as a child process, so that its peak RSS is its
// own. See docs/performance.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// sizes are the bench's knobs.
type sizes struct {
	ceiling   int // messages for the broker ceilings
	naive     int // events for the naive baseline
	hires     int // hires for the worker row
	mixed     int // events for the mixed row
	drainHire int // hires in the rate-limited backlog
	drainStat int // status changes in the rate-limited backlog
	idle      int // single events for idle latency
	waiting   int // changes dated a week ahead in row 7
	paced     int // hires due now in row 7
	scheduled int // changes dated seconds ahead in row 8
	slow      int // status changes against a slow ChatHub in row 10
	// waitingHires and terminations are row 11's wave and what follows.
	waitingHires, terminations int
	burst                      int // hires drained at rate 5 in row 12
	// scaleFirst and scaleSecond are row 9's backlogs over 4
	// organizations, scaleOne the second backlog into one (0: row 9 is
	// off).
	scaleFirst, scaleSecond, scaleOne int
}

func main() {
	if os.Getenv(roleEnv) == "worker" {
		if err := runWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		return
	}
	short := flag.Bool("short", false, "small sizes, done in under a minute")
	s := sizes{ceiling: 100_000, naive: 2_000, hires: 20_000, mixed: 20_000, drainHire: 50, drainStat: 200, idle: 100,
		waiting: 20_000, paced: 1_000, scheduled: 1_000, slow: 200, waitingHires: 20_000, terminations: 100, burst: 10_000}
	flag.IntVar(&s.ceiling, "ceiling", s.ceiling, "messages for the broker ceilings")
	flag.IntVar(&s.naive, "naive", s.naive, "events for the naive baseline")
	flag.IntVar(&s.hires, "hires", s.hires, "hires for the worker row (over 4 organizations)")
	flag.IntVar(&s.mixed, "mixed", s.mixed, "events for the mixed row")
	flag.IntVar(&s.idle, "idle", s.idle, "single events for the idle latency row")
	scale := flag.Bool("scale", false, "also run row 9: 20,000 hires, then a million more over 4 organizations on the same worker; "+
		"then 20,000 and 300,000 more into one organization (about 15 minutes)")
	scaleSecond := flag.Int("scale-second", 1_000_000, "row 9b's hires over 4 organizations")
	scaleOne := flag.Int("scale-one", 300_000, "row 9c's hires into one organization")
	flag.StringVar(&only, "only", "", "run only these rows, e.g. 3,4 (ratios then use 1 for missing baselines)")
	flag.Parse()
	if *short {
		s = sizes{ceiling: 20_000, naive: 500, hires: 4_000, mixed: 4_000, drainHire: 20, drainStat: 60, idle: 30,
			waiting: 4_000, paced: 300, scheduled: 300, slow: 60, waitingHires: 4_000, terminations: 30, burst: 2_000}
	}
	if *scale || only != "" && want("9") {
		s.scaleFirst, s.scaleSecond, s.scaleOne = 20_000, *scaleSecond, *scaleOne
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, s); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// only limits the rows run, for profiling one of them.
var only string

// want reports whether row r is to run.
func want(r string) bool { return only == "" || slices.Contains(strings.Split(only, ","), r) }

// row is one line of the table.
type row struct {
	name, figure, detail string
}

func run(ctx context.Context, s sizes) error {
	fmt.Printf("machine: %d cores, %s %s/%s; started %s\n\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		time.Now().UTC().Format(time.RFC3339))
	var rows []row
	add := func(r row) {
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "  %-34s %s\n", r.name, r.figure)
	}
	ackOnly, floor, naive := 1.0, 1.0, 1.0
	var err error
	if want("1") {
		if ackOnly, err = benchAckOnly(ctx, s.ceiling); err != nil {
			return fmt.Errorf("ack-only ceiling: %w", err)
		}
		add(row{"1a ceiling: ack-only consumer", rate(ackOnly), fmt.Sprintf("%d messages", s.ceiling)})
		if floor, err = benchFloor(ctx, s.ceiling); err != nil {
			return fmt.Errorf("contract floor: %w", err)
		}
		add(row{"1b contract floor", rate(floor), "fetch + 1 KV write + 1 result publish + 1 ack per event, one wait per batch"})
	}
	if want("2") {
		if naive, err = benchNaive(ctx, s.naive); err != nil {
			return fmt.Errorf("naive baseline: %w", err)
		}
		add(row{"2  naive per-event client", rate(naive), fmt.Sprintf("%d hires: list + synchronize + ack, one at a time", s.naive)})
	}
	if err := runWorkerRows(ctx, s, ackOnly, floor, naive, add); err != nil {
		return err
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tFIGURE\tDETAIL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, r.figure, r.detail)
	}
	return tw.Flush()
}

// runWorkerRows runs rows 3 to 12.
func runWorkerRows(ctx context.Context, s sizes, ackOnly, floor, naive float64, add func(row)) error {
	if want("3") {
		w, err := benchWorkerHires(ctx, s.hires)
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		add(row{"3  worker: hires over 4 orgs", rate(w.rate), fmt.Sprintf(
			"backlog of %d hires, results %.2fx 1b, %.1fx naive; intake alone %.0f events/s (%.2fx 1b); per hire %.2f stream writes, %.2f deliveries; "+
				"synchronize calls %d (min %d, %.3fx); peak RSS %.1f MiB; publish->result at a steady %.0f/s: p50 %s p99 %s",
			s.hires, w.rate/floor, w.rate/naive, w.intake, w.intake/floor, w.writes, w.deliveries,
			w.syncCalls, w.minSync, float64(w.syncCalls)/float64(w.minSync),
			float64(w.peakRSS)/(1<<20), w.pace, w.p50.Round(time.Millisecond), w.p99.Round(time.Millisecond))})
	}
	if want("4") {
		if err := mixedRow(ctx, s, add); err != nil {
			return err
		}
	}
	if want("5") {
		if err := drainRow(ctx, s, add); err != nil {
			return err
		}
	}
	if want("6") {
		if err := idleRow(ctx, s, add); err != nil {
			return err
		}
	}
	if want("7") {
		if err := waitingRow(ctx, s, add); err != nil {
			return err
		}
	}
	if want("8") {
		if err := lagRow(ctx, s, add); err != nil {
			return err
		}
	}
	if want("9") && s.scaleFirst > 0 {
		if err := scaleRow(ctx, s, add); err != nil {
			return err
		}
	}
	return rateRows(ctx, s, add)
}

// rateRows runs rows 10 to 12.
func rateRows(ctx context.Context, s sizes, add func(row)) error {
	for _, r := range []struct {
		n   string
		run func(context.Context, sizes, func(row)) error
	}{{"10", slowRow}, {"11", priorityRow}, {"12", burstRow}} {
		if want(r.n) {
			if err := r.run(ctx, s, add); err != nil {
				return err
			}
		}
	}
	return nil
}
