// Command fakesubverse serves a local stand-in for the SubVerse call API
// (PUT /call/cancel/{callId}, POST /call/trigger, inspection under /_fake/),
// with injectable faults. Its first stdout line is the API base URL, e.g.
// http://127.0.0.1:40123/api; it serves until SIGINT or SIGTERM.
//
// The key comes from --api-key-file, else env SUBVERSE_API_KEY, else
// "fake-key".
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
	"strings"
	"syscall"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
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
	callsFile   string
	seed        uint64
	idsOut      string
	envelope200 bool
	apiKeyFile  string
	faults      fake.Faults
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
	log := slog.New(slog.NewTextHandler(stderr, nil))

	key, source, err := apiKey(cfg.apiKeyFile)
	if err != nil {
		fmt.Fprintf(stderr, "fakesubverse: %v\n", err)
		return 2
	}
	srv := fake.New(fake.Options{APIKey: key, Envelope200: cfg.envelope200, Faults: cfg.faults, Seed: cfg.seed})
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
	for _, id := range srv.Seed(cfg.calls) {
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
		"envelope_200", cfg.envelope200)

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
	log.Info("stopped", "requests", st.Requests, "cancels", st.Cancels, "max_in_flight", st.MaxInFlight)
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
			"The key is read from --api-key-file, else env SUBVERSE_API_KEY, else %q.\n\nFlags:\n", fake.DefaultAPIKey)
		fs.PrintDefaults()
	}
	f := &cfg.faults
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "listen `address`")
	fs.IntVar(&cfg.calls, "calls", 0, "seed `N` generated calls (60% call_in_queue)")
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
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.calls < 0 {
		return cfg, fmt.Errorf("--calls %d is negative", cfg.calls)
	}
	if err := cfg.faults.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
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
