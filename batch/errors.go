package batch

import "errors"

// Errors that end a run or refuse to start one. Callers match them with
// errors.Is; the messages they wrap never contain the API key.
var (
	// ErrUnauthorized means the API rejected the key; the run stopped at
	// the first such answer.
	ErrUnauthorized = errors.New("the API rejected the key")
	// ErrTooManyFailures means the failure-rate rule tripped: more than
	// Config.MaxFailureRate of the IDs sent ended not final, once at least
	// Config.MinSample had a result.
	ErrTooManyFailures = errors.New("failure rate over the limit")
	// ErrWrongWorkspace means the wrong-workspace rule tripped: the first
	// answers (Config.MinSample of them, or every one in a shorter run)
	// all said "call not found", so the key likely belongs to another
	// workspace or the IDs came from the wrong column.
	ErrWrongWorkspace = errors.New("none of the IDs sent exists for this key")
	// ErrRecord means a result could not be recorded (the sink or
	// Config.BeforeSend failed): the run stopped sending at once.
	ErrRecord = errors.New("the results could not be recorded")
	// ErrUnreachable means nothing reached the API: every attempt of the
	// first IDs failed to connect and no attempt connected at all.
	ErrUnreachable = errors.New("nothing reaches the API")
	// ErrInterrupted means the caller's context ended the run early.
	ErrInterrupted = errors.New("interrupted")
	// ErrBaseURL means the API root URL is not acceptable.
	ErrBaseURL = errors.New("bad base URL")
)
