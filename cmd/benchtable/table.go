//go:build linux

package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The targets.
const (
	targetWrkRatio  = 0.70
	targetCurlRatio = 20
	targetRateError = 1.0 // percent
	targetMemRSS    = 100e6
	targetBigRSS    = 1e9
	targetFirstReq  = 1500 * time.Millisecond
)

// row is one line of the main table.
type row struct{ measure, bulk, ref, cmp, target, met string }

func (r row) cells() []string { return []string{r.measure, r.bulk, r.ref, r.cmp, r.target, r.met} }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// median returns the run with the median value of key (the lower middle
// for an even count) and the smallest and largest values.
func median(rs []runResult, key func(runResult) float64) (mid runResult, lo, hi float64) {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b runResult) int { return cmp.Compare(key(a), key(b)) })
	return s[(len(s)-1)/2], key(s[0]), key(s[len(s)-1])
}

func bulkRate(r runResult) float64 { return r.RowsPerSec() }
func wrkRate(r runResult) float64  { return r.WrkRPS }

// printTable writes the machine, the table and the notes.
func (b *bench) printTable(w io.Writer, res *results) {
	c := b.cfg
	m := res.machine
	fmt.Fprintf(w, "\nbulkcancel benchmark, %s UTC, %s\n", res.started.UTC().Format("2006-01-02 15:04"), b.binNote)
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s RAM, %s, %s\n", m.CPUs, m.Model, bytesText(m.MemBytes), m.Kernel, m.Go)
	fmt.Fprintf(w, "client, fakesubverse and wrk/curl share these %d CPUs on loopback\n\n", m.CPUs)

	var rows []row
	flags := fmt.Sprintf("`--rate 0 --concurrency %d`", c.conns)
	var bulkMid runResult
	if len(res.bulk) > 0 {
		var lo, hi float64
		bulkMid, lo, hi = median(res.bulk, bulkRate)
		bulkText := rps(bulkMid.RowsPerSec(), "rows/s") + spread(len(res.bulk), lo, hi)
		meas := fmt.Sprintf("throughput, %s rows, %s, report written (rows / whole run)", thousands(c.rows), flags)
		if len(res.wrk) > 0 {
			wrkMid, wlo, whi := median(res.wrk, wrkRate)
			ratio := bulkMid.RowsPerSec() / wrkMid.WrkRPS
			rows = append(rows, row{meas, bulkText,
				fmt.Sprintf("wrk -t2 -c%d: %s%s", c.conns, rps(wrkMid.WrkRPS, "req/s"), spread(len(res.wrk), wlo, whi)),
				fmt.Sprintf("%.2f × wrk", ratio), fmt.Sprintf("≥ %.2f", targetWrkRatio), yesNo(ratio >= targetWrkRatio)})
			sendMid, _, _ := median(res.bulk, func(r runResult) float64 { return r.Stats.ArrivalRate() })
			wrkSend, _, _ := median(res.wrk, func(r runResult) float64 { return r.Stats.ArrivalRate() })
			rows = append(rows, row{"same, send phase only (requests / (last − first arrival) at the fake)",
				rps(sendMid.Stats.ArrivalRate(), "req/s"), "wrk: " + rps(wrkSend.Stats.ArrivalRate(), "req/s"),
				fmt.Sprintf("%.2f × wrk", sendMid.Stats.ArrivalRate()/wrkSend.Stats.ArrivalRate()), "", "info"})
		} else {
			rows = append(rows, row{meas, bulkText, "wrk: skipped (see notes)", "", fmt.Sprintf("≥ %.2f × wrk", targetWrkRatio), "–"})
		}
		if res.curl != nil {
			ratio := bulkMid.RowsPerSec() / res.curl.RowsPerSec()
			rows = append(rows, row{"same, against a hand-written loop", rps(bulkMid.RowsPerSec(), "rows/s"),
				fmt.Sprintf("`xargs -P %d curl -X PUT`, %s IDs: %s", c.conns, thousands(c.curlIDs), rps(res.curl.RowsPerSec(), "req/s")),
				fmt.Sprintf("%.0f × curl", ratio), fmt.Sprintf("≥ %d ×", targetCurlRatio), yesNo(ratio >= targetCurlRatio)})
		} else {
			rows = append(rows, row{"same, against a hand-written loop", rps(bulkMid.RowsPerSec(), "rows/s"),
				"xargs curl: skipped (see notes)", "", fmt.Sprintf("≥ %d ×", targetCurlRatio), "–"})
		}
		ref := []string{}
		fakeRef := []string{}
		if len(res.wrk) > 0 {
			wrkMid, _, _ := median(res.wrk, wrkRate)
			ref = append(ref, "wrk "+micros(wrkMid.ClientCPUPerRow()))
			fakeRef = append(fakeRef, "under wrk "+micros(wrkMid.FakeCPUPerRequest()))
		}
		if res.curl != nil {
			ref = append(ref, "xargs+curl "+micros(res.curl.ClientCPUPerRow()))
			fakeRef = append(fakeRef, "under curl "+micros(res.curl.FakeCPUPerRequest()))
		}
		rows = append(rows, row{"client CPU per request (user + system)", micros(bulkMid.ClientCPUPerRow()),
			strings.Join(ref, "; "), "", "", "info"})
		rows = append(rows, row{"fakesubverse CPU per request", micros(bulkMid.FakeCPUPerRequest()),
			strings.Join(fakeRef, "; "), "", "", "info"})
	}
	if len(res.bulk) == 0 && res.curl != nil {
		rows = append(rows, row{"hand-written loop alone", "throughput not run",
			fmt.Sprintf("`xargs -P %d curl -X PUT`, %s IDs: %s", c.conns, thousands(c.curlIDs), rps(res.curl.RowsPerSec(), "req/s")),
			"", fmt.Sprintf("≥ %d ×", targetCurlRatio), "–"})
	}
	if res.latBulk != nil {
		ref, cmp := "wrk: skipped", ""
		if res.latWrk != nil {
			ref = fmt.Sprintf("wrk -t2 -c%d: %s", c.conns, rps(res.latWrk.WrkRPS, "req/s"))
			cmp = fmt.Sprintf("%.2f × wrk", res.latBulk.RowsPerSec()/res.latWrk.WrkRPS)
		}
		rows = append(rows, row{fmt.Sprintf("throughput with %s API latency (`fakesubverse --latency`), %s rows, %s",
			c.latency, thousands(c.latRows), flags), rps(res.latBulk.RowsPerSec(), "rows/s"), ref, cmp, "", "info"})
	}
	if r := res.rate; r != nil {
		got := r.Stats.ArrivalRate()
		errPct := (got - c.rate) / c.rate * 100
		rows = append(rows, row{fmt.Sprintf("rate accuracy, `--rate %g --concurrency %d`, %s IDs (%s)", c.rate, c.conns,
			thousands(r.Rows), c.rateFor), fmt.Sprintf("%.2f req/s at the fake", got), fmt.Sprintf("--rate %g", c.rate),
			fmt.Sprintf("%+.3f %%", errPct), fmt.Sprintf("± %g %%", targetRateError), yesNo(math.Abs(errPct) <= targetRateError)})
	}
	var inflight []string
	maxSeen, maxOK := int64(0), true
	add := func(name string, r *runResult) {
		if r == nil {
			return
		}
		inflight = append(inflight, fmt.Sprintf("%s %d", name, r.Stats.MaxInFlight))
		maxSeen = max(maxSeen, r.Stats.MaxInFlight)
		maxOK = maxOK && r.Stats.MaxInFlight <= int64(c.conns)
	}
	for i := range res.bulk {
		add(fmt.Sprintf("rate 0 #%d", i+1), &res.bulk[i])
	}
	add(c.latency.String()+" latency", res.latBulk)
	add(fmt.Sprintf("rate %g", c.rate), res.rate)
	add(short(c.memRows)+" rows", res.mem)
	if res.big != nil && c.bigMode == "send" {
		add(short(c.bigRows)+" rows", res.big)
	}
	if len(inflight) > 0 {
		rows = append(rows, row{"requests in flight at the fake (max)", strings.Join(inflight, "; "),
			"--concurrency " + strconv.Itoa(c.conns), fmt.Sprintf("max %d", maxSeen), "≤ " + strconv.Itoa(c.conns), yesNo(maxOK)})
	}
	if r := res.mem; r != nil {
		rows = append(rows, row{fmt.Sprintf("%s rows, %s (real send)", thousands(c.memRows), flags),
			fmt.Sprintf("peak RSS %s; wall %s (%s)", mb(r.MaxRSS), secs(r.Wall), rps(r.RowsPerSec(), "rows/s")), "", "",
			"≤ " + mb(int64(targetMemRSS)), yesNo(r.MaxRSS <= targetMemRSS)})
		first := "no first_arrival at the fake"
		ok := false
		if fa := r.Stats.FirstArrival; fa != nil {
			d := fa.Sub(r.Start)
			first, ok = secs(d)+" after exec", d <= targetFirstReq
		}
		rows = append(rows, row{fmt.Sprintf("first request, %s-row input", thousands(c.memRows)), first,
			"fake's first_arrival − time before exec", "", "≤ " + secs(targetFirstReq), yesNo(ok)})
	}
	if r := res.big; r != nil {
		mode := "real send"
		if c.bigMode == "dry-run" {
			mode = "`--dry-run`: read, plan, report; nothing sent"
		}
		rows = append(rows, row{fmt.Sprintf("%s rows, %s (%s)", thousands(c.bigRows), flags, mode),
			fmt.Sprintf("peak RSS %s; wall %s (%s)", mb(r.MaxRSS), secs(r.Wall), rps(r.RowsPerSec(), "rows/s")), "", "",
			"≤ " + mb(int64(targetBigRSS)), yesNo(r.MaxRSS <= targetBigRSS)})
	}
	lines := make([][]string, 0, len(rows))
	for _, r := range rows {
		lines = append(lines, r.cells())
	}
	if len(lines) > 0 {
		writeMarkdown(w, []string{"measure", "bulkcancel", "compared with", "ratio / error", "target", "met"}, lines)
	}
	b.printAdaptive(w, res.adaptive)

	fmt.Fprintln(w)
	if c.quick {
		fmt.Fprintln(w, "- -quick: sizes are below the issue's (targets are shown for orientation only); run without -quick for the figures.")
	}
	if len(res.bulk) > 0 {
		fmt.Fprintf(w, "- Throughput rows: median of %d round(s), wrk and bulkcancel alternating, each against a fresh fake with the same %s calls (60%% call_in_queue); bulkcancel's input is those %s IDs, wrk's Lua script walks the same IDs (PUT, x-api-key), starting over when they run out.\n",
			c.rounds, thousands(c.rows), thousands(c.rows))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "- Client CPU is the process's rusage (xargs includes its curls); fake CPU is from /proc/PID/stat. All clients, the fake and the machine's other work share the CPUs, so a heavier client leaves less CPU to the fake.")
	}
	var foreign []float64
	all := append(append([]runResult{}, res.wrk...), res.bulk...)
	for _, r := range []*runResult{res.curl, res.latWrk, res.latBulk, res.rate, res.mem, res.big} {
		if r != nil {
			all = append(all, *r)
		}
	}
	for _, r := range all {
		foreign = append(foreign, r.Foreign(m.CPUs)*100)
	}
	if len(foreign) > 0 {
		fmt.Fprintf(w, "- Other processes on the machine used %.0f–%.0f %% of the CPUs during the measurements (load average %s at the start, %s at the end).\n",
			slices.Min(foreign), slices.Max(foreign), res.loadStart, res.loadEnd)
	}
	for _, s := range adaptiveNotes(res.adaptive) {
		fmt.Fprintf(w, "- %s\n", s)
	}
	for _, s := range b.skipped {
		fmt.Fprintf(w, "- Skipped: %s.\n", s)
	}
	for _, s := range b.failed {
		fmt.Fprintf(w, "- Not run: %s.\n", s)
	}
	for _, r := range all {
		if r.WrkNote != "" {
			fmt.Fprintf(w, "- wrk reported: %s.\n", r.WrkNote)
			break
		}
	}
	fmt.Fprintf(w, "- Took %s. Inputs, logs and the wrk script are in %s; reproduce with `make bench` or `go run ./cmd/benchtable` (`-quick` for a short check).\n",
		res.took.Round(time.Second), b.cfg.out)
}

