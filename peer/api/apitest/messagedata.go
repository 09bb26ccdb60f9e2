package apitest

import (
	"context"

	"github.com/lanchat/lanchat/peer/api"
)

// MessageDataFuncs are the function fields of the api.MessageDataService
// methods.
type MessageDataFuncs struct {
	MediaDataFunc func(ctx context.Context, id string) (api.MediaData, error)
	VersionsFunc  func(ctx context.Context, id string) ([]api.Version, error)
}

// MediaData calls MediaDataFunc.
func (s *Service) MediaData(ctx context.Context, id string) (api.MediaData, error) {
	if s.MediaDataFunc == nil {
		return api.MediaData{}, unset("MediaData")
	}
	return s.MediaDataFunc(ctx, id)
}

// Versions calls VersionsFunc.
func (s *Service) Versions(ctx context.Context, id string) ([]api.Version, error) {
	if s.VersionsFunc == nil {
		return nil, unset("Versions")
	}
	return s.VersionsFunc(ctx, id)
}
