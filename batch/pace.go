package batch

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AutoStartRate is where Config.AutoRate starts, in requests a second.
const AutoStartRate = 10

// MinRate is the least the pace is ever cut to (unless a lower ceiling
// was asked for).
const MinRate = 1

// HeldBy says what set the pace at a moment of the run.
type HeldBy string

// What can hold the pace.
const (
	HeldByNothing     HeldBy = "nothing"     // still rising, or no ceiling and no pushback
	HeldByAPI         HeldBy = "api"         // the API pushed back or its rate-limit headers say so
	HeldByConcurrency HeldBy = "concurrency" // every request slot is busy: the rate is not what binds
	HeldByLatency     HeldBy = "latency"     // the API slowed down under load: rising stopped
	HeldByRate        HeldBy = "rate"        // the --rate ceiling
	HeldByMaxRate     HeldBy = "max_rate"    // the --max-rate cap of --rate auto
)

// Tuning of the controller, set against TestPacerSimulatedLimits and the
// rate benchmarks (make bench-rate; README, Performance).
const (
	slowStartDouble  = 300 * time.Millisecond // slow start doubles the rate this often...
	slowStartFirst   = 150 * time.Millisecond // ...and this often below twice where auto starts: the slowest part of the ramp
	estimateSpan     = 2 * time.Second        // answers counted to estimate the API's limit (its burst weighs less over longer)
	slowStartSpan    = 500 * time.Millisecond // ...when slow start ends
	estimateMinSpan  = 250 * time.Millisecond // less active time than this gives no estimate
	estimateMin      = 10                     // nor do fewer answers...
	slowEstimateSpan = 300 * time.Millisecond // ...unless the pace is slow: then this much active time
	slowEstimateMin  = 3                      // ...and this many answers do
	estimateFew      = 30                     // fewer answers than this when slow start ends: the estimate may be low
	estimateFewSpan  = 2 * ringSlot           // ...while this many over this much active time give an estimate
	burstTime        = 100 * time.Millisecond // the API's burst is taken as worth this long at its limit, after a pause
	replaySpan       = 3 * time.Second        // slow start's sends since the start or a pause are replayed against a bucket when the refused one left within this...
	replayMin        = 3                      // ...and at least this many went before it
	replayMost       = 8192                   // sends kept for the replay
	cutToEstimate    = 0.95                   // after pushback, pace at this share of the estimate...
	slowStartShare   = 0.91                   // ...this share when slow start ends...
	cutWaitShare     = 0.88                   // ...this share of one that counts a Retry-After's wait (the most the API may allow)...
	cutMost          = 0.9                    // ...and at most this share of the rate that was pushed back
	cutGentle        = 0.95                   // ...or this share when the pushback came to a probe above the level, or after the level held for estimateSpan
	cutBlind         = 0.5                    // the cut when there is no estimate...
	cutBlindAtOnce   = 0.25                   // ...and again this when the pushback came at once: slow start regains it quickly, while every event costs a Retry-After pause
	probeAfter       = 10 * time.Second       // the cubic regains the cut's gap in this long, then probes
	probeHorizon     = 20 * time.Second       // ...unless the rows left take less than this: a probe rises 3 % in its first 10 s, too little over what is left to pay for the pause it risks
	shardHorizon     = 10 * time.Second       // ...or this over N for a shard of N, whose probe may find a finished shard's share
	bindUse          = 0.8                    // sending less than this share of the rate: something else binds
	busyShare        = 0.85                   // in flight at least this share of --concurrency: it binds
	latencyFactor    = 4                      // latency this many times the low-load figure...
	latencyMargin    = 100 * time.Millisecond // ...and this much above it stops the rise
	nearLimit        = 1.1                    // up to this share of where the last cut levelled off, the API holds the pace
	tickEvery        = 10 * time.Millisecond  // the pace is decided at most this often
	waitSlack        = 2 * time.Millisecond   // a place at the limiter due within this is taken at once
	judgeAnswers     = 40                     // a cut is judged once this many answers to requests sent after it...
	judgeActive      = time.Second            // ...over at least this much active time
	judgeExpect      = 3                      // ...and enough to expect this much pushback at the share before the cut
	judgeMaxAnswers  = 200
	stillAbove       = 0.25 // pushback share after a cut that cuts again before the judgement
	cutHelped        = 0.35 // a cut stands when the pushback share after it is under this share of the one before; else it is undone
	cutHelpedShared  = 0.7  // ...or under this share when the limit is shared (Config.Sharers) and the pushback is mostly 429s
	noiseMin         = 20   // once pushback is known to be noise, congestion needs this many recent answers to tell
	ringSlot         = 100 * time.Millisecond
	ringSlots        = 50              // 5 s of history: a slow limit's estimate needs it
	secSlots         = 64              // seconds of history for a longer fixed window
	noiseSpan        = 2 * time.Second // bare refusals counted against the known noise
)

