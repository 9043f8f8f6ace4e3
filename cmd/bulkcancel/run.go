package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/report"
)

// Exit codes; see README "Exit status".
const (
	exitOK          = 0
	exitNotFinal    = 1
	exitUsage       = 2
	exitAborted     = 3
	exitInterrupted = 128 // plus the signal number: 129 for SIGHUP, 130 for SIGINT, 143 for SIGTERM
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "" // empty: taken from the build info (see version.go)
	commit  = ""
)

// run is the whole command: it parses args, checks everything before the
// first request, runs the job and writes the reports, and returns the
// exit code.
func run(args []string, e *env) int {
	started := e.now()
	o, err := parseArgs(args, e.getenv)
	if err != nil {
		log := newLogger(e, guessLogFormat(args), "info", newRunID())
		log.Error().Msg(err.Error() + "; see bulkcancel --help")
		return exitUsage
	}
	if o.help {
		writeHelp(e.stdout, e.getenv)
		return exitOK
	}
	if o.version {
		fmt.Fprintln(e.stdout, versionLine())
		return exitOK
	}
	runID := newRunID()
	// Log lines go through a writer that the progress bar takes over while
	// it is drawn, so they print above the bar instead of inside it.
	e = e.withLogOutput()
	log := newLogger(e, o.logFormat, o.logLevel, runID)
	j := &job{o: o, e: e, log: log, runID: runID, started: started}
	code, err := j.run()
	if err != nil {
		log.Error().Msg(err.Error())
	}
	return code
}

// job is one run of the command, from checked input to written reports.
type job struct {
	o       *options
	e       *env
	log     zerolog.Logger
	runID   string
	started time.Time

	live           *batch.Live // the engine's counters and pace while it runs; nil before
	asked          bool        // the confirmation question was asked
	key, keySource string
	client         *batch.Client
	in             *batch.Input
	resume         *report.Resume
	prefix         string
	csv            *report.CSV
	journal        *report.Journal // nil on a dry run
	plan           *batch.Plan

	sentNotFound int // rows sent in this run that ended not_found
}

// run returns the exit code and, for exit 2 or a failure, the error to log.
func (j *job) run() (int, error) {
	if err := j.prepare(); err != nil {
		return exitUsage, err
	}
	j.plan = batch.NewPlan(j.in, batch.PlanOptions{Shard: j.o.shards, Prior: j.prior()})
	defer j.lockInput()()
	if !j.confirm() {
		return exitUsage, errors.New("not confirmed: nothing was sent")
	}
	if j.asked {
		j.started = j.e.now() // the run's time and rate do not count the wait for an answer
	}

	stopCtx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	abandon := make(chan struct{})
	sig := j.watchSignals(stop, abandon)
	defer sig.done()

	csv, err := report.CreateCSV(j.prefix + ".csv")
	if err != nil {
		return j.unwritable(err)
	}
	j.csv = csv
	j.logStart()

	runErr := j.startJournal()
	for r, carried := range j.plan.Settled() {
		if runErr != nil {
			break
		}
		j.logResult(r, carried)
		if carried {
			runErr = csv.Carry(r)
		} else {
			runErr = csv.Write(r)
		}
	}
	if runErr == nil && j.journal != nil {
		runErr = j.journal.Publish()
	}
	if runErr == nil {
		// The report gets its name only now, with every row settled before
		// the first request in it (see report.CreateCSV), and its journal
		// beside it.
		runErr = csv.Publish()
	}
	if runErr != nil {
		csv.Close() // removes the unpublished file
		if j.journal != nil {
			j.journal.Remove()
		}
		return j.unwritable(runErr)
	}
	switch {
	case j.o.dryRun:
		runErr = j.dryRun()
	default:
		cfg := j.o.batchConfig()
		cfg.Log = j.log
		cfg.Abandon = abandon
		j.live = new(batch.Live)
		cfg.Live = j.live
		cfg.Rows = j.plan.Counts.Send
		if j.o.shards.N > 1 {
			// The shards of this input find one another's notes of their
			// pace beside the reports.
			board := batch.NewFileBoard(filepath.Dir(j.prefix), "bulkcancel-"+j.inputTag(), j.o.shards)
			cfg.Board = board
			defer board.Remove()
		}
		// On a terminal the bar counts retries; a line each would bury it.
		cfg.QuietRetries = j.progressMode() == progressBar
		cfg.BeforeSend = func(job batch.Job) error {
			if job.MaybeSent {
				return nil // in the journal already, inherited
			}
			return j.journal.Dispatched(job.ID)
		}
		prog := j.startProgress(csv)
		runErr = batch.Run(stopCtx, cfg, j.client, j.plan.Jobs(), func(r batch.Result) error {
			j.logResult(r, false)
			if r.Outcome == batch.NotFound && r.Attempts > 0 {
				j.sentNotFound++
			}
			return csv.Write(r)
		})
		prog.stop()
	}
	closeErr := csv.Close()
	return j.finish(runErr, closeErr, sig.received())
}

