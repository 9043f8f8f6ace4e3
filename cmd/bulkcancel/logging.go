package main

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/report"
)

// newLogger returns the stderr logger: JSON off a terminal, console on
// one (format "auto"), with run_id on every line.
func newLogger(e *env, format, level, runID string) zerolog.Logger {
	w := e.stderr
	if format == "console" || (format == "auto" && e.stderrTTY) {
		// NO_COLOR (https://no-color.org): set and not empty turns colour off.
		w = zerolog.ConsoleWriter{Out: e.stderr, TimeFormat: "15:04:05", NoColor: !e.stderrTTY || e.getenv("NO_COLOR") != ""}
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Str("run_id", runID).Logger()
}

// guessLogFormat finds --log-format in args that did not parse, so the
// error about them still comes out as JSON when JSON was asked for.
func guessLogFormat(args []string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "log-format="); ok {
			return v
		}
		if a == "log-format" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return "auto"
}

func newRunID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:4])
}

func (j *job) logStart() {
	c := j.plan.Counts
	j.log.Info().Str("version", buildVersion()).Str("input", j.o.input).Str("sha256", j.in.SHA256).
		Str("delimiter", batch.DelimiterName(j.in.Delimiter)).
		Int("rows", c.Rows).Int("to_send", c.Send).Int("invalid", c.Invalid).Int("duplicate", c.Duplicate).
		Int("carried", c.Carried).Int("other_shard", c.OtherShard).
		Str("base_url", j.o.baseURL).Str("key_source", j.keySource).
		Str("rate", j.o.rate.String()).Int("concurrency", j.o.concurrency).Bool("dry_run", j.o.dryRun).
		Str("report", j.prefix+".csv").Msg("starting")
}

func (j *job) logResult(r batch.Result, carried bool) {
	if j.log.GetLevel() > zerolog.DebugLevel {
		return
	}
	ev := j.log.Debug().Int("row", r.Row).Str("call_id", r.CallID).Str("outcome", string(r.Outcome)).
		Int("attempts", r.Attempts)
	if r.HTTPStatus > 0 {
		ev = ev.Int("http_status", r.HTTPStatus)
	}
	if r.Ambiguous {
		ev = ev.Bool("ambiguous", true)
	}
	if carried {
		ev = ev.Bool("carried", true)
	}
	if r.Error != "" {
		ev = ev.Str("error", r.Error)
	}
	ev.Msg("result")
}

func (j *job) logEnd(s report.Summary, code int, aborted *string) {
	ev := j.log.Info()
	switch code {
	case exitOK:
	case exitAborted: // an error, so --quiet (--log-level error) still shows it
		ev = j.log.Error()
	default:
		ev = j.log.Warn()
	}
	d := zerolog.Dict()
	for _, o := range batch.Outcomes {
		if n := s.ByOutcome[o]; n > 0 {
			d = d.Int(string(o), n)
		}
	}
	ev = ev.Int("total", s.Total).Dict("by_outcome", d).Int("attempts", s.Attempts).Int("retries", s.Retries).
		Int("carried", s.Carried).Int64("duration_ms", s.DurationMS).Float64("achieved_rps", s.AchievedRPS).
		Int("exit_code", code).Str("report", j.prefix+".csv")
	if r := s.Rate; r != nil {
		ev = ev.Float64("pace_final", r.Final).Float64("pace_highest", r.Highest).Str("held_by", string(r.HeldBy))
		if r.Allowed > 0 {
			ev = ev.Float64("api_allowed_rps", r.Allowed)
		}
		if r.Noise > 0 {
			ev = ev.Float64("pushback_noise", r.Noise)
		}
	}
	if aborted != nil {
		ev = ev.Str("aborted", *aborted)
	}
	ev.Msg("finished")
}
