package apitest

import (
	"context"

	"github.com/lanchat/lanchat/peer/api"
)

// TimelineFuncs are the function fields of the api.TimelineService
// methods.
type TimelineFuncs struct {
	TypingFunc func(ctx context.Context, req api.TypingRequest) error
}

// Typing calls TypingFunc.
func (s *Service) Typing(ctx context.Context, req api.TypingRequest) error {
	if s.TypingFunc == nil {
		return unset("Typing")
	}
	return s.TypingFunc(ctx, req)
}
