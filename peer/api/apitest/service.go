// Package apitest provides a fake api.Service for testing clients of the
// daemon's local API (package api) without a daemon.
package apitest

import (
	"context"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// Service is an api.Service whose methods call the matching function
// field. A method whose field is nil fails with an *api.Error (code
// internal) naming it, so a test notices calls it did not expect. Events
// reach subscribers through Publish. The zero value is ready to use; set
// the fields before serving it.
type Service struct {
	StatusFunc         func(ctx context.Context) (api.Status, error)
	RegisterFunc       func(ctx context.Context, req api.RegisterRequest) (api.Me, error)
	LoginFunc          func(ctx context.Context, req api.LoginRequest) (api.Me, error)
	LogoutFunc         func(ctx context.Context) error
	FocusFunc          func(ctx context.Context, req api.FocusRequest) error
	PasswdFunc         func(ctx context.Context, req api.PasswdRequest) error
	SetProfileFunc     func(ctx context.Context, req api.ProfileRequest) (api.Me, error)
	SearchUsersFunc    func(ctx context.Context, query string, limit int) ([]api.User, error)
	FriendsFunc        func(ctx context.Context) ([]api.Friend, error)
	FriendRequestsFunc func(ctx context.Context) (api.FriendRequests, error)
	FriendFunc         func(ctx context.Context, action, user string) (api.FriendResult, error)
	SendFunc           func(ctx context.Context, req api.SendRequest) (api.SendResult, error)
	HistoryFunc        func(ctx context.Context, target string, limit int, search, before string) ([]api.Message, error)
	SearchFunc         func(ctx context.Context, text string, limit int) ([]api.Message, error)
	RecentFunc         func(ctx context.Context) ([]api.Conversation, error)
	GroupsFunc         func(ctx context.Context) (api.Groups, error)
	GroupFunc          func(ctx context.Context, req api.GroupRequest) (api.Group, error)
	GroupMembersFunc   func(ctx context.Context, name string) (api.GroupMembers, error)
	VerifyFunc         func(ctx context.Context, user string) (api.Verification, error)
	ConfirmFunc        func(ctx context.Context, user string, req api.KeyRequest) (api.Verification, error)
	TrustFunc          func(ctx context.Context, user string, req api.KeyRequest) (api.Contact, error)
	DoctorFunc         func(ctx context.Context) (api.Diagnosis, error)
	SendFileFunc       func(ctx context.Context, req api.SendFileRequest) (api.SendFileResult, error)
	TransfersFunc      func(ctx context.Context) ([]api.Transfer, error)
	TransferActionFunc func(ctx context.Context, id, action string, req api.AcceptRequest) (api.Transfer, error)
	PeersFunc          func(ctx context.Context) (api.LANPeers, error)
	RoomFuncs          // rooms.go
	AvatarFunc         func(ctx context.Context, user string) (api.Avatar, error)
	LibraryFuncs       // library.go
	RichFuncs          // rich.go
	TimelineFuncs      // timeline.go
	MessageDataFuncs   // messagedata.go

	mu   sync.Mutex
	subs map[chan api.Event]struct{}
}

var (
	_ api.Service        = (*Service)(nil)
	_ api.LibraryService = (*Service)(nil)
)

// subscriberBuffer is how far a subscriber may fall behind before it is
// dropped, as the daemon does.
const subscriberBuffer = 256

func unset(method string) error {
	return api.Errorf(api.CodeInternal, "apitest: %s is not set", method)
}

// Avatar calls AvatarFunc.
func (s *Service) Avatar(ctx context.Context, user string) (api.Avatar, error) {
	if s.AvatarFunc == nil {
		return api.Avatar{}, unset("Avatar")
	}
	return s.AvatarFunc(ctx, user)
}

// SendFile calls SendFileFunc.
func (s *Service) SendFile(ctx context.Context, req api.SendFileRequest) (api.SendFileResult, error) {
	if s.SendFileFunc == nil {
		return api.SendFileResult{}, unset("SendFile")
	}
	return s.SendFileFunc(ctx, req)
}

// Transfers calls TransfersFunc.
func (s *Service) Transfers(ctx context.Context) ([]api.Transfer, error) {
	if s.TransfersFunc == nil {
		return nil, unset("Transfers")
	}
	return s.TransfersFunc(ctx)
}

// TransferAction calls TransferActionFunc.
func (s *Service) TransferAction(ctx context.Context, id, action string, req api.AcceptRequest) (api.Transfer, error) {
	if s.TransferActionFunc == nil {
		return api.Transfer{}, unset("TransferAction")
	}
	return s.TransferActionFunc(ctx, id, action, req)
}

// Doctor calls DoctorFunc.
func (s *Service) Doctor(ctx context.Context) (api.Diagnosis, error) {
	if s.DoctorFunc == nil {
		return api.Diagnosis{}, unset("Doctor")
	}
	return s.DoctorFunc(ctx)
}

// Peers calls PeersFunc.
func (s *Service) Peers(ctx context.Context) (api.LANPeers, error) {
	if s.PeersFunc == nil {
		return api.LANPeers{}, unset("Peers")
	}
	return s.PeersFunc(ctx)
}

// Status calls StatusFunc.
func (s *Service) Status(ctx context.Context) (api.Status, error) {
	if s.StatusFunc == nil {
		return api.Status{}, unset("Status")
	}
	return s.StatusFunc(ctx)
}

// Register calls RegisterFunc.
func (s *Service) Register(ctx context.Context, req api.RegisterRequest) (api.Me, error) {
	if s.RegisterFunc == nil {
		return api.Me{}, unset("Register")
	}
	return s.RegisterFunc(ctx, req)
}

// Login calls LoginFunc.
func (s *Service) Login(ctx context.Context, req api.LoginRequest) (api.Me, error) {
	if s.LoginFunc == nil {
		return api.Me{}, unset("Login")
	}
	return s.LoginFunc(ctx, req)
}

// Focus calls FocusFunc.
func (s *Service) Focus(ctx context.Context, req api.FocusRequest) error {
	if s.FocusFunc == nil {
		return unset("Focus")
	}
	return s.FocusFunc(ctx, req)
}

// Logout calls LogoutFunc.
func (s *Service) Logout(ctx context.Context) error {
	if s.LogoutFunc == nil {
		return unset("Logout")
	}
	return s.LogoutFunc(ctx)
}

// Passwd calls PasswdFunc.
func (s *Service) Passwd(ctx context.Context, req api.PasswdRequest) error {
	if s.PasswdFunc == nil {
		return unset("Passwd")
	}
	return s.PasswdFunc(ctx, req)
}

// SetProfile calls SetProfileFunc.
func (s *Service) SetProfile(ctx context.Context, req api.ProfileRequest) (api.Me, error) {
	if s.SetProfileFunc == nil {
		return api.Me{}, unset("SetProfile")
	}
	return s.SetProfileFunc(ctx, req)
}

// SearchUsers calls SearchUsersFunc.
func (s *Service) SearchUsers(ctx context.Context, query string, limit int) ([]api.User, error) {
	if s.SearchUsersFunc == nil {
		return nil, unset("SearchUsers")
	}
	return s.SearchUsersFunc(ctx, query, limit)
}

// Friends calls FriendsFunc.
func (s *Service) Friends(ctx context.Context) ([]api.Friend, error) {
	if s.FriendsFunc == nil {
		return nil, unset("Friends")
	}
	return s.FriendsFunc(ctx)
}

// FriendRequests calls FriendRequestsFunc.
func (s *Service) FriendRequests(ctx context.Context) (api.FriendRequests, error) {
	if s.FriendRequestsFunc == nil {
		return api.FriendRequests{}, unset("FriendRequests")
	}
	return s.FriendRequestsFunc(ctx)
}

// Friend calls FriendFunc.
func (s *Service) Friend(ctx context.Context, action, user string) (api.FriendResult, error) {
	if s.FriendFunc == nil {
		return api.FriendResult{}, unset("Friend")
	}
	return s.FriendFunc(ctx, action, user)
}

// Send calls SendFunc.
func (s *Service) Send(ctx context.Context, req api.SendRequest) (api.SendResult, error) {
	if s.SendFunc == nil {
		return api.SendResult{}, unset("Send")
	}
	return s.SendFunc(ctx, req)
}

// History calls HistoryFunc.
func (s *Service) History(ctx context.Context, target string, limit int, search, before string) ([]api.Message, error) {
	if s.HistoryFunc == nil {
		return nil, unset("History")
	}
	return s.HistoryFunc(ctx, target, limit, search, before)
}

// Search calls SearchFunc.
func (s *Service) Search(ctx context.Context, text string, limit int) ([]api.Message, error) {
	if s.SearchFunc == nil {
		return nil, unset("Search")
	}
	return s.SearchFunc(ctx, text, limit)
}

// Recent calls RecentFunc.
func (s *Service) Recent(ctx context.Context) ([]api.Conversation, error) {
	if s.RecentFunc == nil {
		return nil, unset("Recent")
	}
	return s.RecentFunc(ctx)
}

// Groups calls GroupsFunc.
func (s *Service) Groups(ctx context.Context) (api.Groups, error) {
	if s.GroupsFunc == nil {
		return api.Groups{}, unset("Groups")
	}
	return s.GroupsFunc(ctx)
}

// Group calls GroupFunc.
func (s *Service) Group(ctx context.Context, req api.GroupRequest) (api.Group, error) {
	if s.GroupFunc == nil {
		return api.Group{}, unset("Group")
	}
	return s.GroupFunc(ctx, req)
}

// GroupMembers calls GroupMembersFunc.
func (s *Service) GroupMembers(ctx context.Context, name string) (api.GroupMembers, error) {
	if s.GroupMembersFunc == nil {
		return api.GroupMembers{}, unset("GroupMembers")
	}
	return s.GroupMembersFunc(ctx, name)
}

// Verify calls VerifyFunc.
func (s *Service) Verify(ctx context.Context, user string) (api.Verification, error) {
	if s.VerifyFunc == nil {
		return api.Verification{}, unset("Verify")
	}
	return s.VerifyFunc(ctx, user)
}

// Confirm calls ConfirmFunc.
func (s *Service) Confirm(ctx context.Context, user string, req api.KeyRequest) (api.Verification, error) {
	if s.ConfirmFunc == nil {
		return api.Verification{}, unset("Confirm")
	}
	return s.ConfirmFunc(ctx, user, req)
}

// Trust calls TrustFunc.
func (s *Service) Trust(ctx context.Context, user string, req api.KeyRequest) (api.Contact, error) {
	if s.TrustFunc == nil {
		return api.Contact{}, unset("Trust")
	}
	return s.TrustFunc(ctx, user, req)
}

// Subscribe returns a channel that receives what Publish sends until ctx
// ends, the subscriber falls behind or CloseSubscriptions is called.
func (s *Service) Subscribe(ctx context.Context) <-chan api.Event {
	ch := make(chan api.Event, subscriberBuffer)
	s.mu.Lock()
	if s.subs == nil {
		s.subs = make(map[chan api.Event]struct{})
	}
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(ctx, func() { s.drop(ch) })
	return ch
}

func (s *Service) drop(ch chan api.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subs[ch]; ok {
		delete(s.subs, ch)
		close(ch)
	}
}

// Publish sends ev to every subscriber, stamping its time if unset. A
// subscriber whose buffer is full is dropped.
func (s *Service) Publish(ev api.Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- ev:
		default:
			delete(s.subs, ch)
			close(ch)
		}
	}
}

// Subscribers is the number of live subscriptions.
func (s *Service) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// WaitSubscribers waits until at least n subscriptions are live, or ctx
// ends.
func (s *Service) WaitSubscribers(ctx context.Context, n int) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.Subscribers() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// CloseSubscriptions ends every subscription, as a daemon that stops
// does.
func (s *Service) CloseSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		delete(s.subs, ch)
		close(ch)
	}
}