// RateReport says how the pace went over a run, for the summary.
type RateReport struct {
	Auto    bool    `json:"auto"`                  // --rate auto
	Start   float64 `json:"start"`                 // requests a second at the start; 0 means no ceiling
	Highest float64 `json:"highest"`               // the highest pace set; 0 means no ceiling
	Final   float64 `json:"final"`                 // the pace at the end; 0 means no ceiling
	Allowed float64 `json:"api_allowed"`           // the rate the API was seen to allow; 0 when it never pushed back
	HeldBy  HeldBy  `json:"held_by"`               // what held the pace for the longest time
	Cuts    int     `json:"cuts"`                  // times the API pushed back and the pace was cut
	Undone  int     `json:"cuts_undone"`           // cuts undone: pushback went on at the same share at the lower pace
	Noise   float64 `json:"pushback_noise"`        // share of answers refused whatever the pace (0 when none was seen)
	Headers bool    `json:"api_rate_headers"`      // the API sent rate-limit headers
	Peers   int     `json:"peer_shards,omitempty"` // the most other shards whose pace notes were live at once (Config.Board)
	Ceiling float64 `json:"ceiling,omitempty"`     // --rate N or --max-rate; 0 means none
}

// pacer adapts one shared token bucket to the API. It raises the rate
// while answers are good (doubling quickly at first, as TCP's slow start,
// then along a cubic curve as CUBIC does), cuts it once per congestion
// event when the API pushes back (a 429, a 503, a Retry-After, rate-limit
// headers at zero), to just under the rate the API was seen to accept,
// and holds a pause every attempt waits for when an answer names a
// Retry-After. It stops rising when the rate is not what binds (every
// request slot busy) or when latency climbs well above its low-load
// figure, and near the end of the rows it no longer probes above the
// rate the API was seen to allow. Its decisions take the time as a
// parameter, so tests drive it with a fake clock and scripted answers.
// It is safe for concurrent use.
type pacer struct {
	mu          sync.Mutex
	lim         *rate.Limiter // the one limiter every attempt waits on; set under mu
	auto        bool
	ceiling     float64 // +Inf when none
	ceilingBy   HeldBy
	floor       float64
	concurrency int
	maxPause    time.Duration
	sharers     int // processes on the same limit, this one included
	left        int // rows not yet settled; -1 when the run did not say

	cur        float64 // the pace now; +Inf when none
	slowStart  bool
	wmax       float64       // where the cubic levels off after the last cut
	est        float64       // the rate the API was seen to accept at the last cut that could tell
	gap        float64       // wmax minus the pace right after the last cut
	grown      time.Duration // time spent rising since the last cut
	lastTick   time.Time
	lastCut    time.Time     // pushback to requests sent before this is the same event
	blindFor   time.Duration // after a blind cut, how long the refusal that made it took to come back; 0 otherwise (newEvent)
	begun      time.Time     // when the run began sending
	pauseUntil time.Time
	hdrCap     float64 // the limit the rate-limit headers name; 0 when none
	hdrSeen    bool

	replay     []time.Time    // when each attempt left since the run began or the last pause ended (bucket.go)
	replayOn   bool           // replay holds every send since then
	replayPace float64        // the pace at the first of them
	level      segment        // the last level a one-second Retry-After stopped, for the next one's
	window     bool           // a pushback named a pause of more than a second: the limit is no token bucket
	ring       history[slot]  // tenths of a second
	secs       history[tally] // seconds, since the last pause began: a longer window's history
	lastInt    time.Time
	inflight   int
	lowLat     time.Duration // latency at low load: the least smoothed figure seen
	lat        time.Duration // smoothed latency
	latN       int
	sched      schedProbe
	peers      map[int]*peer // other shards on the same limit, from their notes (shardpace.go)
	peersMost  int           // the most of them read at once

	held           HeldBy
	heldFor        map[HeldBy]time.Duration // how long each held the pace
	start, highest float64
	cuts           int
	lastPush       time.Time
	probe          *cutProbe // the last cut, until it is judged
	noise          float64   // share of answers pushed back whatever the pace
	undone         int
	limitSeen      bool                             // a cut helped, or the API said so: the API has a limit
	epoch          chan struct{}                    // closed when the pace is cut: the waiter takes a new place
	turn           chan struct{}                    // held by the one waiter that has a place at the limiter
	trace          func(format string, args ...any) // tests: each decision, when set
}

// cutProbe judges a cut: an API's limit stops pushing back once the pace
// is under it, while refusals that come whatever the pace (an overloaded
// API's random 503s, say) come at the same share at the lower pace. A cut
// that did not lower the share is undone, and that share is then taken
// as noise rather than as a limit.
type cutProbe struct {
	at            time.Time
	share         float64 // pushback share of answers before the cut
	pushes, total int     // answers to requests sent after the cut, and how many pushed back
	limited       int     // ...of those, 429s
	before        paceState
}

// paceState is what a cut changes.
type paceState struct {
	cur, wmax, est, gap float64
	grown               time.Duration
	slowStart           bool
}

// tally counts answers the API took and active (unpaused) seconds.
type tally struct {
	answers int
	active  float64
}

// slot is 100 ms of history.
type slot struct {
	sends, answers int
	pushes         int     // answers that pushed back
	active         float64 // seconds not paused
	rateInt        float64 // integral of the pace over active time
	busyInt        float64 // integral of requests in flight
}

