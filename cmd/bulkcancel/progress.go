package main

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/report"
)

const (
	// progressEvery is how often the off-terminal progress line is logged.
	progressEvery = 10 * time.Second
	// barRefresh is how often the bar on a terminal is redrawn.
	barRefresh = 200 * time.Millisecond
	// rateWindow is how far back the rate and the ETA look, so that they
	// follow a slowdown (a 429, a slow API) instead of the run's average.
	rateWindow = 10 * time.Second
)

// progressMode is how a run shows its progress.
type progressMode int

const (
	progressOff progressMode = iota // --progress off
	progressLog                     // an info line every progressEvery
	progressBar                     // a live bar on the terminal
)

// progressMode picks the display from --progress: a bar needs stderr to
// be a terminal, so "on" and "auto" both fall back to the log line
// without one. "on" differs from "auto" only in that its log line comes
// out even with --log-level warn or error.
func (j *job) progressMode() progressMode {
	switch {
	case j.o.progress == "off":
		return progressOff
	case j.e.stderrTTY:
		return progressBar
	}
	return progressLog
}

// summarySource is where progress reads the counts: the report writer.
type summarySource interface{ Summary() report.Summary }

// progress shows how far a run is while it runs. Its own goroutine reads
// the report's counts (a copy taken under the report's lock) on each tick,
// five times a second at most, so the workers hardly notice it.
type progress struct {
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	release func() // stops the ticker
}

// startProgress starts the display --progress asks for; stop ends it.
func (j *job) startProgress(csv *report.CSV) *progress {
	mode := j.progressMode()
	every := progressEvery
	if mode == progressBar {
		every = barRefresh
	}
	if mode == progressOff || j.plan.Counts.Send == 0 {
		return j.runProgress(csv, progressOff, nil)
	}
	t := time.NewTicker(every)
	p := j.runProgress(csv, mode, t.C)
	p.release = t.Stop
	return p
}

// runProgress is startProgress with the ticks given: each one reads the
// counts and logs a line or redraws the bar. Tests drive it through their
// own channel, with times from their own clock.
func (j *job) runProgress(src summarySource, mode progressMode, ticks <-chan time.Time) *progress {
	p := &progress{quit: make(chan struct{}), done: make(chan struct{}), release: func() {}}
	if mode == progressOff {
		close(p.done)
		return p
	}
	m := newMeter(j.plan.Counts.Send, src.Summary(), j.e.now())
	var draw func(progressStats)
	var finish func(progressStats)
	switch mode {
	case progressBar:
		b := j.newBar(m.total)
		draw, finish = b.draw, b.finish
	default:
		log := j.log
		if j.o.progress == "on" && log.GetLevel() > zerolog.InfoLevel {
			log = log.Level(zerolog.InfoLevel)
		}
		draw = func(s progressStats) { logProgress(log, s) }
		finish = func(progressStats) {}
	}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.quit:
				st := j.withPace(m.add(j.e.now(), src.Summary()))
				st.Stopped = st.Done < st.Total
				finish(st)
				return
			case t := <-ticks:
				draw(j.withPace(m.add(t, src.Summary())))
			}
		}
	}()
	return p
}

// stop ends the display and returns once it is gone: the bar is drawn a
// last time and finished, and log lines go straight to stderr again. It
// may be called more than once.
func (p *progress) stop() {
	p.once.Do(func() {
		p.release()
		close(p.quit)
	})
	<-p.done
}

// withPace adds the engine's live pace and retry counts, when a run is
// going.
func (j *job) withPace(s progressStats) progressStats {
	if j.live == nil {
		return s
	}
	l := j.live.Stats()
	s.Pace, s.HeldBy, s.Retries, s.Waiting, s.HasPace = l.Rate, l.HeldBy, int(l.Retries), int(l.Waiting), true
	return s
}

// paceText says the pace and what holds it, e.g. "pace 150/s: API
// limit": short, so that it stays on a narrow terminal.
func (s progressStats) paceText() string {
	if !s.HasPace {
		return ""
	}
	pace := "no ceiling"
	if !math.IsInf(s.Pace, 1) {
		pace = trimRate(s.Pace) + "/s"
	}
	return "pace " + pace + ": " + heldLabel(s.HeldBy, math.IsInf(s.Pace, 1))
}

