package batch

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestVerdictCacheMatchesClassify: every envelope in testdata, with
// every status, classifies through the cache exactly as Classify does,
// on a miss and on a hit, also after eviction.
func TestVerdictCacheMatchesClassify(t *testing.T) {
	envs := readEnvelopes(t)
	var c verdictCache
	for round := range 3 { // the files outnumber the entries: later rounds evict
		for _, e := range envs {
			for _, status := range []int{200, 301, 400, 401, 404, 429, 500, 502} {
				want := Classify(status, e.body)
				for range 2 {
					if got := c.classify(status, e.body, nil); !reflect.DeepEqual(got, want) {
						t.Fatalf("round %d, %s, HTTP %d: cache %+v, Classify %+v", round, e.name, status, got, want)
					}
				}
			}
		}
	}
	if n := len(*c.entries.Load()); n != verdictCacheSize {
		t.Errorf("%d entries, want %d", n, verdictCacheSize)
	}
}

// TestVerdictCacheOwnsItsKeys: a cached body is a copy, so a caller that
// reuses its buffer cannot change what a later lookup matches.
func TestVerdictCacheOwnsItsKeys(t *testing.T) {
	var c verdictCache
	buf := []byte(`{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`)
	if v := c.classify(200, buf, nil); v.Outcome != Canceled {
		t.Fatal(v)
	}
	copy(buf, `{"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue."}`)
	want := Classify(200, buf)
	if got := c.classify(200, buf, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("after the buffer changed: %+v, want %+v", got, want)
	}
}

func TestVerdictCacheLongBody(t *testing.T) {
	var c verdictCache
	body := []byte(`{"responseCode":400,"message":"` + strings.Repeat("x", verdictCacheMaxBody) + `"}`)
	if got, want := c.classify(400, body, nil), Classify(400, body); !reflect.DeepEqual(got, want) {
		t.Errorf("%+v, want %+v", got, want)
	}
	if c.entries.Load() != nil {
		t.Error("a body over the limit was cached")
	}
}

// TestVerdictCacheConcurrent is for the race detector.
func TestVerdictCacheConcurrent(t *testing.T) {
	var c verdictCache
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				body := []byte(fmt.Sprintf(`{"responseCode":400,"message":"odd %d"}`, (g*7+i)%12))
				if got, want := c.classify(400, body, nil), Classify(400, body); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %+v, want %+v", body, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestVerdictCacheScrub: the scrub function applies on a miss and its
// result is what a hit returns.
func TestVerdictCacheScrub(t *testing.T) {
	var c verdictCache
	scrub := func(s string) string { return strings.ReplaceAll(s, "secret", "[redacted]") }
	body := []byte(`{"responseCode":400,"message":"odd secret"}`)
	for range 2 {
		if v := c.classify(400, body, scrub); v.Message != "odd [redacted]" {
			t.Fatalf("message %q", v.Message)
		}
	}
}
