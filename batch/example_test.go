package batch_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
)

// Example cancels a slice of call IDs from a Go program, such as a
// migration script, here against a local stand-in for the API. IDs that
// cannot be sent, and repeats, are set aside first, as the command does;
// each Job keeps its place in the slice in Row. Results arrive in the
// order calls finish, so they are sorted by Row to be printed.
func Example() {
	api := fake.New(fake.Options{APIKey: "example-key"})
	api.Add("665f1c2e9b1d4a0000000001", fake.StatusQueued)
	api.Add("665f1c2e9b1d4a0000000002", fake.StatusQueued)
	api.Add("665f1c2e9b1d4a0000000003", fake.StatusCompleted)
	srv := httptest.NewServer(api)
	defer srv.Close()

	ids := []string{
		"665f1c2e9b1d4a0000000001",
		"665f1c2e9b1d4a0000000002",
		"665f1c2e9b1d4a0000000003",
		"665f1c2e9b1d4a0000000001",
		"665f1c2e9b1d4a00000000ff",
		"",
	}

	base, err := batch.ParseBaseURL(srv.URL + "/api") // https://api.subverseai.com/api for real
	if err != nil {
		fmt.Println(err)
		return
	}
	client := batch.NewClient(batch.NewHTTPClient(4), base, "example-key")

	var jobs []batch.Job
	first := map[string]int{}
	for i, id := range ids {
		row := i + 1
		if why := batch.CheckID(id); why != "" {
			fmt.Printf("row %d: not sent: %s\n", row, why)
			continue
		}
		if r, dup := first[id]; dup {
			fmt.Printf("row %d: not sent: same ID as row %d\n", row, r)
			continue
		}
		first[id] = row
		jobs = append(jobs, batch.Job{Row: row, ID: id})
	}

	cfg := batch.DefaultConfig()
	cfg.Concurrency = 4
	cfg.AutoRate, cfg.Rate = false, 50 // a ceiling: requests a second, retries included
	var results []batch.Result
	err = batch.Run(context.Background(), cfg, client, slices.Values(jobs), func(r batch.Result) error {
		results = append(results, r) // the sink is called from one goroutine
		return nil
	})
	if err != nil { // batch.ErrUnauthorized, ErrTooManyFailures, ErrWrongWorkspace, or the context ended
		fmt.Println(err)
		return
	}
	slices.SortFunc(results, func(a, b batch.Result) int { return a.Row - b.Row })
	for _, r := range results {
		fmt.Printf("row %d: %s final=%v attempts=%d\n", r.Row, r.Outcome, r.Final(), r.Attempts)
	}
	// Output:
	// row 4: not sent: same ID as row 1
	// row 6: not sent: empty ID
	// row 1: canceled final=true attempts=1
	// row 2: canceled final=true attempts=1
	// row 3: not_cancelable final=true attempts=1
	// row 5: not_found final=true attempts=1
}

// ExampleClassify shows that the envelope decides, not the HTTP status:
// an HTTP 200 carrying responseCode 401 is unauthorized, and only a body
// that is not an envelope falls back on the status.
func ExampleClassify() {
	for _, a := range []struct {
		status int
		body   string
	}{
		{200, `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`},
		{400, `{"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue.","data":null}`},
		{200, `{"responseCode":400,"message":"User call not found.","data":null}`},
		{200, `{"responseCode":401,"message":"Invalid API key","errorCode":"apiKeyInvalid","data":null}`},
		{200, `{"responseCode":503,"message":"Service unavailable","data":null}`},
		{502, `<html><body><h1>502 Bad Gateway</h1></body></html>`},
	} {
		v := batch.Classify(a.status, []byte(a.body))
		fmt.Printf("HTTP %d, responseCode %d: %s (final %v)\n", a.status, v.ResponseCode, v.Outcome, v.Outcome.Final())
	}
	// Output:
	// HTTP 200, responseCode 200: canceled (final true)
	// HTTP 400, responseCode 400: not_cancelable (final true)
	// HTTP 200, responseCode 400: not_found (final true)
	// HTTP 200, responseCode 401: unauthorized (final false)
	// HTTP 200, responseCode 503: server_error (final false)
	// HTTP 502, responseCode 0: server_error (final false)
}
