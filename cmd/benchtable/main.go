//go:build linux

// Command benchtable runs the performance benchmark of bulkcancel and
// prints its tables: bulkcancel against wrk and a hand-written
// "xargs -P 64 curl" loop on the same fake API, the rate accuracy, the
// requests in flight, peak memory and wall time at 1 and 10 million rows,
// and the time to the first request; then the adaptive rate against a fake
// that plays the API's own limit. `make bench` runs it all, `make
// bench-rate` the adaptive-rate sections alone.
//
// It builds bin/bulkcancel and bin/fakesubverse when they are missing or
// older than the sources, writes its inputs, logs and reports under
// bench-out/, starts a fresh fakesubverse on loopback for every
// measurement, installs wrk and curl with apt-get when it runs as root and
// they are missing, and stops every process it started when it ends, on
// error and on Ctrl-C. It uses only the standard library.
//
// Usage:
//
//	go run ./cmd/benchtable [-quick] [-rounds N] [-only SECTIONS] [-ten-million send|dry-run|skip]
//	                        [-rates LIST] [-limits LIST] [-auto-rate VALUE] [-out DIR] [-bin DIR] [-keep] [-no-install]
//
// SECTIONS is a comma-separated list of throughput, curl, latency, rate,
// memory, big, limit, nolimit and shards; adaptive stands for the last
// three:
//
//   - limit: for each limit of -limits (bucket: 150/s, burst 15, Retry-After;
//     window: 150/s as a 2 s fixed window; no-retry-after: the bucket
//     without Retry-After; slow: 20/s, burst 2; fast: 1,000/s, burst 100),
//     bulkcancel at each --rate of -rates (auto, 7x = seven times the limit,
//     or a number), --concurrency 32 --max-attempts 20, on 20 or 30 s worth
//     of queued calls, cut off after three times that;
//   - nolimit: --rate 0 and --rate auto, --concurrency 64, each for 60 s
//     against a fake without a limit and with 5 ms latency;
//   - shards: four --shard K/4 --rate auto processes at once against one
//     150/s bucket.
//
// Each cell reports calls canceled, goodput (canceled / the fake's first to
// last request arrival), goodput / limit, 429s of requests and how long
// after the first request the requests let through in a sliding second
// first reached 90 % of the limit, each against its target. A cell whose
// bulkcancel refuses its flags (exit 2, e.g. one without --rate auto) is
// reported as not run and the others still run. -auto-rate N sends
// --rate N wherever a cell says auto, to check the harness with a
// bulkcancel that has no --rate auto.
//
// The tables go to stdout, progress to stderr; the exit status is 0 when
// every measurement ran (targets met or not), 1 when one failed, 2 for a
// bad flag and 130 when interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the sizes and switches of one benchmark run.
type config struct {
	quick      bool
	rounds     int
	rows       int           // throughput input
	wrkFor     time.Duration // each wrk run
	conns      int           // --concurrency, wrk -c and xargs -P
	curlIDs    int           // the xargs curl sample
	rate       float64       // --rate of the accuracy run
	rateFor    time.Duration // its length: rate*rateFor IDs
	latency    time.Duration // the fake's latency in the informative row; 0 skips it
	latRows    int
	memRows    int    // the 1M run, also timed to the first request
	bigRows    int    // the 10M run
	bigMode    string // send, dry-run or skip
	keep       bool
	noInstall  bool
	binDir     string
	out        string
	only       map[string]bool // the sections to run; empty runs all
	concurrent string          // the --concurrency value as text

	rates          []rateSetting // the --rate values of the limited cells
	autoRate       string        // the --rate value sent where a cell says auto
	limitKinds     []limitKind   // the limits of the limited cells
	noLimitCalls   int           // the input of the no-limit cells
	noLimitFor     time.Duration // each no-limit run
	noLimitLatency time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{conns: 64, rate: 500}
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.quick, "quick", false, "small sizes (20k rows, 10s rate run, 100k/1M memory runs, 1 round): a check in about a minute, not the issue's figures")
	fs.IntVar(&c.rounds, "rounds", 0, "throughput rounds (wrk and bulkcancel alternate; the median counts); 0 means 3, or 1 with -quick")
	fs.StringVar(&c.bigMode, "ten-million", "send", "the 10,000,000-row run: send (real requests), dry-run, or skip")
	fs.StringVar(&c.out, "out", "bench-out", "directory for inputs, logs and reports")
	fs.StringVar(&c.binDir, "bin", "", "use bulkcancel and fakesubverse from this directory as they are (default: bin/, built when missing or stale)")
	fs.BoolVar(&c.keep, "keep", false, "keep the reports bulkcancel writes (they are deleted after each measurement)")
	fs.BoolVar(&c.noInstall, "no-install", false, "never run apt-get; skip what needs a missing tool")
	only := fs.String("only", "", "run only these sections, comma-separated: "+strings.Join(sections, ", ")+
		"; adaptive = "+strings.Join(adaptiveSections, ","))
	rates := fs.String("rates", "auto,7x", "the --rate values of the limit cells: auto, a multiple of the limit (7x), or a number")
	limits := fs.String("limits", strings.Join(limitNames(), ","), "the limits of the limit cells")
	fs.StringVar(&c.autoRate, "auto-rate", "auto", "the --rate `value` sent wherever a cell says auto (per process for the shards), e.g. 35 to check the harness with a bulkcancel that has no --rate auto")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *only != "" {
		c.only = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == "adaptive":
				for _, a := range adaptiveSections {
					c.only[a] = true
				}
			case slices.Contains(sections, s):
				c.only[s] = true
			default:
				return c, fmt.Errorf("-only %q: want some of %s, or adaptive", s, strings.Join(sections, ", "))
			}
		}
	}
	if r, err := parseRateSetting(c.autoRate); err != nil || r.times > 0 {
		return c, fmt.Errorf("-auto-rate %q: want auto or a number", c.autoRate)
	}
	for _, s := range strings.Split(*rates, ",") {
		r, err := parseRateSetting(s)
		if err != nil {
			return c, fmt.Errorf("-rates %w", err)
		}
		c.rates = append(c.rates, r)
	}
	for _, s := range strings.Split(*limits, ",") {
		i := slices.IndexFunc(limitKinds, func(k limitKind) bool { return k.name == strings.TrimSpace(s) })
		if i < 0 {
			return c, fmt.Errorf("-limits %q: want some of %s", s, strings.Join(limitNames(), ", "))
		}
		c.limitKinds = append(c.limitKinds, limitKinds[i])
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch c.bigMode {
	case "send", "dry-run", "skip":
	default:
		return c, fmt.Errorf("-ten-million %q: want send, dry-run or skip", c.bigMode)
	}
	if c.quick {
		c.rows, c.wrkFor, c.curlIDs, c.rateFor = 20_000, 3*time.Second, 500, 10*time.Second
		c.latency, c.latRows, c.memRows, c.bigRows = 5*time.Millisecond, 10_000, 100_000, 1_000_000
		c.noLimitCalls, c.noLimitFor = 200_000, 15*time.Second
		if c.rounds == 0 {
			c.rounds = 1
		}
	} else {
		c.rows, c.wrkFor, c.curlIDs, c.rateFor = 200_000, 10*time.Second, 5_000, 30*time.Second
		c.latency, c.latRows, c.memRows, c.bigRows = 5*time.Millisecond, 50_000, 1_000_000, 10_000_000
		c.noLimitCalls, c.noLimitFor = 1_000_000, 60*time.Second
		if c.rounds == 0 {
			c.rounds = 3
		}
	}
	if c.rounds < 1 {
		return c, fmt.Errorf("-rounds %d: want at least 1", c.rounds)
	}
	c.concurrent = fmt.Sprint(c.conns)
	c.noLimitLatency = 5 * time.Millisecond
	return c, nil
}