// lockInput warns when another bulkcancel process on this host works on
// the same input (the same checksum) with its reports in the same
// directory: the two would send the same IDs, and each would report as
// not_cancelable the calls the other canceled. The lock is a hidden file
// in the report directory, held with flock(2) until the run ends; a
// process on another host cannot be seen. It returns the release.
func (j *job) lockInput() func() {
	if j.o.dryRun {
		return func() {}
	}
	sum := j.inputTag()
	if j.o.shard != "" { // shards of one input send different IDs
		sum += "-" + strings.ReplaceAll(j.o.shard, "/", "of")
	}
	path := filepath.Join(filepath.Dir(j.prefix), ".bulkcancel-"+sum+".lock")
	busy, release, err := lockInput(path)
	switch {
	case err != nil:
		j.log.Debug().Err(err).Str("lock", path).Msg("cannot take the input lock; a second run over the same input would not be noticed")
	case busy:
		j.log.Warn().Str("input", j.o.input).Str("lock", path).
			Msg("another bulkcancel process on this host is working on the same input: both send the same IDs, and each reports as not_cancelable the calls the other canceled; stop one of them unless this is intended")
	}
	return release
}

// inputTag names the input in the hidden files beside the reports: the
// start of its checksum.
func (j *job) inputTag() string {
	sum := j.in.SHA256
	if len(sum) > 16 {
		sum = sum[:16]
	}
	return sum
}

// startJournal creates the dispatch journal beside the report (not on a
// dry run) and records in it the IDs that an earlier run may have sent,
// so a run that resumes this one after a crash still knows them.
func (j *job) startJournal() error {
	if j.o.dryRun {
		return nil
	}
	var inherited []string
	room := 0 // every ID to send goes in once: inherited, or before its first request
	for job := range j.plan.Jobs() {
		room += len(job.ID) + 1
		if job.MaybeSent {
			inherited = append(inherited, job.ID)
		}
	}
	jr, err := report.CreateJournal(report.JournalPath(j.prefix+".csv"), room)
	if err != nil {
		return err
	}
	j.journal = jr
	return jr.Inherit(inherited)
}

