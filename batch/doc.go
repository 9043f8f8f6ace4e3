// Package batch is the engine of bulkcancel: it reads a CSV of call IDs
// (ReadInput), decides which rows to send (NewPlan drops invalid IDs,
// duplicates, rows of other shards and rows an earlier report settled),
// and cancels the rest through the API (Run, with a Client), one Result
// per row. Run paces every attempt on one shared limiter that adapts to
// the API, retries what may succeed later, and stops the run on the
// conditions that make going on pointless (see the Err variables). Classify
// turns one HTTP answer into a Verdict, and so into an Outcome.
//
// The package takes everything as parameters: flags, environment, logging
// setup and terminals belong to cmd/bulkcancel, which drives it, and the
// report files to package report, which writes the Results.
package batch