// sections are the parts of the benchmark -only can pick.
var sections = append([]string{"throughput", "curl", "latency", "rate", "memory", "big"}, adaptiveSections...)

// adaptiveSections are those of the adaptive rate, -only adaptive.
var adaptiveSections = []string{"limit", "nolimit", "shards"}

func limitNames() []string {
	var names []string
	for _, k := range limitKinds {
		names = append(names, k.name)
	}
	return names
}

// runs reports whether section is to be run.
func (c config) runs(section string) bool { return len(c.only) == 0 || c.only[section] }

// bench is one benchmark run: its tools, children and findings.
type bench struct {
	cfg                       config
	root, out                 string
	goBin                     string
	bulkBin, fakeBin          string
	wrkBin, curlBin, xargsBin string
	binNote                   string
	procs                     *procs
	log                       io.Writer
	skipped                   []string
	failed                    []string // measurements that could not run; the others did
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		return 2
	}
	b := &bench{cfg: cfg, procs: newProcs(), log: stderr}
	defer b.procs.stopAll()
	res, err := b.all(ctx)
	if ctx.Err() != nil {
		b.procs.stopAll()
		fmt.Fprintln(stderr, "benchtable: interrupted; every process it started is stopped")
		return 130
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		if res == nil {
			return 1
		}
		b.skipped = append(b.skipped, "the run stopped early: "+err.Error())
	}
	b.printTable(stdout, res)
	if err != nil || len(b.failed) > 0 {
		return 1
	}
	return 0
}