// newPacer returns the controller for cfg, its limiter set to the start.
func newPacer(cfg Config, now time.Time) *pacer {
	p := &pacer{
		auto: cfg.AutoRate, ceiling: math.Inf(1), ceilingBy: HeldByRate, floor: MinRate,
		concurrency: cfg.Concurrency, maxPause: cfg.MaxBackoff, sharers: max(cfg.Sharers, 1), left: -1,
		lastTick: now, lastInt: now, lastCut: now, held: HeldByNothing,
		epoch: make(chan struct{}), turn: make(chan struct{}, 1), heldFor: map[HeldBy]time.Duration{},
	}
	switch {
	case cfg.AutoRate:
		p.cur, p.slowStart = AutoStartRate, true
		if cfg.MaxRate > 0 {
			p.ceiling, p.ceilingBy = cfg.MaxRate, HeldByMaxRate
		}
	case cfg.Rate > 0:
		p.cur, p.ceiling = cfg.Rate, cfg.Rate
	default:
		p.cur = math.Inf(1)
	}
	if cfg.Rows > 0 {
		p.left = cfg.Rows
	}
	p.cur = math.Min(p.cur, p.ceiling)
	p.floor = math.Min(MinRate, p.ceiling)
	p.start, p.highest = p.cur, p.cur
	p.held = p.unrisen()
	p.begun = now
	p.openSegment() // the API's bucket is taken as full at the start, as after a pause
	p.ring = newHistory[slot](ringSlots, now.UnixNano()/int64(ringSlot))
	p.secs = newHistory[tally](secSlots, now.Unix())
	p.lim = rate.NewLimiter(limitOf(p.cur), cfg.Burst)
	return p
}

func limitOf(r float64) rate.Limit {
	if math.IsInf(r, 1) {
		return rate.Inf
	}
	return rate.Limit(r)
}

// wait blocks until no Retry-After pause is in force and the limiter
// lets one more attempt go, or ctx ends. One waiter at a time holds a
// place at the limiter; the others queue for their turn, so each takes
// its place at the pace of the moment (places taken up front by every
// idle worker would keep the old pace for seconds after a rise). A cut
// while it waits sends it to take a new place at the new pace. Time is
// the clock's, so a test's fake clock drives the limiter too.
func (p *pacer) wait(ctx context.Context, clock Clock) error {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.turn }()
	for {
		now := clock.Now()
		p.mu.Lock()
		d := p.pauseUntil.Sub(now)
		epoch := p.epoch
		var res *rate.Reservation
		if d <= 0 {
			res = p.lim.ReserveN(now, 1)
			d = res.DelayFrom(now)
		}
		p.mu.Unlock()
		if d <= 0 || (res != nil && d < waitSlack) {
			// A place due this soon is taken now: sleeps taken one after
			// another would each wake late and cap the pace.
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			if res != nil {
				res.CancelAt(clock.Now())
			}
			return ctx.Err()
		case <-epoch: // cut: take a new place at the new pace
			if res != nil {
				res.CancelAt(clock.Now())
			}
		case <-clock.After(d):
			if res != nil {
				return ctx.Err()
			}
		}
	}
}

// sent records an attempt leaving at now.
func (p *pacer) sent(now time.Time) {
	p.mu.Lock()
	p.advance(now)
	p.inflight++
	if !now.Before(p.pauseUntil) {
		p.logSend(now)
	}
	p.slotAt(now).sends++
	p.tick(now)
	p.mu.Unlock()
}

// settled records that one more row has its result.
func (p *pacer) settled() {
	p.mu.Lock()
	if p.left > 0 {
		p.left--
	}
	p.mu.Unlock()
}

// answer records the end of an attempt sent at sentAt: pushback cuts the
// pace (once per congestion event) and a Retry-After or exhausted quota
// pauses everyone; anything else lets it rise.
func (p *pacer) answer(now, sentAt time.Time, a Attempt) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(now)
	p.inflight--
	q := a.Quota
	if q.Known() {
		p.hdrSeen = true
		p.headerCap(q)
	}
	// A Retry-After, or the quota's reset once it is spent, pauses
	// everyone (for at most --max-backoff). Pushback that says when to
	// come back is the API's limit speaking; a bare refusal may be noise.
	pauseFor := a.RetryAfter
	if q.Remaining == 0 && q.Reset > 0 && pauseFor == 0 {
		pauseFor = q.Reset
	}
	if p.maxPause > 0 {
		pauseFor = min(pauseFor, p.maxPause)
	}
	explicit := pauseFor > 0
	push := explicit || refused(a)
	bare := push && !explicit
	aboveNoise := false
	if bare {
		p.slotAt(now).pushes++
		aboveNoise = p.noise == 0 || p.overNoise()
	}
	if explicit || aboveNoise {
		p.lastPush = now // no rise for a while
	}
	if a.HTTPStatus > 0 && !refused(a) {
		p.slotAt(now).answers++ // the API took this one: it counts toward what it allows
		p.secs.slot(now.Unix()).answers++
		if a.Outcome.Final() {
			p.observeLatency(a.Duration)
		}
	}
	if p.probe != nil && !sentAt.Before(p.probe.at) {
		p.probe.total++
		if bare {
			p.probe.pushes++
			if limited(a) {
				p.probe.limited++
			}
		}
	}
	if push && p.newEvent(sentAt, bare) && (explicit || p.congested(aboveNoise)) {
		if explicit {
			p.limitSeen = true // the API's word
		}
		p.cut(now, sentAt, bare, pauseFor)
	} else if p.probe != nil {
		p.judge(now)
	}
	if explicit { // after the cut, which reads when the last pause ended
		p.extendPause(now, pauseFor)
	}
	p.tick(now)
}

