package main

import (
	"time"

	"github.com/subverseai/bulkcancel/report"
)

// progressEvery is how often the off-terminal progress line is logged.
const progressEvery = 10 * time.Second

// progress reports how far the run is while it runs.
type progress struct {
	quit chan struct{}
	done chan struct{}
}

// startProgress logs an info line every progressEvery with done/total,
// rate, ETA and counts, until stop is called.
func (j *job) startProgress(csv *report.CSV) *progress {
	p := &progress{quit: make(chan struct{}), done: make(chan struct{})}
	if j.o.progress == "off" {
		close(p.done)
		return p
	}
	total := j.plan.Counts.Shard
	go func() {
		defer close(p.done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				j.logProgress(csv.Summary(), total)
			}
		}
	}()
	return p
}

func (j *job) logProgress(s report.Summary, total int) {
	elapsed := j.e.now().Sub(j.started)
	ev := j.log.Info().Int("done", s.Total).Int("total", total).
		Int("canceled", s.ByOutcome["canceled"]).Int("not_final", s.NotFinal).
		Int("attempts", s.Attempts)
	if secs := elapsed.Seconds(); secs > 0 {
		rps := float64(s.Attempts) / secs
		ev = ev.Float64("rps", rps)
		if rowRate := float64(s.Total) / secs; rowRate > 0 && total > s.Total {
			ev = ev.Str("eta", round(time.Duration(float64(total-s.Total)/rowRate*float64(time.Second))).String())
		}
	}
	ev.Msg("progress")
}

func (p *progress) stop() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
}