// heldLabel names what holds the pace, for the bar and the summary; with
// no ceiling and nothing holding it, nothing does, else it is rising.
func heldLabel(h batch.HeldBy, noCeiling bool) string {
	switch h {
	case batch.HeldByAPI:
		return "API limit"
	case batch.HeldByConcurrency:
		return "--concurrency"
	case batch.HeldByLatency:
		return "API slowing"
	case batch.HeldByRate:
		return "--rate"
	case batch.HeldByMaxRate:
		return "--max-rate"
	}
	if noCeiling {
		return "nothing"
	}
	return "rising"
}

func trimRate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return strconv.FormatFloat(roundRate(r), 'f', -1, 64)
}

// logProgress writes the off-terminal progress line.
func logProgress(log zerolog.Logger, s progressStats) {
	ev := log.Info().Int("done", s.Done).Int("total", s.Total).
		Int("canceled", s.Canceled).Int("not_final", s.NotFinal).
		Int("attempts", s.Attempts).Float64("rps", roundRate(s.RPS))
	if s.HasPace {
		ev = ev.Int("retries", s.Retries).Int("waiting_retry", s.Waiting).Str("held_by", string(s.HeldBy))
		if !math.IsInf(s.Pace, 1) {
			ev = ev.Float64("pace", roundRate(s.Pace))
		}
	}
	if s.ETA >= 0 && s.Done < s.Total {
		ev = ev.Str("eta", round(s.ETA).String())
	}
	ev.Msg("progress")
}

func roundRate(r float64) float64 { return float64(int64(r*10+0.5)) / 10 }

// progressStats is what progress shows at one moment. Counts are of this
// run's rows to send: rows settled before the first request (invalid,
// duplicate, carried from --resume) are not in them, and rows a stopped
// run leaves not_attempted are not done.
type progressStats struct {
	Done, Total        int // rows finished, rows to send
	Canceled, NotFinal int
	Attempts           int           // requests sent, retries included
	RPS                float64       // requests a second over the last rateWindow
	ETA                time.Duration // time left at the recent row rate; -1 when not known yet
	Elapsed            time.Duration // since the progress started
	Stopped            bool          // the run ended before every row was done
	HasPace            bool          // the fields below are known
	Pace               float64       // the engine's pace now; +Inf for none
	HeldBy             batch.HeldBy  // what holds it
	Retries, Waiting   int           // attempts retried so far; rows waiting for a retry
}

// meter turns successive report summaries into progressStats. It does no
// I/O and reads no clock: the caller gives the time of each reading. It is
// not safe for concurrent use.
type meter struct {
	total   int
	base    report.Summary // the counts when the progress started
	start   time.Time
	samples []meterSample // readings within the last rateWindow, oldest first
}

type meterSample struct {
	t              time.Time
	done, attempts int
}

func newMeter(total int, base report.Summary, start time.Time) *meter {
	return &meter{total: total, base: base, start: start, samples: []meterSample{{t: start}}}
}

// add records the summary s read at t and returns the figures to show.
func (m *meter) add(t time.Time, s report.Summary) progressStats {
	st := progressStats{
		Done:     s.Total - m.base.Total - (s.ByOutcome[batch.NotAttempted] - m.base.ByOutcome[batch.NotAttempted]),
		Total:    m.total,
		Canceled: s.ByOutcome[batch.Canceled] - m.base.ByOutcome[batch.Canceled],
		NotFinal: s.NotFinal - m.base.NotFinal,
		Attempts: s.Attempts - m.base.Attempts,
		ETA:      -1,
		Elapsed:  t.Sub(m.start),
	}
	cur := meterSample{t: t, done: st.Done, attempts: st.Attempts}
	// Keep the newest sample at or before the window's start as the
	// baseline, and drop the ones older than it.
	cut := 0
	for i, x := range m.samples {
		if !x.t.After(t.Add(-rateWindow)) {
			cut = i
		}
	}
	m.samples = append(m.samples[cut:], cur)
	old := m.samples[0]
	if secs := t.Sub(old.t).Seconds(); secs > 0 {
		st.RPS = float64(cur.attempts-old.attempts) / secs
		if rows := float64(cur.done-old.done) / secs; rows > 0 {
			st.ETA = time.Duration(float64(st.Total-st.Done) / rows * float64(time.Second))
		}
	}
	if st.Done >= st.Total {
		st.ETA = 0
	}
	return st
}

// percent is how much of the work is done, rounded down so that 100
// means every row.
func (s progressStats) percent() int {
	if s.Total <= 0 {
		return 100
	}
	return s.Done * 100 / s.Total
}