// results are the measurements; nil fields were skipped.
type results struct {
	machine   machine
	loadStart string
	loadEnd   string
	started   time.Time
	took      time.Duration

	wrk, bulk       []runResult
	curl            *runResult
	latWrk, latBulk *runResult
	rate            *runResult
	mem, big        *runResult
	adaptive        *adaptiveResults // nil when no adaptive section ran
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "benchtable: "+format+"\n", args...)
}

// all sets up and runs every measurement. It returns what it measured
// so far along with the first error.
func (b *bench) all(ctx context.Context) (*results, error) {
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	res := &results{machine: readMachine(b.goBin), loadStart: loadAvg(), started: time.Now()}
	err := b.measure(ctx, res)
	res.loadEnd, res.took = loadAvg(), time.Since(res.started)
	return res, err
}

// measure runs every measurement in turn, each against a fresh fake.
func (b *bench) measure(ctx context.Context, res *results) error {
	c := b.cfg
	if len(c.only) > 0 {
		var left []string
		for _, s := range sections {
			if !c.only[s] {
				left = append(left, s)
			}
		}
		b.skipped = append(b.skipped, "not selected by -only: "+strings.Join(left, ", "))
	}
	rows := c.rows
	rate0 := []string{"--rate", "0", "--concurrency", c.concurrent}

	// Throughput: wrk and bulkcancel alternate, so a change in the
	// machine's background load hits both.
	for round := 1; round <= c.rounds && c.runs("throughput"); round++ {
		if b.wrkBin != "" {
			b.logf("throughput %d/%d: wrk -t2 -c%d for %s on %s IDs", round, c.rounds, c.conns, c.wrkFor, thousands(rows))
			r, err := b.withFake(ctx, rows, nil, func(f *fakeServer) (runResult, error) {
				return b.runWrk(ctx, f, b.idsPath(rows), c.conns, c.wrkFor, fmt.Sprintf("wrk-%d", round))
			})
			if err != nil {
				return err
			}
			res.wrk = append(res.wrk, r)
		}
		b.logf("throughput %d/%d: bulkcancel --rate 0 --concurrency %d on %s rows", round, c.rounds, c.conns, thousands(rows))
		r, err := b.bulkWithFake(ctx, fmt.Sprintf("throughput-%d", round), rows, nil, rate0)
		if err != nil {
			return err
		}
		res.bulk = append(res.bulk, r)
	}

	if b.curlBin != "" && c.runs("curl") {
		b.logf("xargs -P %d curl -X PUT on %s IDs", c.conns, thousands(c.curlIDs))
		r, err := b.withFake(ctx, rows, nil, func(f *fakeServer) (runResult, error) {
			return b.runCurl(ctx, f, b.idsPath(rows), c.curlIDs, c.conns)
		})
		if err != nil {
			return err
		}
		res.curl = ptr(r)
	}

	if c.latency > 0 && c.runs("latency") {
		lat := []string{"--latency", c.latency.String()}
		if b.wrkBin != "" {
			b.logf("with %s latency: wrk -t2 -c%d for %s", c.latency, c.conns, c.wrkFor/2)
			r, err := b.withFake(ctx, c.latRows, lat, func(f *fakeServer) (runResult, error) {
				return b.runWrk(ctx, f, b.idsPath(c.latRows), c.conns, c.wrkFor/2, "latency-wrk")
			})
			if err != nil {
				return err
			}
			res.latWrk = ptr(r)
		}
		b.logf("with %s latency: bulkcancel --rate 0 --concurrency %d on %s rows", c.latency, c.conns, thousands(c.latRows))
		r, err := b.bulkWithFake(ctx, "latency", c.latRows, lat, rate0)
		if err != nil {
			return err
		}
		res.latBulk = ptr(r)
	}

	if c.runs("rate") {
		if err := b.measureRate(ctx, res); err != nil {
			return err
		}
	}
	if slices.ContainsFunc(adaptiveSections, c.runs) {
		if err := b.measureAdaptive(ctx, res); err != nil {
			return err
		}
	}
	if c.runs("memory") {
		b.logf("memory and first request: bulkcancel --rate 0 on %s rows", thousands(c.memRows))
		r, err := b.bulkWithFake(ctx, "mem", c.memRows, nil, rate0)
		if err != nil {
			return err
		}
		res.mem = ptr(r)
	}
	if c.runs("big") {
		return b.measureBig(ctx, res)
	}
	return nil
}