// newEvent reports whether pushback to a request sent at sentAt can be a
// new congestion event: the request left after the last cut, and, when
// that cut was blind and the refusal is bare, no sooner than the refusal
// that made the cut took to come back. The pace before a blind cut (far
// above the limit, it was refused at once) emptied the API's bucket, and
// the first requests at the new pace still find it empty: cutting for
// them again cut a 20/s limit asked for 7x from 140/s to 5/s instead of
// 17.5/s, and slow start from there read 10/s. A shard's refusals may
// come of the other shards' traffic, which its cut does not touch, so
// for a shard they stay new events (taken as the same one, two or four
// shards far above a bare-429 limit got 0.44-0.63 of it where they had
// 0.83-0.94).
func (p *pacer) newEvent(sentAt time.Time, bare bool) bool {
	if sentAt.Before(p.lastCut) {
		return false
	}
	return !(bare && p.sharers == 1 && sentAt.Before(p.lastCut.Add(p.blindFor)))
}

// congested reports whether a bare refusal (no Retry-After, no
// rate-limit headers at zero) of a request sent after the last cut is a
// new congestion event. While the last cut is on probation, only heavy
// pushback is; once refusals are known to come whatever the pace, only a
// share well above that (aboveNoise) is.
func (p *pacer) congested(aboveNoise bool) bool {
	if pr := p.probe; pr != nil {
		return pr.pushes >= 2 && float64(pr.pushes) >= stillAbove*float64(pr.total)
	}
	return aboveNoise
}

// overNoise reports whether the last seconds' pushback share is well
// above the share known to come whatever the pace.
func (p *pacer) overNoise() bool {
	_, answers, pushes, _ := p.recent(noiseSpan)
	n := float64(answers + pushes)
	if n < noiseMin {
		return false
	}
	// More than chance allows: two standard deviations of the count the
	// noise alone would give, and one more.
	expect := n * p.noise
	return float64(pushes) > expect+2*math.Sqrt(expect*(1-p.noise))+1
}

// judge decides the last cut once enough answers came back after it: a
// cut the pushback went on through at the same share is undone.
func (p *pacer) judge(now time.Time) {
	pr := p.probe
	need := judgeAnswers
	if pr.share > 0 {
		need = max(need, min(int(judgeExpect/pr.share), judgeMaxAnswers))
	}
	if pr.total < need || now.Sub(pr.at) < judgeActive {
		return
	}
	p.probe = nil
	share := float64(pr.pushes) / float64(pr.total)
	// What the cut can change is the share above the known noise.
	over := func(s float64) float64 { return math.Max(s-p.noise, 0) }
	if p.cur > cutMost*pr.before.cur && pr.pushes == 0 {
		// Too small a cut to tell, and nothing was refused after it: it
		// stands. One that pushback went on through is judged as any
		// other: otherwise each refusal that comes whatever the pace
		// (an API's random 503s) cut a level held for a while by a
		// few percent for good, and a slow pace, which sees few answers
		// between them, sank without end (2 % random 503s at 100 ms
		// answers took --rate 1050 down to 7/s).
		return
	}
	// Sharers on one limit keep it refusing after this one's cut: there
	// a cut that lowered the 429s by 30 % stands.
	helped := cutHelped
	if p.sharers > 1 && 2*pr.limited > pr.pushes {
		helped = cutHelpedShared
	}
	// A shard that reads the others' pace cut a share of the pool only,
	// and the others level off with it: 429s going on after it are the
	// shared limit still speaking. (Undone, the cut sent the shard back
	// to slow start, far above its share: eight shards on a limit
	// without Retry-After saw 5 % of their requests refused.)
	pooled := p.livePeers() > 0 && 2*pr.limited > pr.pushes
	if pooled || pr.pushes == 0 || over(share) < helped*over(pr.share) {
		// The cut helped; when the refusals stopped altogether, the API
		// has a limit.
		p.limitSeen = p.limitSeen || pr.pushes == 0
		return
	}
	if p.noise == 0 {
		p.noise = share
	} else {
		p.noise = (p.noise + share) / 2
	}
	p.undone++
	// Refusals at this share come whatever the pace: they say nothing of
	// a limit, so the pace rises again as at the start.
	b := pr.before
	p.slowStart, p.wmax, p.est, p.gap, p.grown = true, b.wmax, b.est, b.gap, b.grown
	p.closeSegment() // slow start no longer runs from the start or a pause's end
	if p.trace != nil {
		p.trace("%s undo cut %.1f -> %.1f: pushback %.1f%% after, %.1f%% before", now.Format("05.000"), p.cur, b.cur, share*100, pr.share*100)
	}
	p.set(b.cur)
}

// refused reports whether the API turned the request away: a 429 or a
// 503.
func refused(a Attempt) bool {
	return limited(a) || a.HTTPStatus == 503
}

// limited reports whether the answer is a 429, as the HTTP status or the
// envelope's code.
func limited(a Attempt) bool {
	return a.Outcome == RateLimited || a.HTTPStatus == 429
}

// extendPause makes every attempt wait until now+d: the latest time any
// answer named, never the sum.
func (p *pacer) extendPause(now time.Time, d time.Duration) {
	if t := now.Add(d); t.After(p.pauseUntil) {
		p.pauseUntil = t
		p.secs.reset(now.Unix())
		p.openSegment()
		// The API holds the pace from now on (no tick comes while
		// nothing is sent, and the one that ended the pause gave it all
		// to what held it before).
		p.account(now)
		p.held = HeldByAPI
	}
}

