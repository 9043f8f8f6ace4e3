package batch

import (
	"fmt"
	"testing"
	"time"
)

func TestZZWindows(t *testing.T) {
	for _, w := range []time.Duration{2 * time.Second, 10 * time.Second, 60 * time.Second} {
		for _, lim := range []float64{10, 150} {
			for _, mode := range simModes {
				cfg := simModeConfig(mode, lim)
				api := simAPI{limit: lim, window: w, retryAfter: true}
				calls := int(lim * 300)
				r := simulateShards(cfg, 1, &api, calls, 5*time.Millisecond, nil)
				fmt.Printf("ZZ window %v limit %v %s: %.2f 429 %.1f%% n=%d cuts=%d final=%.1f allowed=%.1f\n", w, lim, mode, r.limitShare, r.share429*100, r.requests, r.report.Cuts, r.report.Final, r.report.Allowed)
			}
		}
	}
}

func TestZZWindowTrace(t *testing.T) {
	cfg := simModeConfig("7x", 10)
	api := simAPI{limit: 10, window: 60 * time.Second, retryAfter: true}
	var arr []time.Time
	_ = arr
	r := simulateShards(cfg, 1, &api, 3000, 5*time.Millisecond, func(f string, a ...any) { fmt.Printf("ZZ "+f+"\n", a...) })
	fmt.Printf("ZZ %.2f %+v\n", r.limitShare, r.report)
}

func TestZZWinGrid(t *testing.T) {
	for _, mode := range simModes {
		for _, scale := range []float64{0.8, 0.87, 0.93, 1, 1.07, 1.13, 1.2} {
			for _, latency := range []time.Duration{time.Millisecond, 7 * time.Millisecond, 20 * time.Millisecond} {
				api := simAPI{limit: 150 * scale, window: 2 * time.Second, retryAfter: true}
				cfg := simModeConfig(mode, 150)
				r := simulateShards(cfg, 1, &api, int(3000*scale), latency, nil)
				fmt.Printf("ZZ %s %.2f %v: %.3f cuts %d\n", mode, scale, latency, r.limitShare, r.report.Cuts)
			}
		}
	}
}

func TestZZWinOne(t *testing.T) {
	api := simAPI{limit: 150 * 0.8, window: 2 * time.Second, retryAfter: true}
	cfg := simModeConfig("7x", 150)
	r := simulateShards(cfg, 1, &api, int(3000*0.8), time.Millisecond, func(f string, a ...any) { fmt.Printf("ZZ "+f+"\n", a...) })
	fmt.Printf("ZZ %.3f\n", r.limitShare)
}
