// Command fakesubverse serves a local stand-in for the SubVerse call API
// (PUT /call/cancel/{callId}, POST /call/trigger, inspection under /_fake/),
// with injectable faults and, with --limit, a rate limit of its own. Its
// first stdout line is the API base URL, e.g. http://127.0.0.1:40123/api; it
// serves until SIGINT or SIGTERM. It wraps package fake in a process for
// make demo and cmd/benchtable; tests serve package fake in-process.
//
// The key comes from --api-key-file, else env SUBVERSE_API_KEY, else
// "fake-key".
//
// The limit applies to the cancel route and is checked before anything else
// there; a refused request gets a 429 envelope and changes nothing:
//
//	fakesubverse --calls 3000 --calls-status call_in_queue --limit 150 --limit-burst 15
//	fakesubverse --limit 150 --limit-window 2s             # 300 requests per 2 s window
//	fakesubverse --limit 150 --limit-retry-after=false     # 429s without Retry-After
//	fakesubverse --limit 150 --limit-headers draft         # RateLimit and RateLimit-Policy
//	fakesubverse --limit 150 --latency 100ms --limit-latency # 429s after the latency too
//
// --limit-headers split sends RateLimit-Limit/-Remaining/-Reset and x sends
// X-RateLimit-Limit/-Remaining/-Reset (the reset as Unix seconds). A token
// bucket is described as RPS requests per second, with the tokens left as
// the remaining requests; a fixed window as RPS*window per window. The
// package documentation of fake.Limit has the details. GET /_fake/stats
// counts cancel requests, 429s and the first and last cancel arrival;
// GET /_fake/timeline has the requests per 10 ms.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/internal/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is everything the flags set.
type config struct {
	addr        string
	calls       int
	callsStatus string
	callsFile   string
	seed        uint64
	idsOut      string
	envelope200 bool
	apiKeyFile  string
	faults      fake.Faults
	limit       fake.Limit
	version     bool
}

// shutdownGrace bounds the wait for requests in flight at shutdown.
const shutdownGrace = 5 * time.Second

// run is the whole program: 0 after a clean shutdown, 2 for a usage or
// input error, 1 when serving fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "fakesubverse: %v\n", err)
		return 2
	}
	if cfg.version {
		bi, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(bi, ok))
		return 0
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	key, source, err := apiKey(cfg.apiKeyFile)
	if err != nil {
		fmt.Fprintf(stderr, "fakesubverse: %v\n", err)
		return 2
	}
	srv := fake.New(fake.Options{APIKey: key, Envelope200: cfg.envelope200, Faults: cfg.faults, Seed: cfg.seed,
		Limit: cfg.limit})
	var listed []fake.Call
	if cfg.callsFile != "" {
		listed, err = readCallsFile(cfg.callsFile)
		if err != nil {
			fmt.Fprintf(stderr, "fakesubverse: %v\n", err)
			return 2
		}
		for _, c := range listed {
			srv.Add(c.ID, c.Status)
		}
	}
	seeded := srv.Seed
	if cfg.callsStatus != "" {
		seeded = func(n int) []string { return srv.SeedStatus(n, fake.Status(cfg.callsStatus)) }
	}
	for _, id := range seeded(cfg.calls) {
		c, _ := srv.Call(id)
		listed = append(listed, c)
	}
	if cfg.idsOut != "" {
		if err := writeIDs(cfg.idsOut, listed); err != nil {
			fmt.Fprintf(stderr, "fakesubverse: %v\n", err)
			return 1
		}
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "fakesubverse: %v\n", err)
		return 1
	}
	base := "http://" + ln.Addr().String() + "/api"
	fmt.Fprintln(stdout, base)
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
	log.Info("serving", "base_url", base, "calls", len(listed), "api_key_source", source,
		"envelope_200", cfg.envelope200, "limit", cfg.limit.String())

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.NewTextHandler(stderr, nil), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "fakesubverse: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	<-served
	st := srv.Stats()
	log.Info("stopped", "requests", st.Requests, "cancels", st.Cancels, "max_in_flight", st.MaxInFlight,
		"cancel_requests", st.CancelRequests, "too_many_requests", st.TooManyRequests, "limited", st.Limited,
		"goodput", fmt.Sprintf("%.2f", st.Goodput()))
	return 0
}