// headerCap takes the limit the rate-limit headers name as a cap: the
// pace goes straight to it, and never above.
func (p *pacer) headerCap(q Quota) {
	perSec := q.PerSecond()
	if perSec <= 0 {
		return
	}
	if perSec == p.hdrCap {
		return
	}
	// The limit the headers name is the key's: a shard of N starts at
	// its Nth (each going straight to the whole, four shards were
	// refused at once and cut blind to 1/s); when the limit changes
	// later, a shard may be running above its Nth, and is only kept
	// under the new limit.
	level := perSec
	if p.hdrCap == 0 || p.slowStart {
		level = perSec / float64(p.sharers)
	}
	p.hdrCap = perSec
	if p.cur > level || p.slowStart {
		p.slowStart = false
		p.wmax, p.gap, p.grown = level, 0, p.levelFor() // the cubic at the level, about to probe
		p.set(math.Max(p.floor, math.Min(level, p.ceiling)))
	}
}

// cut lowers the pace after pushback. With enough history it goes to
// just under the rate the API accepted (never above cutMost of the pace
// it pushed back at, or of what was really sent when that was less), and
// the cubic then levels off there. Without, it halves the pace (to an
// eighth when the pushback came at once) and starts slow start again from
// there, as TCP does after a loss it cannot measure; a shard levels off
// where shardLevel says instead, when it says.
// sentAt is when the request pushed back left; named is the pause the
// pushback asked for (its Retry-After, capped), 0 when none.
func (p *pacer) cut(now, sentAt time.Time, bare bool, named time.Duration) {
	since := now.Sub(p.lastCut)
	// The pace the last cut set came into force at the end of the pause
	// that came with it, if any: p.pauseUntil is still the last pause's.
	levelFrom := p.lastCut
	if p.pauseUntil.After(levelFrom) {
		levelFrom = p.pauseUntil
	}
	p.lastCut = now
	p.cuts++
	p.blindFor = 0
	// Pushback to a probe above where the last cut levelled off, or to a
	// level held for a while: either way the API's burst ran out slowly.
	gentle := !p.slowStart && p.wmax > 0 && (p.cur > p.wmax || now.Sub(levelFrom) >= estimateSpan)
	before := paceState{cur: p.cur, wmax: p.wmax, est: p.est, gap: p.gap, grown: p.grown, slowStart: p.slowStart}
	// The estimate looks back no further than the last cut, at most
	// estimateSpan (half a second in slow start, where the rate doubled
	// within a longer span), lengthened when that holds too few answers.
	span := estimateSpan
	if p.slowStart {
		span = slowStartSpan
	}
	span = min(span, since)
	sends, answers, pushes, active := p.recent(span)
	for answers < estimateMin && span < ringSlots*ringSlot {
		span = max(2*span, ringSlot)
		sends, answers, pushes, active = p.recent(span)
	}
	p.probe = nil
	// The rates come of whole slots, the newest in part, so the span is
	// up to a slot short; one not cut short by the last cut is taken
	// exactly instead, the oldest slot in part: a span that grows and
	// shrinks with where in its slot the cut falls moves a rising
	// pace's estimate by as much as the burst does.
	fsends, fanswers, factive := float64(sends), float64(answers), active
	if span < since {
		fsends, fanswers, factive = p.exact(span)
	}
	base := p.cur
	if factive > 0 {
		base = math.Min(base, fsends/factive)
	}
	if math.IsInf(base, 1) || base <= 0 {
		base = p.floor
	}
	// No answer comes back within the first latency after sending began
	// (at the start of the run, or at the end of a pause): when the span
	// reaches back that far, the answers it holds were sent over the rest.
	// (p.pauseUntil is still the last pause's end.)
	sincePause := !p.pauseUntil.IsZero() && now.Sub(p.pauseUntil) < span
	answered := factive
	if p.lat > 0 && (sincePause || now.Sub(p.begun) < span) {
		answered = math.Max(factive-p.lat.Seconds(), factive/2)
	}
	est, wait := 0.0, time.Duration(0)
	// Sending since the start of the run or the end of a pause, refused
	// with a Retry-After of a second: a token bucket full then took every
	// send before the refused one, and its limit follows from when they
	// left (bucket.go).
	fromBucket := false
	if r := p.bucketEstimate(sentAt, named); r > 0 {
		est, fromBucket = r, true
	}
	switch {
	case fromBucket:
	case since < estimateMinSpan && p.est > 0:
		est = p.est // pushed back again soon after a cut: the last estimate stands
	case active >= estimateMinSpan.Seconds() && answers >= estimateMin,
		active >= estimateFewSpan.Seconds() && answers >= estimateFew,
		active >= slowEstimateSpan.Seconds() && answers >= slowEstimateMin:
		// A Retry-After comes in whole seconds, so what the API lets
		// through comes back no sooner than a second before the time it
		// names: a fixed window's quota, spent in a burst, covers that
		// time too.
		wait = max(named-time.Second, 0)
		est = fanswers / (answered + wait.Seconds())
		if wait > 0 {
			est = math.Max(est, p.windowEstimate(wait))
		}
	}
	var next float64
	if est > 0 {
		// The least limit that fits, or a fit to two levels, has no
		// burst in it: neither a share off nor a cap below the pace that
		// was pushed back.
		next = math.Max(math.Min(est, p.cur), p.floor)
		if !fromBucket {
			// What the API accepted over a short span includes its
			// burst, so the estimate runs high; more so over slow
			// start's shorter span, and one that counts a Retry-After's
			// wait is the most the API may allow.
			share := cutToEstimate
			switch {
			case wait > 0:
				share = cutWaitShare
			case p.slowStart && sincePause:
				// Slow start from the end of a pause, when the API's
				// bucket was full again: over so short a span its whole
				// burst weighs, taken as worth burstTime at the limit.
				share = answered / (answered + burstTime.Seconds())
			case p.slowStart:
				share = slowStartShare
			}
			// A probe above the level that held rose slowly, and a level
			// held that long was barely above the limit: the burst ran
			// out slowly and weighs little in the estimate. Soon after a
			// cut, pushback may come of the burst alone.
			most := cutMost
			if gentle {
				most = cutGentle
			}
			next = math.Max(math.Min(est*share, base*most), p.floor)
		}
		// The cubic levels off at the pace cut to.
		p.wmax = next
		if p.slowStart && answers < estimateFew {
			// Few answers, while the pace was still rising: the rate the
			// API accepted may be well under its limit. Regain the way
			// to it.
			p.wmax = math.Max(next, math.Min(est, base))
		}
		p.slowStart = false
		p.gap, p.grown, p.est = p.wmax-next, 0, est
		// A measured cut on a bare refusal is judged; a blind one came
		// of heavy pushback, and one on a Retry-After of the API's word.
		if bare {
			p.probe = &cutProbe{at: now, before: before, share: float64(pushes) / float64(answers+pushes)}
		}
	} else if level := p.shardLevel(active); level > 0 {
		next = math.Max(level, p.floor)
		p.levelOffAt(next)
	} else {
		p.blindFor = now.Sub(sentAt)
		next = base * cutBlind
		if active < estimateMinSpan.Seconds() {
			// Pushed back at once: far above the limit, unless the pace
			// was still near where auto starts (a slow limit's burst of
			// one or two runs out at once too).
			next = math.Max(next*cutBlindAtOnce, math.Min(next, AutoStartRate/2))
		}
		next = math.Max(next, p.floor)
		p.slowStart = true
	}
	if c := cutToEstimate * p.pooledShare(now); c > 0 && c < next {
		// Shards that read one another's notes: what the API took from
		// all of them together is the limit, and this one's share of it
		// follows from its rows; its own estimate may count time when
		// the others paused.
		next = math.Max(c, p.floor)
		p.wmax = math.Min(p.wmax, next)
		p.gap = math.Max(p.wmax-next, 0)
	}
	if p.trace != nil {
		p.trace("%s cut %.1f -> %.1f: base %.1f est %.1f (sends %d answers %d over %.2fs, bucket %v)", now.Format("05.000"), p.cur, next, base, est, sends, answers, active, fromBucket)
	}
	p.set(next)
	close(p.epoch)
	p.epoch = make(chan struct{})
}

