package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subverseai/bulkcancel/batch"
)

const defaultBaseURL = "https://api.subverseai.com/api"

// options are the parsed command line.
type options struct {
	input string

	baseURL    string
	apiKeyFile string
	column     string
	delimiter  string
	delim      rune // --delimiter parsed; 0 picks one from the first line
	noHeader   bool

	concurrency    int
	rate           rateFlag
	maxRate        float64
	burst          int
	maxAttempts    int
	timeout        time.Duration
	maxBackoff     time.Duration
	maxFailureRate float64
	minSample      int
	expectNotFound bool

	report string
	resume string
	dryRun bool
	yes    bool
	shard  string
	shards batch.Shard // --shard parsed; the zero value takes every row

	logFormat string
	logLevel  string
	progress  string
	quiet     bool

	version bool
	help    bool

	set   map[string]bool // flags given on the command line
	flags *flag.FlagSet   // the parsed flags, for the command that finishes the job
}

// helpDefaults are defaults --help shows for flags whose zero value
// means something worked out at run time.
var helpDefaults = map[string]string{
	"report": "bulkcancel-<UTC yyyymmddThhmmssZ>",
}

// flagGroups orders --help; every flag belongs to one group.
var flagGroups = []struct {
	title string
	names []string
}{
	{"Input", []string{"column", "delimiter", "no-header", "shard", "resume"}},
	{"API", []string{"base-url", "api-key-file"}},
	{"Pace and retries", []string{"concurrency", "rate", "max-rate", "burst", "max-attempts", "timeout", "max-backoff"}},
	{"Safety", []string{"dry-run", "yes", "max-failure-rate", "min-sample", "expect-not-found"}},
	{"Output", []string{"report", "quiet", "log-format", "log-level", "progress"}},
	{"Other", []string{"version", "help"}},
}

func newFlagSet(o *options, getenv func(string) string) *flag.FlagSet {
	fs := flag.NewFlagSet("bulkcancel", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	d := batch.DefaultConfig()
	base := getenv("SUBVERSE_BASE_URL")
	if base == "" {
		base = defaultBaseURL
	}
	fs.StringVar(&o.baseURL, "base-url", base, "API root (env SUBVERSE_BASE_URL); https, or http to a loopback host only")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "file holding the API key; otherwise env SUBVERSE_API_KEY")
	fs.StringVar(&o.column, "column", "auto", "ID column header; auto takes the first of call_id, callId, call id, id")
	fs.StringVar(&o.delimiter, "delimiter", "auto", "field separator: , ; tab | or another punctuation character; auto: , unless line 1 has a ; or tab but no comma")
	fs.BoolVar(&o.noHeader, "no-header", false, "the file has no header row; IDs are in the first column")
	fs.IntVar(&o.concurrency, "concurrency", d.Concurrency, "most requests in flight at once")
	o.rate = rateFlag{auto: d.AutoRate, n: d.Rate}
	fs.Var(&o.rate, "rate", fmt.Sprintf("requests per second, retries included: auto finds the API's limit (starts at %d/s, rises while answers are good, backs off on pushback); a number N is a ceiling that still backs off; 0 is no ceiling", batch.AutoStartRate))
	fs.Float64Var(&o.maxRate, "max-rate", d.MaxRate, "with --rate auto, the highest rate it may reach; 0 means none")
	fs.IntVar(&o.burst, "burst", d.Burst, "token-bucket burst")
	fs.IntVar(&o.maxAttempts, "max-attempts", d.MaxAttempts, "attempts per ID, the first included")
	fs.DurationVar(&o.timeout, "timeout", d.Timeout, "one attempt's deadline")
	fs.DurationVar(&o.maxBackoff, "max-backoff", d.MaxBackoff, "longest wait between attempts; a longer Retry-After is cut to this")
	fs.Float64Var(&o.maxFailureRate, "max-failure-rate", d.MaxFailureRate, "abort when more than this fraction of IDs sent ended not final...")
	fs.IntVar(&o.minSample, "min-sample", d.MinSample, "...once at least this many IDs sent have a result")
	fs.BoolVar(&o.expectNotFound, "expect-not-found", false, "do not stop when the first min-sample answers are all not_found (the wrong-workspace guard)")
	fs.StringVar(&o.report, "report", "", "report prefix: writes PREFIX.csv and PREFIX.json, never over existing files")
	fs.StringVar(&o.resume, "resume", "", "an earlier report CSV: IDs final there are carried over, not sent again")
	fs.BoolVar(&o.dryRun, "dry-run", false, "validate and plan; send nothing")
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation on a terminal")
	fs.StringVar(&o.shard, "shard", "", "K/N: take only the IDs whose stable hash falls in shard K (0-based) of N")
	fs.StringVar(&o.logFormat, "log-format", "auto", "json, console, or auto (console on a terminal, else json)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.progress, "progress", "auto", "on, off, or auto: a bar on a terminal, else an info log line every 10s (on: even at --log-level warn)")
	fs.BoolVar(&o.quiet, "quiet", false, "only errors and the summary: as --log-level error --progress off, unless those are given")
	fs.BoolVar(&o.version, "version", false, "print version and exit")
	fs.BoolVar(&o.help, "help", false, "print this help and exit")
	return fs
}

// rateFlag is --rate: "auto", or a number of requests a second.
type rateFlag struct {
	auto bool
	n    float64
}

func (r *rateFlag) String() string {
	if r == nil || r.auto {
		return "auto"
	}
	return strconv.FormatFloat(r.n, 'g', -1, 64)
}

func (r *rateFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "auto") {
		*r = rateFlag{auto: true}
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return errors.New("want auto, or a number of requests a second (0: no ceiling)")
	}
	*r = rateFlag{n: n}
	return nil
}

