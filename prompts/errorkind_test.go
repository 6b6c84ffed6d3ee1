package prompts

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sashabaranov/go-openai"
)

func TestErrorKind(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("model classify: %w", ErrModelUnavailable), "breaker_open"},
		{fmt.Errorf("model classify: %w (8)", ErrModelBusy), "busy"},
		{&openai.APIError{HTTPStatusCode: 429}, "rate_limited"},
		{fmt.Errorf("wrapped: %w", &openai.RequestError{HTTPStatusCode: 503}), "server_error"},
		{&openai.APIError{HTTPStatusCode: 401}, "refused"},
		{noTime(0), "timeout"},
		{errNoChoices, "bad_reply"},
		{errors.New("dial tcp: connection refused"), "network"},
		{context.DeadlineExceeded, "timeout"},
	}
	for _, tt := range tests {
		if got := ErrorKind(tt.err); got != tt.want {
			t.Errorf("ErrorKind(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