// tick raises the pace for the time since the last tick, when nothing
// holds it, and says what holds it otherwise.
func (p *pacer) tick(now time.Time) {
	if now.Sub(p.lastTick) < tickEvery {
		return // every send and answer calls tick: decide at most this often
	}
	from := p.lastTick
	if p.pauseUntil.After(from) {
		from = p.pauseUntil // no rise while paused
	}
	p.account(now)
	dt := min(max(now.Sub(from), 0), time.Second)
	sends, answers, _, active := p.recent(time.Second)
	use := 1.0
	if ri := p.rateIntegral(time.Second); ri > 0 && active >= 0.3 {
		use = float64(sends) / ri
	}
	switch {
	case now.Before(p.pauseUntil), !p.lastPush.IsZero() && now.Sub(p.lastPush) < time.Second:
		p.held = HeldByAPI
		return
	case sends > 0 && answers == 0 && active >= 0.3 && !p.answeredLately():
		p.held = p.unrisen() // attempts but no answer to go by: no reason to rise
		return
	case math.IsInf(p.cur, 1) || use < bindUse:
		p.held = p.unrisen()
		// Every request slot busy while the rate is not what holds sends
		// back: --concurrency binds.
		if p.busyAverage(time.Second) >= busyShare*float64(p.concurrency) {
			p.held = HeldByConcurrency
		}
		return
	case p.cur >= p.ceiling:
		p.held = p.ceilingBy
		return
	case p.hdrCap > 0 && p.cur >= p.hdrCap:
		p.held = HeldByAPI
		return
	case p.latencyHigh():
		p.held = HeldByLatency
		return
	}
	next := p.cur
	if p.slowStart {
		d := slowStartDouble
		if p.cur < 2*AutoStartRate && answers > 0 {
			d = slowStartFirst // the first doubling from where auto starts, once the API answers
		}
		next *= math.Exp2(float64(dt) / float64(d))
	} else {
		p.grown += dt
		next = math.Max(next, p.cubic(p.grown))
		if next > p.wmax && p.nearEnd() {
			next = math.Max(p.cur, p.wmax)
		}
	}
	if p.hdrCap > 0 {
		next = math.Min(next, p.hdrCap)
	}
	next = math.Min(next, p.ceiling)
	p.held = HeldByNothing
	if p.wmax > 0 && !p.slowStart && next <= nearLimit*p.wmax {
		p.held = HeldByAPI // regaining what the API was seen to allow, or probing just above it
	}
	p.set(next)
}

