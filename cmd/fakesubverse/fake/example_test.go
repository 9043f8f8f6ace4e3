package fake_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
)

func Example() {
	s := fake.New(fake.Options{APIKey: "k"})
	s.Add("665f1c2e9b1d4a0012345678", fake.StatusQueued)
	ts := httptest.NewServer(s)
	defer ts.Close()

	for range 2 {
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/api/call/cancel/665f1c2e9b1d4a0012345678", nil)
		req.Header.Set("x-api-key", "k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	c, _ := s.Call("665f1c2e9b1d4a0012345678")
	fmt.Println(c.Status, c.Requests, c.Cancels)
	// Output:
	// 200 {"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}
	// 400 {"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue.","data":null}
	// call_canceled 2 1
}