// prepare checks everything that can be checked before a request: key,
// URL, input, resume report and report paths. Any failure is exit 2 and
// nothing is sent or created.
func (j *job) prepare() error {
	var err error
	if j.key, j.keySource, err = loadKey(j.o, j.e.getenv, j.log); err != nil {
		return err
	}
	base, err := batch.ParseBaseURL(j.o.baseURL)
	if err != nil {
		if !j.o.set["base-url"] && j.e.getenv("SUBVERSE_BASE_URL") != "" {
			return fmt.Errorf("SUBVERSE_BASE_URL: %w", err)
		}
		return fmt.Errorf("--base-url: %w", err)
	}
	j.client = batch.NewClient(batch.NewHTTPClient(j.o.concurrency), base, j.key)
	if j.in, err = j.readInput(); err != nil {
		return err
	}
	if j.o.delim == 0 && j.in.Delimiter != ',' {
		j.log.Info().Str("delimiter", batch.DelimiterName(j.in.Delimiter)).
			Msgf("the first line has no comma: reading fields separated by %s (--delimiter sets it)", batch.DelimiterName(j.in.Delimiter))
	}
	if j.o.resume != "" {
		if j.resume, err = report.ReadResume(j.o.resume); err != nil {
			return err
		}
		if j.resume.TornLine > 0 {
			j.log.Warn().Str("resume", j.o.resume).Int("line", j.resume.TornLine).
				Msg("the report to resume from ends in a line cut short by a crash; that line is ignored and its ID is sent again")
		}
		if j.resume.Conservative {
			j.log.Warn().Str("resume", j.o.resume).Str("journal", report.JournalPath(j.o.resume)).
				Msg("the report to resume from is incomplete and its dispatch journal is not beside it: every ID missing from the report is taken as possibly sent, so a \"no longer in queue\" answer for it is marked ambiguous; keep PREFIX.journal beside PREFIX.csv when moving a report")
		}
		if s := j.resume.InputSHA256; s != "" && s != j.in.SHA256 {
			j.log.Warn().Str("resume", j.o.resume).Str("prior_sha256", s).Str("input_sha256", j.in.SHA256).
				Msg("the input differs from the one the resumed run read; IDs are matched by call_id, so this is fine if it is the same job")
		}
	}
	j.prefix = j.o.report
	if j.prefix == "" {
		j.prefix = "bulkcancel-" + j.started.UTC().Format("20060102T150405Z")
	}
	if strings.HasSuffix(j.prefix, "/") || strings.HasSuffix(j.prefix, string(filepath.Separator)) || isDir(j.prefix) {
		return fmt.Errorf("--report %s names a directory, but it is a prefix: give e.g. --report %s", j.prefix,
			filepath.Join(j.prefix, "abort-"+j.started.UTC().Format("0102")))
	}
	for _, ext := range []string{".csv", ".json"} {
		j.prefix = strings.TrimSuffix(j.prefix, ext)
	}
	if dir := filepath.Dir(j.prefix); !isDir(dir) {
		return fmt.Errorf("--report %s: the directory %s does not exist; create it or choose another --report prefix", j.prefix, dir)
	}
	if p := existingReport(j.prefix); p != "" {
		return fmt.Errorf("report %s already exists; choose another --report prefix (reports are never overwritten)", p)
	}
	return nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func (j *job) readInput() (*batch.Input, error) {
	opt := batch.InputOptions{Column: j.o.column, NoHeader: j.o.noHeader, Delimiter: j.o.delim}
	if opt.Column == "auto" {
		opt.Column = "" // found by its name
	}
	if j.o.input == "-" {
		return batch.ReadInput(j.e.stdin, "-", opt)
	}
	f, err := os.Open(j.o.input)
	if err != nil {
		return nil, &batch.InputError{File: j.o.input, Cause: "cannot open: " + errors.Unwrap(err).Error(),
			Hint: "give the path of a CSV file, or - to read standard input"}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			return nil, &batch.InputError{File: j.o.input, Cause: "is a directory", Hint: "give the path of a CSV file"}
		}
		opt.SizeHint = st.Size()
	}
	return batch.ReadInput(f, j.o.input, opt)
}

func (j *job) prior() batch.Prior {
	if j.resume == nil {
		return nil
	}
	return j.resume
}