// account counts the time since the last tick for what held the pace.
func (p *pacer) account(now time.Time) {
	if now.After(p.lastTick) {
		p.heldFor[p.held] += now.Sub(p.lastTick)
		p.lastTick = now
	}
}

// unrisen is what holds a pace that does not rise for want of use:
// its ceiling when it is there (a --rate N run before any pushback),
// else nothing.
func (p *pacer) unrisen() HeldBy {
	if p.cur >= p.ceiling {
		return p.ceilingBy
	}
	return HeldByNothing
}

// nearEnd reports whether the rows left would be sent, at the pace
// now, sooner than a probe above the level could pay for the pause it
// risks: the gain lasts only as long as the run. A shard's probe may
// find the share of a shard that finished, up to N times its own, so it
// pays sooner.
func (p *pacer) nearEnd() bool {
	horizon := probeHorizon
	if p.sharers > 1 {
		horizon = shardHorizon / time.Duration(p.sharers)
	}
	return p.left >= 0 && float64(p.left) < p.cur*horizon.Seconds()
}

// answeredLately reports whether the whole history holds an answer: at
// the slowest pace the last one may be more than a second old.
func (p *pacer) answeredLately() bool {
	_, answers, _, _ := p.recent(ringSlots * ringSlot)
	return answers > 0
}

// shardLevel is where a shard refused before it could measure levels
// off, 0 for a lone process or when it has nothing to go by; slow start
// from a blind cut would measure the other shards' pauses again:
//   - refused within a quarter second of sending (after a pause or a
//     cut), reading the others' notes: its pace is its share of theirs,
//     a little too high, so just under its estimate;
//   - the same without notes: the pace it came back at was measured
//     while other shards paused and left it their shares (the last one
//     refused as they ramp up together reads nearly the whole limit).
//     Its own share lies between the estimate over N and the estimate:
//     it takes the least;
//   - told the key's limit by rate-limit headers: its Nth of that.
func (p *pacer) shardLevel(active float64) float64 {
	n := float64(p.sharers)
	atOnce := p.est > 0 && active < estimateMinSpan.Seconds()
	switch {
	case n == 1:
		return 0
	case atOnce && p.livePeers() > 0:
		return math.Min(p.est*cutToEstimate, p.cur*cutMost)
	case atOnce:
		return math.Min(p.est/n, p.cur)
	case p.hdrCap > 0:
		return math.Min(p.cur, p.hdrCap/n)
	}
	return 0
}

// levelOffAt has the cubic level off at r from now on, out of slow start.
func (p *pacer) levelOffAt(r float64) {
	p.slowStart = false
	p.wmax, p.gap, p.grown = r, 0, 0
}

// levelFor is how long after a cut the cubic levels off before it
// probes: probeAfter, or 2/N of it for a shard of N. Shards finish at
// different times, and the ones left must take up the share the others
// leave; a probe that fails costs one of them a pause, about 1/N of the
// whole. So each levels off for 2/N of the time and then probes N times
// as fast.
func (p *pacer) levelFor() time.Duration {
	return probeAfter * 2 / time.Duration(max(p.sharers, 2))
}

// cubic is CUBIC's window curve as a rate: from wmax-gap right after a
// cut, it regains the gap by probeAfter, stays near wmax, then rises ever
// faster to probe for more: 3 % above wmax probeAfter after the probe
// starts, 24 % after twice that.
func (p *pacer) cubic(t time.Duration) float64 {
	k := probeAfter.Seconds()
	k0, speed := p.levelFor().Seconds(), 1.0
	if n := float64(p.sharers); n > 1 {
		speed = n
	}
	x := t.Seconds() - k0
	if x < 0 {
		gap := math.Max(p.gap, 0.03*p.wmax)
		return p.wmax + gap*x*x*x/(k0*k0*k0)
	}
	x *= speed
	return p.wmax * (1 + 0.03*x*x*x/(k*k*k))
}

func (p *pacer) set(r float64) {
	if math.IsInf(p.cur, 1) && !math.IsInf(r, 1) {
		// A limiter leaving rate.Inf can be left with no count of its
		// tokens; a new one starts with a full bucket. Waiters reserve
		// under p.mu, so none holds the old one.
		p.lim = rate.NewLimiter(limitOf(r), p.lim.Burst())
	}
	p.cur = r
	p.lim.SetLimitAt(p.lastInt, limitOf(r))
	if r > p.highest {
		p.highest = r
	}
}

// observeLatency keeps a smoothed latency of definitive answers and its
// least value once a few have come in: the low-load figure.
func (p *pacer) observeLatency(d time.Duration) {
	p.latN++
	if p.latN == 1 {
		p.lat = d
	} else {
		p.lat += (d - p.lat) / 8
	}
	if p.latN >= 8 && (p.lowLat == 0 || p.lat < p.lowLat) {
		p.lowLat = p.lat
	}
}

// latencyHigh reports whether the API answers well above its low-load
// latency, discounting the delay of this process's own busy CPU.
func (p *pacer) latencyHigh() bool {
	if p.lowLat == 0 {
		return false
	}
	// A request waits on this process's CPU a few times (the writer,
	// the reader, the caller), so its own queueing counts thrice.
	lat := p.lat - 3*p.sched.delayAt(p.lastTick)
	return lat > latencyFactor*p.lowLat && lat > p.lowLat+latencyMargin
}

