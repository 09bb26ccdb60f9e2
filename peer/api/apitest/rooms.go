package apitest

import (
	"context"

	"github.com/lanchat/lanchat/peer/api"
)

// RoomFuncs are the function fields of the api.RoomService methods.
type RoomFuncs struct {
	RoomsFunc  func(ctx context.Context, query string) (api.Rooms, error)
	RoomFunc   func(ctx context.Context, req api.RoomRequest) (api.Group, error)
	OnlineFunc func(ctx context.Context, room string, all bool) (api.OnlineList, error)
}

// Rooms calls RoomsFunc.
func (s *Service) Rooms(ctx context.Context, query string) (api.Rooms, error) {
	if s.RoomsFunc == nil {
		return api.Rooms{}, unset("Rooms")
	}
	return s.RoomsFunc(ctx, query)
}

// Room calls RoomFunc.
func (s *Service) Room(ctx context.Context, req api.RoomRequest) (api.Group, error) {
	if s.RoomFunc == nil {
		return api.Group{}, unset("Room")
	}
	return s.RoomFunc(ctx, req)
}

// Online calls OnlineFunc.
func (s *Service) Online(ctx context.Context, room string, all bool) (api.OnlineList, error) {
	if s.OnlineFunc == nil {
		return api.OnlineList{}, unset("Online")
	}
	return s.OnlineFunc(ctx, room, all)
}