// dryRun writes a dry_run row for every row that would be sent.
func (j *job) dryRun() error {
	for job := range j.plan.Jobs() {
		r := batch.Result{Row: job.Row, CallID: job.ID, Outcome: batch.DryRun, RemovedJobs: -1}
		j.logResult(r, false)
		if err := j.csv.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// finish writes the JSON report and the human summary and picks the exit
// code.
func (j *job) finish(runErr, closeErr error, sig os.Signal) (int, error) {
	finished := j.e.now()
	sum := j.csv.Summary()
	sum.Finish(finished.Sub(j.started))
	if j.live != nil && sum.Attempts > 0 { // nothing sent: no pace to tell of
		r := j.live.Rate()
		sum.Rate = &r
	}
	code, aborted := exitOK, (*string)(nil)
	abort := func(c int, why string) { code, aborted = c, &why }
	switch {
	case closeErr != nil || errors.Is(runErr, batch.ErrRecord):
		abort(exitAborted, "the report could not be written: "+cmp.Or(closeErr, runErr).Error())
	case runErr == nil:
		if sum.NotFinal > 0 && !j.o.dryRun {
			code = exitNotFinal
		}
	case errors.Is(runErr, batch.ErrUnauthorized):
		abort(exitAborted, "the API rejected the key")
	case errors.Is(runErr, batch.ErrTooManyFailures):
		abort(exitAborted, runErr.Error())
	case errors.Is(runErr, batch.ErrWrongWorkspace):
		abort(exitAborted, runErr.Error()+"; the key may belong to another workspace, or the IDs were read from the wrong column")
	case errors.Is(runErr, batch.ErrInterrupted) && sig != nil:
		abort(exitInterrupted+signalNumber(sig), "interrupted by "+signalName(sig))
	default:
		abort(exitAborted, runErr.Error())
	}
	var finish []string
	if !j.o.dryRun && sum.NotFinal > 0 {
		finish = j.finishArgs(j.prefix+".csv", nextPrefix(j.prefix, j.o.resume))
		if errors.Is(runErr, batch.ErrWrongWorkspace) {
			// A plain --resume would stop again at the same guard.
			finish = slices.Insert(finish, 1, "--expect-not-found")
		}
	}
	meta := report.Meta{
		RunID: j.runID, Version: buildVersion(), StartedAt: j.started.UTC(), FinishedAt: finished.UTC(),
		Input:   report.Input{Path: j.o.input, SHA256: j.in.SHA256, Rows: j.in.Len()},
		Config:  j.o.configJSON(j.keySource, j.prefix, j.in.Delimiter),
		Summary: sum, Aborted: aborted, ExitCode: code, FinishCommand: finish,
	}
	jsonErr := report.WriteJSON(j.prefix+".json", meta, j.prefix+".csv")
	if j.journal != nil {
		// Every row is in the report: the journal has nothing left to tell.
		if closeErr == nil && jsonErr == nil && !errors.Is(runErr, batch.ErrRecord) {
			j.journal.Remove()
		} else {
			j.journal.Close()
		}
	}
	if jsonErr != nil && code != exitAborted {
		abort(exitAborted, "the JSON report could not be written ("+jsonErr.Error()+"); the CSV report holds every row")
	}
	j.logEnd(sum, code, aborted)
	j.printSummary(sum, aborted, runErr, jsonErr == nil, finish)
	if jsonErr != nil {
		return code, jsonErr
	}
	return code, nil
}

// unwritable ends a run whose report could not be written before its
// first request: nothing was sent and no report is left, so the same
// command, run again once the cause is fixed, does the whole job.
func (j *job) unwritable(err error) (int, error) {
	why := "the report could not be written: " + err.Error()
	j.log.Error().Str("report", j.prefix+".csv").Msg(why + "; nothing was sent")
	w := j.e.stdout
	fmt.Fprintf(w, "Stopped before the first request: %s.\n", why)
	j.printCommand("Nothing was sent and no report was left. Once there is room, run the same command again:", j.finishArgs(j.o.resume, j.prefix))
	return exitAborted, nil
}

// signals tracks SIGHUP/SIGINT/SIGTERM: the first stops dispatch, the second
// abandons the requests in flight.
type signals struct {
	mu    sync.Mutex
	first os.Signal
	quit  chan struct{}
	wg    sync.WaitGroup
}

func (j *job) watchSignals(stop context.CancelCauseFunc, abandon chan struct{}) *signals {
	s := &signals{quit: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for n := 0; ; {
			select {
			case <-s.quit:
				return
			case sig := <-j.e.signals:
				n++
				if n == 1 {
					s.mu.Lock()
					s.first = sig
					s.mu.Unlock()
					j.log.Warn().Str("signal", signalName(sig)).Dur("timeout", j.o.timeout).
						Msg("stopping: nothing new is sent; requests in flight may take up to the timeout; signal again to stop now")
					stop(fmt.Errorf("%s", signalName(sig)))
					continue
				}
				j.log.Warn().Str("signal", signalName(sig)).Msg("stopping now: abandoning requests in flight")
				close(abandon)
				return
			}
		}
	}()
	return s
}

func (s *signals) received() os.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}

func (s *signals) done() {
	close(s.quit)
	s.wg.Wait()
}

func signalNumber(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return 2
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