// measureRate runs bulkcancel at --rate for rateFor.
func (b *bench) measureRate(ctx context.Context, res *results) error {
	c := b.cfg
	rateIDs := int(c.rate * c.rateFor.Seconds())
	b.logf("rate accuracy: bulkcancel --rate %g --concurrency %d on %s IDs (%s)", c.rate, c.conns, thousands(rateIDs), c.rateFor)
	r, err := b.bulkWithFake(ctx, "rate", rateIDs, nil, []string{"--rate", fmt.Sprint(c.rate), "--concurrency", c.concurrent})
	if err != nil {
		return err
	}
	res.rate = ptr(r)
	return nil
}

// measureBig runs bulkcancel on bigRows rows, or skips it.
func (b *bench) measureBig(ctx context.Context, res *results) error {
	c := b.cfg
	rate0 := []string{"--rate", "0", "--concurrency", c.concurrent}
	if c.bigMode != "skip" {
		args := rate0
		if c.bigMode == "dry-run" {
			args = append([]string{"--dry-run"}, rate0...)
		}
		b.logf("memory: bulkcancel %s on %s rows (%s; this takes a while)", strings.Join(args, " "), thousands(c.bigRows), c.bigMode)
		r, err := b.bulkWithFake(ctx, "big", c.bigRows, nil, args)
		if err != nil {
			return err
		}
		res.big = ptr(r)
	} else {
		b.skipped = append(b.skipped, fmt.Sprintf("the %s-row run (-ten-million skip)", thousands(c.bigRows)))
	}
	return nil
}

// withFake runs measure against a fresh fake with n calls and stops the
// fake after.
func (b *bench) withFake(ctx context.Context, n int, extra []string, measure func(*fakeServer) (runResult, error)) (runResult, error) {
	f, err := b.freshFake(ctx, n, extra...)
	if err != nil {
		return runResult{}, err
	}
	defer f.stop()
	return measure(f)
}

// bulkWithFake runs bulkcancel with args, as measurement name, on the
// input of n calls against a fresh fake with n calls and the extra fake
// flags.
func (b *bench) bulkWithFake(ctx context.Context, name string, n int, extra, args []string) (runResult, error) {
	return b.withFake(ctx, n, extra, func(f *fakeServer) (runResult, error) {
		return b.runBulk(ctx, f, bulkOpts{name: name, input: b.idsPath(n), rows: n, args: args})
	})
}

func ptr[T any](v T) *T { return &v }
