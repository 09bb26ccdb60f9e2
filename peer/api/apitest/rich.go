package apitest

import (
	"context"

	"github.com/lanchat/lanchat/peer/api"
)

// RichFuncs are the function fields of the api.RichService methods.
type RichFuncs struct {
	ReactFunc      func(ctx context.Context, id string, req api.ReactRequest) (api.Message, error)
	EditFunc       func(ctx context.Context, id string, req api.EditRequest) (api.Message, error)
	RecallFunc     func(ctx context.Context, id string) (api.Message, error)
	SettingsFunc   func(ctx context.Context) (api.Settings, error)
	SetSettingFunc func(ctx context.Context, name string, req api.SettingRequest) (api.Settings, error)
	MuteFunc       func(ctx context.Context, target string, muted bool) error
	MentionsFunc   func(ctx context.Context, limit int) ([]api.Message, error)
	SendMediaFunc  func(ctx context.Context, req api.SendMediaRequest) (api.SendResult, error)
	OpenMediaFunc  func(ctx context.Context, id string) (api.OpenResult, error)
}

// SendMedia calls SendMediaFunc.
func (s *Service) SendMedia(ctx context.Context, req api.SendMediaRequest) (api.SendResult, error) {
	if s.SendMediaFunc == nil {
		return api.SendResult{}, unset("SendMedia")
	}
	return s.SendMediaFunc(ctx, req)
}

// OpenMedia calls OpenMediaFunc.
func (s *Service) OpenMedia(ctx context.Context, id string) (api.OpenResult, error) {
	if s.OpenMediaFunc == nil {
		return api.OpenResult{}, unset("OpenMedia")
	}
	return s.OpenMediaFunc(ctx, id)
}

// Mute calls MuteFunc.
func (s *Service) Mute(ctx context.Context, target string, muted bool) error {
	if s.MuteFunc == nil {
		return unset("Mute")
	}
	return s.MuteFunc(ctx, target, muted)
}

// Mentions calls MentionsFunc.
func (s *Service) Mentions(ctx context.Context, limit int) ([]api.Message, error) {
	if s.MentionsFunc == nil {
		return nil, unset("Mentions")
	}
	return s.MentionsFunc(ctx, limit)
}

// React calls ReactFunc.
func (s *Service) React(ctx context.Context, id string, req api.ReactRequest) (api.Message, error) {
	if s.ReactFunc == nil {
		return api.Message{}, unset("React")
	}
	return s.ReactFunc(ctx, id, req)
}

// Edit calls EditFunc.
func (s *Service) Edit(ctx context.Context, id string, req api.EditRequest) (api.Message, error) {
	if s.EditFunc == nil {
		return api.Message{}, unset("Edit")
	}
	return s.EditFunc(ctx, id, req)
}

// Recall calls RecallFunc.
func (s *Service) Recall(ctx context.Context, id string) (api.Message, error) {
	if s.RecallFunc == nil {
		return api.Message{}, unset("Recall")
	}
	return s.RecallFunc(ctx, id)
}

// Settings calls SettingsFunc.
func (s *Service) Settings(ctx context.Context) (api.Settings, error) {
	if s.SettingsFunc == nil {
		return api.Settings{}, unset("Settings")
	}
	return s.SettingsFunc(ctx)
}

// SetSetting calls SetSettingFunc.
func (s *Service) SetSetting(ctx context.Context, name string, req api.SettingRequest) (api.Settings, error) {
	if s.SetSettingFunc == nil {
		return api.Settings{}, unset("SetSetting")
	}
	return s.SetSettingFunc(ctx, name, req)
}