// advance moves the ring to now, integrating the pace and the requests in
// flight over the active (unpaused) time since the last call.
func (p *pacer) advance(now time.Time) {
	for p.lastInt.Before(now) {
		n := p.lastInt.UnixNano() / int64(ringSlot)
		end := time.Unix(0, (n+1)*int64(ringSlot))
		if end.After(now) {
			end = now
		}
		s := p.slotAt(p.lastInt)
		d := end.Sub(p.lastInt).Seconds()
		if !p.lastInt.Before(p.pauseUntil) {
			s.active += d
			p.secs.slot(p.lastInt.Unix()).active += d
			if !math.IsInf(p.cur, 1) {
				s.rateInt += p.cur * d
			}
		}
		s.busyInt += float64(p.inflight) * d
		p.lastInt = end
	}
}

// slotAt returns the tenth of a second of history that holds t.
func (p *pacer) slotAt(t time.Time) *slot {
	return p.ring.slot(t.UnixNano() / int64(ringSlot))
}

// windowEstimate is what a fixed window longer than estimateSpan allows:
// its quota, spent since it opened, covers the time since and the wait
// until its reset. It is the best of the rates over the spans since the
// last pause began (the window opened within it): a span reaching back
// before the window opened adds time the pace spent under the quota.
// 0 when no span is long enough.
func (p *pacer) windowEstimate(wait time.Duration) float64 {
	best, answers, active := 0.0, 0, 0.0
	for i := range secSlots {
		t := p.secs.back(i)
		answers += t.answers
		active += t.active
		if active > estimateSpan.Seconds() && answers >= estimateMin {
			best = math.Max(best, float64(answers)/(active+wait.Seconds()))
		}
	}
	return best
}

// recent sums the last span of history: attempts sent, answers the API
// took, bare refusals, and the active seconds.
func (p *pacer) recent(span time.Duration) (sends, answers, pushes int, active float64) {
	p.each(span, func(s *slot) {
		sends += s.sends
		answers += s.answers
		pushes += s.pushes
		active += s.active
	})
	return sends, answers, pushes, active
}

// exact sums exactly the last span of history: sends, answers the API
// took and active seconds, the oldest slot it reaches counted in part.
func (p *pacer) exact(span time.Duration) (sends, answers, active float64) {
	left := span
	length := p.lastInt.Sub(time.Unix(0, p.ring.at*int64(ringSlot))) // the newest slot, so far
	for i := 0; i < ringSlots && left > 0; i++ {
		s := p.ring.back(i)
		w := 1.0
		if length > left {
			w = float64(left) / float64(length)
		}
		sends += w * float64(s.sends)
		answers += w * float64(s.answers)
		active += w * s.active
		left -= length
		length = ringSlot
	}
	return sends, answers, active
}

func (p *pacer) rateIntegral(span time.Duration) (v float64) {
	p.each(span, func(s *slot) { v += s.rateInt })
	return v
}

func (p *pacer) busyAverage(span time.Duration) (busy float64) {
	p.each(span, func(s *slot) { busy += s.busyInt })
	return busy / span.Seconds()
}

func (p *pacer) each(span time.Duration, f func(*slot)) {
	for i := range min(int(span/ringSlot), ringSlots) {
		f(p.ring.back(i))
	}
}

// status is the pace now and what holds it.
func (p *pacer) status() (float64, HeldBy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur, p.held
}

// report says how the pace went.
func (p *pacer) report() RateReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	inf := func(r float64) float64 {
		if math.IsInf(r, 1) {
			return 0
		}
		return math.Round(r*10) / 10
	}
	// What held the pace longest: the end of a run, where rows run out,
	// says little. Refusals that turned out to be noise held it only
	// while they were judged: no limit was seen.
	noLimit := !p.limitSeen && p.hdrCap == 0 && p.noise > 0
	held := p.held
	if noLimit && held == HeldByAPI {
		held = HeldByNothing
	}
	for h, d := range p.heldFor {
		if noLimit && h == HeldByAPI {
			continue
		}
		if d > p.heldFor[held] || d == p.heldFor[held] && h < held {
			held = h
		}
	}
	r := RateReport{Auto: p.auto, Start: inf(p.start), Highest: inf(p.highest), Final: inf(p.cur),
		HeldBy: held, Cuts: p.cuts, Undone: p.undone, Noise: math.Round(p.noise*1000) / 1000,
		Headers: p.hdrSeen, Ceiling: inf(p.ceiling), Peers: p.peersMost}
	switch {
	case p.hdrCap > 0 && p.sharers > 1:
		// The headers name the key's limit; a shard's is its share: where
		// it levelled off, or the pace it ran at (a --rate under its
		// share, or alone at the end), never above the key's.
		r.Allowed = inf(math.Min(p.hdrCap, math.Max(p.wmax, p.cur)))
	case p.hdrCap > 0:
		r.Allowed = inf(p.hdrCap)
	case p.limitSeen && p.cur <= 1.1*p.wmax:
		// Well above where the last cut levelled off, the API let the
		// pace through: what it allows is not known.
		r.Allowed = inf(p.wmax)
	}
	return r
}