// json is the rate for the JSON report: the string "auto" or a number.
func (r rateFlag) json() any {
	if r.auto {
		return "auto"
	}
	return r.n
}

// usageError is a command-line mistake: exit 2 with the message and a
// pointer to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// parseArgs reads flags and the one INPUT argument; flags may come before
// or after INPUT, and "--" ends the flags. "help" as the first argument
// before "--" asks for the help (a file named help is ./help).
func parseArgs(args []string, getenv func(string) string) (*options, error) {
	o := &options{set: map[string]bool{}}
	fs := newFlagSet(o, getenv)
	o.flags = fs
	var rest, pos []string
	for i, a := range args {
		if a == "--" {
			rest, args = args[i+1:], args[:i]
			break
		}
	}
	if err := keyFlag(fs, args); err != nil {
		return nil, err
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				o.help = true
				return o, nil
			}
			msg := err.Error()
			if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
				msg = "unknown flag " + name
				if near := batch.Closest(strings.TrimLeft(name, "-"), flagNames(fs)); near != "" {
					msg += " (did you mean --" + near + "?)"
				}
			}
			return nil, usagef("%s", msg)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) > 0 && pos[0] == "help" {
		o.help = true
		return o, nil
	}
	pos = append(pos, rest...)
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if o.help || o.version {
		return o, nil
	}
	switch len(pos) {
	case 0:
		return nil, usagef("missing INPUT: give a CSV path, or - for standard input")
	case 1:
		o.input = pos[0]
	default:
		return nil, usagef("expected one INPUT, got %d: %s", len(pos), strings.Join(pos, " "))
	}
	return o, o.check()
}

// keyFlags are flags one may reach for to give the API key itself. None
// exists, on purpose: argv is visible to every user of the host and is
// kept in shell history.
var keyFlags = []string{"api-key", "apikey", "key", "x-api-key", "subverse-api-key", "api-token",
	"token", "access-token", "auth-token", "secret", "api-secret"}