// parseFlags parses args; usage and errors go to stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("fakesubverse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fakesubverse [flags]\n\n"+
			"Serves a fake SubVerse API; the first stdout line is its base URL.\n"+
			"The key is read from --api-key-file, else env SUBVERSE_API_KEY, else %q.\n\n"+
			"--limit plays the API's own rate limit on the cancel route, checked before\n"+
			"anything else: a token bucket (--limit-burst), or a fixed window\n"+
			"(--limit-window) letting RPS*window requests through per window. A refused\n"+
			"request gets a 429 envelope, Retry-After unless --limit-retry-after=false,\n"+
			"at once unless --limit-latency (then after --latency, as across a\n"+
			"network), and changes nothing. --limit-headers puts rate-limit headers on\n"+
			"every answer of the cancel route:\n"+
			"  draft  RateLimit: \"default\";r=REMAINING;t=RESET and RateLimit-Policy: \"default\";q=QUOTA;w=WINDOW\n"+
			"  split  RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (seconds from now)\n"+
			"  x      X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (Unix seconds)\n"+
			"A token bucket shows as QUOTA = RPS per 1 s (1 per 1/RPS s, rounded up, below\n"+
			"1/s) with the tokens left as REMAINING.\n"+
			"GET /_fake/stats counts cancel requests, 429s and the first and last cancel\n"+
			"arrival; GET /_fake/timeline has the requests per 10 ms.\n\nFlags:\n", fake.DefaultAPIKey)
		fs.PrintDefaults()
	}
	f := &cfg.faults
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "listen `address`")
	fs.IntVar(&cfg.calls, "calls", 0, "seed `N` generated calls (60% call_in_queue)")
	fs.StringVar(&cfg.callsStatus, "calls-status", "", "give every --calls call this `status` (e.g. call_in_queue) instead of the mix")
	fs.StringVar(&cfg.callsFile, "calls-file", "", "load calls from a CSV `path` with header call_id,status")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed for generated call IDs and statuses")
	fs.StringVar(&cfg.idsOut, "ids-out", "", "write every loaded and seeded call as call_id,status CSV to `path`")
	fs.BoolVar(&cfg.envelope200, "envelope-200", false, "send every envelope with HTTP 200, the real code only in responseCode")
	fs.StringVar(&cfg.apiKeyFile, "api-key-file", "", "file holding the accepted API key")
	fs.Float64Var(&f.P500, "p500", 0, "probability of HTTP 500 with an envelope")
	fs.Float64Var(&f.P503, "p503", 0, "probability of HTTP 503 with Retry-After")
	fs.Float64Var(&f.P429, "p429", 0, "probability of HTTP 429 with Retry-After")
	fs.Float64Var(&f.PBadGateway, "p502", 0, "probability of HTTP 502 with an HTML body")
	fs.Float64Var(&f.PDropBefore, "p-drop-before", 0, "probability of closing the connection before the cancel takes effect")
	fs.Float64Var(&f.PDropAfter, "p-drop-after", 0, "probability of closing the connection after the cancel takes effect")
	fs.Float64Var(&f.PMalformed, "p-malformed", 0, "probability of an HTTP 200 with invalid JSON (cancel not applied)")
	fs.Float64Var(&f.PTruncated, "p-truncated", 0, "probability of a body cut short of its Content-Length (cancel applied)")
	fs.DurationVar(&f.RetryAfter, "retry-after", time.Second, "Retry-After on 429/503, in whole seconds (0 sends none)")
	fs.DurationVar(&f.Latency, "latency", 0, "delay before answering every request")
	fs.DurationVar(&f.LatencyJitter, "latency-jitter", 0, "uniform extra delay up to this")
	fs.IntVar(&f.FirstN, "fault-first-n", 0, "if > 0, inject faults only into the first N requests of each call ID")
	fs.Uint64Var(&f.Seed, "fault-seed", 1, "seed for fault decisions and jitter")
	l := &cfg.limit
	fs.Float64Var(&l.RPS, "limit", 0, "let at most `RPS` cancel requests per second through, 429 beyond (0: no limit)")
	fs.IntVar(&l.Burst, "limit-burst", 0, "token bucket size `N` (default max(1, RPS/10))")
	fs.DurationVar(&l.Window, "limit-window", 0, "a fixed window of this `duration` letting RPS*duration requests through, instead of the token bucket")
	retryAfter := fs.Bool("limit-retry-after", true, "send Retry-After on the limit's 429s: seconds until a token, or until the window resets")
	headers := fs.String("limit-headers", string(fake.HeadersNone), "rate-limit headers on every cancel answer: `style` none, draft, split or x")
	fs.BoolVar(&l.Delayed, "limit-latency", false, "answer the limit's 429s after --latency too, as an API across a network does (default: at once)")
	fs.BoolVar(&cfg.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.version {
		return cfg, nil
	}
	l.NoRetryAfter, l.Headers = !*retryAfter, fake.HeaderStyle(*headers)
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.calls < 0 {
		return cfg, fmt.Errorf("--calls %d is negative", cfg.calls)
	}
	if cfg.callsStatus != "" && !slices.Contains(fake.Statuses(), fake.Status(cfg.callsStatus)) {
		return cfg, fmt.Errorf("--calls-status %q: want one of %v", cfg.callsStatus, fake.Statuses())
	}
	if err := cfg.faults.Validate(); err != nil {
		return cfg, err
	}
	if err := cfg.limit.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// versionLine is what --version prints: the module version, or (devel)
// with the VCS revision the binary was built from, "+modified" when the
// tree had changes.
func versionLine(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "fakesubverse (no build information)"
	}
	v, commit := buildinfo.Read(bi, ok)
	line := "fakesubverse " + v
	if v == "(devel)" && commit != "" {
		line += " " + commit
	}
	if bi.GoVersion != "" {
		line += " " + bi.GoVersion
	}
	return line
}

// apiKey returns the key and a description of where it came from.
func apiKey(file string) (key, source string, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", "", fmt.Errorf("api key file: %w", err)
		}
		key = strings.TrimSpace(string(b))
		if key == "" {
			return "", "", fmt.Errorf("api key file %s is empty", file)
		}
		return key, "file " + file, nil
	}
	if key = os.Getenv("SUBVERSE_API_KEY"); key != "" {
		return key, "env SUBVERSE_API_KEY", nil
	}
	return fake.DefaultAPIKey, "built-in default", nil
}

func readCallsFile(path string) ([]fake.Call, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	calls, err := fake.ReadCalls(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return calls, nil
}

// writeIDs writes calls as a call_id,status CSV.
func writeIDs(path string, calls []fake.Call) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"call_id", "status"})
	for _, c := range calls {
		_ = w.Write([]string{c.ID, string(c.Status)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		_ = f.Close()
		return fmt.Errorf("ids-out: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("ids-out: %w", err)
	}
	return nil
}
