//go:build linux

package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:38951/api
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.13ms    4.80ms 109.99ms   93.10%
    Req/Sec    30.90k     5.61k   65.63k    77.94%
  629606 requests in 10.09s, 138.01MB read
  Socket errors: connect 0, read 3, write 0, timeout 0
  Non-2xx or 3xx responses: 509606
Requests/sec:  62381.85
Transfer/sec:     13.67MB
`
	rps, n, note, err := parseWrk(out)
	if err != nil || rps != 62381.85 || n != 629606 || note != "Socket errors: connect 0, read 3, write 0, timeout 0" {
		t.Errorf("parseWrk = %v, %d, %q, %v", rps, n, note, err)
	}
	if _, _, _, err := parseWrk("unable to connect"); err == nil {
		t.Error("parseWrk accepted output without a rate")
	}
}

func TestParseProcStat(t *testing.T) {
	line := "4242 (fake subverse) S 1 4242 4242 0 -1 4194560 2370 0 0 0 365 106 0 0 20 0 7 0 1234 2000000 3000 18446744073709551615"
	d, err := parseProcStat(line)
	if err != nil || d != 4710*time.Millisecond {
		t.Errorf("parseProcStat = %v, %v", d, err)
	}
	if _, err := parseProcStat("garbage"); err == nil {
		t.Error("parseProcStat accepted garbage")
	}
}

func TestParseCPULine(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	d, err := parseCPULine("cpu  100 5 50 1000 20 1 2 3 40 0")
	if err != nil || d != 161*clockTick {
		t.Errorf("parseCPULine = %v, %v", d, err)
	}
}

func TestParseMemTotal(t *testing.T) {
	if got := parseMemTotal("MemTotal:       24684124 kB\nMemFree: 1 kB\n"); got != 24684124*1024 {
		t.Errorf("parseMemTotal = %d", got)
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 200000: "200,000", 10000000: "10,000,000", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{1_000_000: "1M", 10_000_000: "10M", 20_000: "20k", 1234: "1,234"} {
		if got := short(n); got != want {
			t.Errorf("short(%d) = %q, want %q", n, got, want)
		}
	}
	if got := micros(33600 * time.Nanosecond); got != "33.6 µs" {
		t.Errorf("micros = %q", got)
	}
	if got := mb(102_400_000); got != "102 MB" {
		t.Errorf("mb = %q", got)
	}
}

func TestMedian(t *testing.T) {
	rs := []runResult{{WrkRPS: 3}, {WrkRPS: 1}, {WrkRPS: 2}}
	mid, lo, hi := median(rs, wrkRate)
	if mid.WrkRPS != 2 || lo != 1 || hi != 3 {
		t.Errorf("median = %v, %v, %v", mid.WrkRPS, lo, hi)
	}
}

func TestArrivalRate(t *testing.T) {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	last := first.Add(30 * time.Second)
	st := fakeStats{Requests: 15001, FirstArrival: &first, LastArrival: &last}
	if got := st.ArrivalRate(); got != 500 {
		t.Errorf("ArrivalRate = %v", got)
	}
	if got := (fakeStats{Requests: 1}).ArrivalRate(); got != 0 {
		t.Errorf("ArrivalRate of one request = %v", got)
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	writeMarkdown(&b, []string{"a", "b", "c", "d", "e", "f"}, [][]string{row{"µs", "x", "", "", "", "yes"}.cells()})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "|----") {
		t.Fatalf("table:\n%s", b.String())
	}
	if w0, w2 := len([]rune(lines[0])), len([]rune(lines[2])); w0 != w2 {
		t.Errorf("rows are %d and %d runes wide:\n%s", w0, w2, b.String())
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil || c.rows != 200_000 || c.rounds != 3 || c.memRows != 1_000_000 || c.bigRows != 10_000_000 || c.bigMode != "send" {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	c, err = parseFlags([]string{"-quick", "-only", "rate,memory"}, io.Discard)
	if err != nil || c.rows != 20_000 || c.rounds != 1 || !c.runs("rate") || c.runs("throughput") {
		t.Errorf("-quick -only: %+v, %v", c, err)
	}
	c, err = parseFlags(nil, io.Discard)
	if err != nil || len(c.rates) != 2 || c.rates[0].arg(150, c.autoRate) != "auto" || c.rates[1].arg(150, c.autoRate) != "1050" ||
		len(c.limitKinds) != 5 || c.noLimitFor != time.Minute || c.noLimitCalls != 1_000_000 || c.noLimitLatency != 5*time.Millisecond {
		t.Errorf("adaptive defaults: %+v, %v", c, err)
	}
	c, err = parseFlags([]string{"-only", "adaptive", "-rates", "7x,140,auto", "-limits", "slow,bucket", "-auto-rate", "35"}, io.Discard)
	if err != nil || !c.runs("limit") || !c.runs("nolimit") || !c.runs("shards") || c.runs("throughput") || c.runs("rate") ||
		len(c.rates) != 3 || c.rates[1].arg(20, c.autoRate) != "140" || c.rates[2].arg(20, c.autoRate) != "35" ||
		len(c.limitKinds) != 2 || c.limitKinds[0].name != "slow" {
		t.Errorf("-only adaptive: %+v, %v", c, err)
	}
	c, err = parseFlags([]string{"-quick", "-only", "shards"}, io.Discard)
	if err != nil || c.noLimitFor != 15*time.Second || !c.runs("shards") || c.runs("limit") {
		t.Errorf("-quick -only shards: %+v, %v", c, err)
	}
	for _, bad := range [][]string{{"-only", "nope"}, {"-ten-million", "maybe"}, {"-rounds", "-1"}, {"extra"},
		{"-rates", "auto,seven"}, {"-limits", "bucket,huge"}, {"-rates", ""}, {"-auto-rate", "7x"}, {"-auto-rate", "fast"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