// keyFlag returns the usage error for a flag in args (before "--") that
// looks like it gives the key: one of keyFlags or one or two edits from
// one, or one of them with the key run on ("--api-keyVALUE"), unless it
// is nearer a real flag. The message names the flag, never its value.
func keyFlag(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "" || fs.Lookup(name) != nil {
			continue
		}
		n := strings.ReplaceAll(strings.ToLower(name), "_", "-")
		if batch.Closest(n, flagNames(fs)) != "" {
			continue // a misspelt flag: the unknown-flag error suggests it
		}
		if batch.Closest(n, keyFlags) == "" {
			// The key may run on from the flag's name: name only the flag.
			name = ""
			for _, k := range keyFlags {
				if strings.HasPrefix(n, k) && len(k) > len(name) {
					name = k
				}
			}
			if name == "" {
				continue
			}
		}
		return usagef("there is no --%s flag: a key on the command line is visible to every user of this host; "+
			"set SUBVERSE_API_KEY, or pass --api-key-file FILE. The key you typed may now be in your shell history: "+
			"delete that entry, and rotate the key if others can read the history", name)
	}
	return nil
}

// flagNames lists the names of the flags in fs.
func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// check validates values that the flag package cannot.
func (o *options) check() error {
	oneOf := func(name, v string, allowed ...string) error {
		if slices.Contains(allowed, v) {
			return nil
		}
		return usagef("--%s %q: want one of %s", name, v, strings.Join(allowed, ", "))
	}
	if o.quiet {
		if !o.set["log-level"] {
			o.logLevel = "error"
		}
		if !o.set["progress"] {
			o.progress = "off"
		}
	}
	if err := oneOf("log-format", o.logFormat, "auto", "json", "console"); err != nil {
		return err
	}
	if err := oneOf("log-level", o.logLevel, "debug", "info", "warn", "error"); err != nil {
		return err
	}
	if err := oneOf("progress", o.progress, "auto", "on", "off"); err != nil {
		return err
	}
	if strings.EqualFold(strings.TrimSpace(o.column), "auto") {
		o.column = "auto"
	}
	if err := o.batchConfig().Validate(); err != nil {
		return usagef("%s", err)
	}
	d, err := batch.ParseDelimiter(o.delimiter)
	if err != nil {
		return usagef("--%s", err)
	}
	o.delim = d
	if o.shard != "" {
		s, err := batch.ParseShard(o.shard)
		if err != nil {
			return usagef("--%s", err)
		}
		o.shards = s
	}
	if o.rate.n > 0 && o.rate.n < 0.001 {
		return usagef("--rate %g is below one request in 1000 seconds; did you mean 0 (no ceiling) or auto?", o.rate.n)
	}
	if o.maxRate > 0 && o.maxRate < 0.001 {
		return usagef("--max-rate %g is below one request in 1000 seconds; did you mean 0 (none)?", o.maxRate)
	}
	return nil
}

func (o *options) batchConfig() batch.Config {
	c := batch.DefaultConfig()
	c.Concurrency, c.AutoRate, c.Rate, c.MaxRate, c.Burst = o.concurrency, o.rate.auto, o.rate.n, o.maxRate, o.burst
	c.Sharers = o.shards.N
	c.MaxAttempts, c.Timeout, c.MaxBackoff = o.maxAttempts, o.timeout, o.maxBackoff
	c.MaxFailureRate, c.MinSample, c.ExpectNotFound = o.maxFailureRate, o.minSample, o.expectNotFound
	c.BaseBackoff = min(c.BaseBackoff, c.MaxBackoff)
	return c
}

// configJSON is every setting for the JSON report, keyed by flag name in
// snake_case, with the delimiter the input was read with (found from its
// first line under auto). It never holds the key, only where it came from.
func (o *options) configJSON(keySource, prefix string, delim rune) map[string]any {
	return map[string]any{
		"base_url": o.baseURL, "api_key_file": o.apiKeyFile, "api_key_source": keySource,
		"column": o.column, "delimiter": batch.DelimiterName(delim), "no_header": o.noHeader,
		"concurrency": o.concurrency, "rate": o.rate.json(), "max_rate": o.maxRate, "burst": o.burst, "max_attempts": o.maxAttempts,
		"timeout": o.timeout.String(), "max_backoff": o.maxBackoff.String(),
		"report": prefix, "resume": o.resume, "dry_run": o.dryRun, "yes": o.yes,
		"max_failure_rate": o.maxFailureRate, "min_sample": o.minSample, "expect_not_found": o.expectNotFound, "shard": o.shard,
		"log_format": o.logFormat, "log_level": o.logLevel, "progress": o.progress, "quiet": o.quiet,
	}
}