// writeMarkdown prints a Markdown table with aligned columns; every row
// has as many cells as the header.
func writeMarkdown(w io.Writer, header []string, rows [][]string) {
	cells := append([][]string{header}, rows...)
	width := make([]int, len(header))
	for _, line := range cells {
		for i, s := range line {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len([]rune(s))) }
	for li, line := range cells {
		var sb strings.Builder
		sb.WriteString("|")
		for i, s := range line {
			sb.WriteString(" " + pad(s, width[i]) + " |")
		}
		fmt.Fprintln(w, sb.String())
		if li == 0 {
			sb.Reset()
			sb.WriteString("|")
			for i := range line {
				sb.WriteString(strings.Repeat("-", width[i]+2) + "|")
			}
			fmt.Fprintln(w, sb.String())
		}
	}
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
		s = s[1:]
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// short writes 1000000 as 1M and 20000 as 20k.
func short(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return thousands(n)
}

func rps(v float64, unit string) string { return thousands(int(math.Round(v))) + " " + unit }

func spread(n int, lo, hi float64) string {
	if n < 2 {
		return ""
	}
	return fmt.Sprintf(" (%s–%s)", thousands(int(math.Round(lo))), thousands(int(math.Round(hi))))
}

func micros(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	if us >= 1000 {
		return fmt.Sprintf("%.2f ms", us/1000)
	}
	return fmt.Sprintf("%.1f µs", us)
}

func mb(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}

func bytesText(n int64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }

func secs(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}
