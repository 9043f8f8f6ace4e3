package main

// The live bar on a terminal, and the log writer it takes over while it
// is drawn. progress.go decides when it is shown and what it shows.

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// barText is what follows the bar, in at most width columns: rows, rate,
// the pace and what holds it, retries, ETA (or the elapsed time once done
// or stopped), canceled and not final. When they do not all fit, the
// retries go first, then the rate, canceled, the ETA, not final and,
// last, the pace (which says whether the API or the tool sets it); the
// rows stay.
func (s progressStats) barText(width int) string {
	const (
		rows = iota
		rate
		pace
		retries
		eta
		canceled
		notFinal
	)
	f := [...]string{
		rows:     fmt.Sprintf("%d/%d rows", s.Done, s.Total),
		rate:     fmt.Sprintf("%.1f req/s", s.RPS),
		pace:     s.paceText(),
		retries:  retriesText(s),
		canceled: fmt.Sprintf("canceled %d", s.Canceled),
		notFinal: fmt.Sprintf("not final %d", s.NotFinal),
	}
	switch {
	case s.Stopped:
		f[eta] = "stopped after " + round(s.Elapsed).String()
	case s.Done >= s.Total:
		f[eta] = "done in " + round(s.Elapsed).String()
	case s.ETA < 0:
		f[eta] = "ETA ?"
	default:
		f[eta] = "ETA " + round(s.ETA).String()
	}
	join := func() string {
		var b strings.Builder
		for _, x := range f {
			if x == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(x)
		}
		return b.String()
	}
	text := join()
	for _, drop := range []int{retries, rate, canceled, eta, notFinal, pace} {
		if len(text) <= width {
			break
		}
		f[drop] = ""
		text = join()
	}
	return text
}

func retriesText(s progressStats) string {
	if s.Retries == 0 {
		return ""
	}
	if s.Waiting > 0 {
		return fmt.Sprintf("retries %d (%d waiting)", s.Retries, s.Waiting)
	}
	return fmt.Sprintf("retries %d", s.Retries)
}

// barMinWidth is the least room the bar itself keeps on a narrow terminal.
const barMinWidth = 12

// bar is the live progress bar. It draws on the raw stderr; while it is
// up, log lines written to the logOutput go through its container, which
// prints them above the bar, so a log line never lands inside the bar.
type bar struct {
	p       *mpb.Progress
	b       *mpb.Bar
	out     *logOutput // nil when the logger is not routed through one
	refresh chan any
	drawn   chan struct{} // a redraw reached the terminal
	gone    chan any      // closed when the container has shut down

	mu    sync.Mutex
	stats progressStats
}

// newBar draws a bar for total rows on stderr and routes the log through
// it.
func (j *job) newBar(total int) *bar {
	raw := j.e.stderr
	out, _ := raw.(*logOutput)
	if out != nil {
		raw = out.base
	}
	b := &bar{out: out, refresh: make(chan any), drawn: make(chan struct{}, 1), gone: make(chan any)}
	b.stats.ETA = -1
	b.stats.Total = total
	// The container redraws only when told to (on our tick), and each tick
	// waits for its redraw, so a redraw always shows the counts just read.
	cup := cupwriter.New(raw, false)
	if f, ok := raw.(interface{ Fd() uintptr }); ok {
		cup.SetTermFd(int(f.Fd())) // the terminal's width, through the lenient writer
	}
	cw := drawNotifier{cup, b.drawn}
	b.p = mpb.New(mpb.WithConsoleWriter(cw), mpb.WithManualRefresh(b.refresh), mpb.WithShutdownNotifier(b.gone))
	b.b = b.p.New(int64(total), mpb.BarStyle(),
		mpb.BarWidth(32),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			return fmt.Sprintf("%d%%", b.snapshot().percent())
		}, decor.WC{W: 4})),
		mpb.AppendDecorators(decor.Any(func(st decor.Statistics) string {
			return b.snapshot().barText(st.AvailableWidth - barMinWidth - 2)
		})),
	)
	if out != nil {
		out.divert(b.p)
	}
	return b
}

func (b *bar) snapshot() progressStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

func (b *bar) set(s progressStats) {
	b.mu.Lock()
	b.stats = s
	b.mu.Unlock()
	b.b.SetCurrent(int64(s.Done))
}

// draw redraws the bar with s and waits until the redraw is written.
func (b *bar) draw(s progressStats) {
	b.set(s)
	select {
	case b.refresh <- struct{}{}:
	case <-b.gone: // the terminal failed; the run goes on without a bar
		return
	}
	select {
	case <-b.drawn:
	case <-b.gone:
	}
}

// drawNotifier is the bar's terminal writer: it tells drawn after each
// redraw is written.
type drawNotifier struct {
	*cupwriter.Writer
	drawn chan<- struct{}
}

func (w drawNotifier) Flush(lines int) error {
	err := w.Writer.Flush(lines)
	select {
	case w.drawn <- struct{}{}:
	default:
	}
	return err
}

// finish draws the bar a last time with s and leaves it on the screen:
// complete when every row is done, as far as it got otherwise. Log lines
// written meanwhile wait, then go straight to stderr.
func (b *bar) finish(s progressStats) {
	done := func() {
		b.set(s)
		if s.Done < s.Total {
			b.b.Abort(false)
		}
		b.p.Wait()
	}
	if b.out == nil {
		done()
		return
	}
	b.out.restore(done)
}

// logOutput is the logger's writer: stderr, except while the progress bar
// is drawn, when each log line goes to the bar's container and is printed
// above the bar. It is safe for concurrent use.
type logOutput struct {
	base io.Writer // stderr

	mu   sync.Mutex
	over io.Writer // the bar's container while the bar is drawn
}

// withLogOutput returns a copy of e whose stderr is a logOutput over
// e.stderr, for the logger, so a progress bar can take the log over.
func (e *env) withLogOutput() *env {
	if _, ok := e.stderr.(*logOutput); ok {
		return e
	}
	c := *e
	c.stderr = &logOutput{base: e.stderr}
	return &c
}

func (o *logOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.over != nil {
		if n, err := o.over.Write(b); err == nil {
			return n, nil
		}
		// The bar is gone (its terminal failed): write to stderr itself.
	}
	return o.base.Write(b)
}

// divert sends log lines to w until restore.
func (o *logOutput) divert(w io.Writer) {
	o.mu.Lock()
	o.over = w
	o.mu.Unlock()
}

// restore runs finish (which takes the bar down) with log lines held back,
// then sends them to stderr again.
func (o *logOutput) restore(finish func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	finish()
	o.over = nil
}