const helpHead = `bulkcancel cancels queued outbound calls in bulk through the SubVerse API.

Usage:
  bulkcancel [flags] INPUT      INPUT is a CSV of call IDs, or - for standard input

The key comes from env SUBVERSE_API_KEY or --api-key-file; there is no flag that takes it.
Every row of INPUT gets one row in PREFIX.csv (written as rows finish) and PREFIX.json.
`

// outcomeHelp is one line per outcome for --help, in batch.Outcomes order.
var outcomeHelp = map[batch.Outcome]string{
	batch.Canceled:           "final: the API canceled the call",
	batch.NotCancelable:      "final: no longer in queue (placed, in progress, done); ambiguous=true if we may have canceled it",
	batch.NotFound:           "final: no such call for this key",
	batch.InvalidID:          "final: not a call ID (not sent), or the API says the id is missing",
	batch.Duplicate:          "final: the same ID on an earlier row (not sent)",
	batch.Unauthorized:       "not final: the key was rejected; the run stops at once",
	batch.RateLimited:        "not final: 429 still after the last attempt",
	batch.ServerError:        "not final: 5xx still after the last attempt",
	batch.TransportError:     "not final: connection, TLS or timeout failure still after the last attempt",
	batch.UnexpectedResponse: "not final: any other answer (unknown message, unparseable body, a redirect)",
	batch.NotAttempted:       "not final: the run stopped before this ID was sent",
	batch.DryRun:             "not final: --dry-run, would be sent",
}

const helpTail = `
Examples:
  # Check first: read and validate everything, print the plan, send nothing
  SUBVERSE_API_KEY=... bulkcancel --dry-run calls.csv

  # Abort a campaign: cancel every queued call in calls.csv, as fast as the API allows
  SUBVERSE_API_KEY=... bulkcancel --report abort-0412 calls.csv

  # From cron: no terminal, so JSON logs and no question; flock keeps runs from overlapping
  */15 * * * * cd /var/lib/bulkcancel && flock -n /run/lock/bulkcancel.lock bulkcancel --api-key-file /etc/bulkcancel/key cancel.csv >>bulkcancel.log 2>&1

  # Finish a run that stopped, as its summary prints it: same input, send only what is not final
  bulkcancel --base-url https://api.subverseai.com/api --resume abort-0412.csv --report abort-0412-2 calls.csv

Exit status: 0 all rows final; 1 some rows not final (rerun with --resume); 2 usage or input
error, nothing sent; 3 aborted (key rejected, failure rate, none of the first IDs found for
this key, nothing reaches the API, report not writable); 129/130/143 interrupted by SIGHUP/SIGINT/SIGTERM.
`

func writeHelp(w io.Writer, getenv func(string) string) {
	var o options
	fs := newFlagSet(&o, getenv)
	io.WriteString(w, helpHead)
	for _, g := range flagGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.names {
			f := fs.Lookup(name)
			kind, usage := flag.UnquoteUsage(f)
			left := "  --" + name
			if kind != "" {
				left += " " + kind
			}
			def := ""
			switch {
			case name == "version" || name == "help":
			case helpDefaults[name] != "":
				def = fmt.Sprintf(" (default %s)", helpDefaults[name])
			case f.DefValue == "" || f.DefValue == "false":
				if kind != "" {
					def = " (default: none)"
				}
			default:
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "%-28s %s%s\n", left, usage, def)
		}
	}
	io.WriteString(w, "\nOutcomes (the report's outcome column; final rows are never sent again):\n")
	for _, oc := range batch.Outcomes {
		fmt.Fprintf(w, "  %-20s %s\n", oc, outcomeHelp[oc])
	}
	io.WriteString(w, helpTail)
}
