package apitest

import (
	"context"

	"github.com/lanchat/lanchat/peer/api"
)

// LibraryFuncs are the function fields of the api.LibraryService methods.
type LibraryFuncs struct {
	ShareAddFunc    func(ctx context.Context, req api.ShareAddRequest) (api.ShareList, error)
	SharesFunc      func(ctx context.Context, target string) (api.ShareList, error)
	ShareGetFunc    func(ctx context.Context, req api.ShareGetRequest) (api.ShareGetResult, error)
	ShareRemoveFunc func(ctx context.Context, target, id string) error
	ShareKeepFunc   func(ctx context.Context, req api.ShareKeepRequest) error
}

// ShareAdd calls ShareAddFunc.
func (s *Service) ShareAdd(ctx context.Context, req api.ShareAddRequest) (api.ShareList, error) {
	if s.ShareAddFunc == nil {
		return api.ShareList{}, unset("ShareAdd")
	}
	return s.ShareAddFunc(ctx, req)
}

// Shares calls SharesFunc.
func (s *Service) Shares(ctx context.Context, target string) (api.ShareList, error) {
	if s.SharesFunc == nil {
		return api.ShareList{}, unset("Shares")
	}
	return s.SharesFunc(ctx, target)
}

// ShareGet calls ShareGetFunc.
func (s *Service) ShareGet(ctx context.Context, req api.ShareGetRequest) (api.ShareGetResult, error) {
	if s.ShareGetFunc == nil {
		return api.ShareGetResult{}, unset("ShareGet")
	}
	return s.ShareGetFunc(ctx, req)
}

// ShareRemove calls ShareRemoveFunc.
func (s *Service) ShareRemove(ctx context.Context, target, id string) error {
	if s.ShareRemoveFunc == nil {
		return unset("ShareRemove")
	}
	return s.ShareRemoveFunc(ctx, target, id)
}

// ShareKeep calls ShareKeepFunc.
func (s *Service) ShareKeep(ctx context.Context, req api.ShareKeepRequest) error {
	if s.ShareKeepFunc == nil {
		return unset("ShareKeep")
	}
	return s.ShareKeepFunc(ctx, req)
}
