package api_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// check records a mismatch between what the service got and what the
// client sent.
func check(got, want any) error {
	if !reflect.DeepEqual(got, want) {
		return api.Errorf(api.CodeInvalid, "service got %#v, want %#v", got, want)
	}
	return nil
}

// TestRoundTrip calls every Client method through the real handler on a
// real socket, and checks that the arguments reach the Service and the
// results come back unchanged.
func TestRoundTrip(t *testing.T) {
	me := api.Me{Username: "alice", DisplayName: "Alice A.", Email: "a@example.com", Phone: "+1 555", Fingerprint: "ab12 cd34"}
	msgs := []api.Message{
		{ID: "01", Conversation: "#team", From: "bob", Text: "hi ünïcode\n<b>&", Sent: t0, State: "received", Via: api.ViaDirect},
		{ID: "02", Conversation: "#team", From: "alice", Text: "yo", Sent: t0.Add(time.Minute), Outgoing: true, State: "delivered", Via: api.ViaRelay},
	}
	group := api.Group{ID: "g1", Name: "team", Owner: "alice", Members: 3, Created: t0}

	tests := []struct {
		name  string
		setup func(s *apitest.Service)
		call  func(ctx context.Context, c *api.Client) (any, error)
		want  any
	}{
		{
			name: "Status",
			setup: func(s *apitest.Service) {
				s.StatusFunc = func(context.Context) (api.Status, error) {
					return api.Status{LoggedIn: true, Me: &me, Home: "/h", Server: "srv:7443", Fingerprint: "ff", ServerConnected: true, Listen: "0.0.0.0:4242", Peers: []string{"bob"}, Outbox: 2, Version: "dev"}, nil
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Status(ctx) },
			want: api.Status{LoggedIn: true, Me: &me, Home: "/h", Server: "srv:7443", Fingerprint: "ff", ServerConnected: true, Listen: "0.0.0.0:4242", Peers: []string{"bob"}, Outbox: 2, Version: "dev"},
		},
		{
			name: "Register",
			setup: func(s *apitest.Service) {
				s.RegisterFunc = func(_ context.Context, req api.RegisterRequest) (api.Me, error) {
					return me, check(req, api.RegisterRequest{Username: "alice", Password: "p\"w", DisplayName: "Alice A.", Email: "a@example.com", Phone: "+1 555"})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.Register(ctx, api.RegisterRequest{Username: "alice", Password: "p\"w", DisplayName: "Alice A.", Email: "a@example.com", Phone: "+1 555"})
			},
			want: me,
		},
		{
			name: "Login",
			setup: func(s *apitest.Service) {
				s.LoginFunc = func(_ context.Context, req api.LoginRequest) (api.Me, error) {
					return me, check(req, api.LoginRequest{Username: "alice", Password: "secret"})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.Login(ctx, api.LoginRequest{Username: "alice", Password: "secret"})
			},
			want: me,
		},
		{
			name:  "Logout",
			setup: func(s *apitest.Service) { s.LogoutFunc = func(context.Context) error { return nil } },
			call:  func(ctx context.Context, c *api.Client) (any, error) { return nil, c.Logout(ctx) },
			want:  nil,
		},
		{
			name: "Passwd",
			setup: func(s *apitest.Service) {
				s.PasswdFunc = func(_ context.Context, req api.PasswdRequest) error {
					return check(req, api.PasswdRequest{Old: "old", New: "new"})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return nil, c.Passwd(ctx, api.PasswdRequest{Old: "old", New: "new"})
			},
			want: nil,
		},
		{
			name: "SetProfile",
			setup: func(s *apitest.Service) {
				s.SetProfileFunc = func(_ context.Context, req api.ProfileRequest) (api.Me, error) {
					return me, check(req, api.ProfileRequest{DisplayName: ptr("Alice A."), Email: ptr("")})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.SetProfile(ctx, api.ProfileRequest{DisplayName: ptr("Alice A."), Email: ptr("")})
			},
			want: me,
		},
		{
			name: "SearchUsers",
			setup: func(s *apitest.Service) {
				s.SearchUsersFunc = func(_ context.Context, q string, limit int) ([]api.User, error) {
					return []api.User{{Username: "bob", DisplayName: "Bob"}}, check([]any{q, limit}, []any{"bo b&x=1", 7})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.SearchUsers(ctx, "bo b&x=1", 7) },
			want: []api.User{{Username: "bob", DisplayName: "Bob"}},
		},
		{
			name: "SearchUsersEmpty",
			setup: func(s *apitest.Service) {
				s.SearchUsersFunc = func(context.Context, string, int) ([]api.User, error) { return nil, nil }
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.SearchUsers(ctx, "zed", 0) },
			want: []api.User{},
		},
		{
			name: "Friends",
			setup: func(s *apitest.Service) {
				s.FriendsFunc = func(context.Context) ([]api.Friend, error) {
					return []api.Friend{{Username: "bob", Presence: api.Presence{Status: api.Offline, LastSeen: t0}, Verified: true, Held: true}}, nil
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Friends(ctx) },
			want: []api.Friend{{Username: "bob", Presence: api.Presence{Status: api.Offline, LastSeen: t0}, Verified: true, Held: true}},
		},
		{
			name: "FriendRequests",
			setup: func(s *apitest.Service) {
				s.FriendRequestsFunc = func(context.Context) (api.FriendRequests, error) {
					return api.FriendRequests{Incoming: []api.FriendRequest{{User: "carol", At: t0}}}, nil
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.FriendRequests(ctx) },
			want: api.FriendRequests{Incoming: []api.FriendRequest{{User: "carol", At: t0}}, Outgoing: []api.FriendRequest{}},
		},
		{
			name: "Friend",
			setup: func(s *apitest.Service) {
				s.FriendFunc = func(_ context.Context, action, user string) (api.FriendResult, error) {
					return api.FriendResult{Status: "pending"}, check([]string{action, user}, []string{"add", "bob/x#y"})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Friend(ctx, api.FriendAdd, "bob/x#y") },
			want: api.FriendResult{Status: "pending"},
		},
		{
			name: "Send",
			setup: func(s *apitest.Service) {
				s.SendFunc = func(_ context.Context, req api.SendRequest) (api.SendResult, error) {
					return api.SendResult{ID: "m1", Via: api.ViaPartial, Copies: map[string]string{"bob": "direct", "carol": "queued"}},
						check(req, api.SendRequest{Target: "#team", Text: "hello\u2028 \"world\""})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.Send(ctx, api.SendRequest{Target: "#team", Text: "hello\u2028 \"world\""})
			},
			want: api.SendResult{ID: "m1", Via: api.ViaPartial, Copies: map[string]string{"bob": "direct", "carol": "queued"}},
		},
		{
			name: "History",
			setup: func(s *apitest.Service) {
				s.HistoryFunc = func(_ context.Context, target string, limit int, search, before string) ([]api.Message, error) {
					return msgs, check([]any{target, limit, search, before}, []any{"#team", 20, "a b?c#d", "9f8e"})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.History(ctx, "#team", 20, "a b?c#d", "9f8e")
			},
			want: msgs,
		},
		{
			name: "Search",
			setup: func(s *apitest.Service) {
				s.SearchFunc = func(_ context.Context, text string, limit int) ([]api.Message, error) {
					return msgs[:1], check([]any{text, limit}, []any{"hi", 0})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Search(ctx, "hi", 0) },
			want: msgs[:1],
		},
		{
			name: "Recent",
			setup: func(s *apitest.Service) {
				s.RecentFunc = func(context.Context) ([]api.Conversation, error) {
					return []api.Conversation{{Target: "bob", Name: "bob", LastActivity: t0, Unread: 2, Preview: "yo"}}, nil
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Recent(ctx) },
			want: []api.Conversation{{Target: "bob", Name: "bob", LastActivity: t0, Unread: 2, Preview: "yo"}},
		},
		{
			name: "Groups",
			setup: func(s *apitest.Service) {
				s.GroupsFunc = func(context.Context) (api.Groups, error) {
					return api.Groups{Invites: []api.GroupInvite{{Group: group, By: "bob", At: t0}}}, nil
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Groups(ctx) },
			want: api.Groups{Groups: []api.Group{}, Invites: []api.GroupInvite{{Group: group, By: "bob", At: t0}}},
		},
		{
			name: "Group",
			setup: func(s *apitest.Service) {
				s.GroupFunc = func(_ context.Context, req api.GroupRequest) (api.Group, error) {
					return group, check(req, api.GroupRequest{Action: api.GroupKick, Name: "team", User: "mallory"})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.Group(ctx, api.GroupRequest{Action: api.GroupKick, Name: "team", User: "mallory"})
			},
			want: group,
		},
		{
			name: "GroupMembers",
			setup: func(s *apitest.Service) {
				s.GroupMembersFunc = func(_ context.Context, name string) (api.GroupMembers, error) {
					return api.GroupMembers{Group: group, Members: []api.Member{{Username: "alice", Owner: true, Presence: api.Presence{Status: api.Online}}}}, check(name, "#team")
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.GroupMembers(ctx, "#team") },
			want: api.GroupMembers{Group: group, Members: []api.Member{{Username: "alice", Owner: true, Presence: api.Presence{Status: api.Online}}}},
		},
		{
			name: "Verify",
			setup: func(s *apitest.Service) {
				s.VerifyFunc = func(_ context.Context, user string) (api.Verification, error) {
					return api.Verification{User: user, SafetyNumber: "12345 67890", Fingerprint: "ab01"}, check(user, "bob")
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Verify(ctx, "bob") },
			want: api.Verification{User: "bob", SafetyNumber: "12345 67890", Fingerprint: "ab01"},
		},
		{
			name: "VerifyConfirm",
			setup: func(s *apitest.Service) {
				s.ConfirmFunc = func(_ context.Context, user string, req api.KeyRequest) (api.Verification, error) {
					return api.Verification{User: user, SafetyNumber: "12345 67890", Fingerprint: req.Fingerprint, Verified: true}, nil
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.Confirm(ctx, "bob", api.KeyRequest{Fingerprint: "ab01"})
			},
			want: api.Verification{User: "bob", SafetyNumber: "12345 67890", Fingerprint: "ab01", Verified: true},
		},
		{
			name: "Trust",
			setup: func(s *apitest.Service) {
				s.TrustFunc = func(_ context.Context, user string, req api.KeyRequest) (api.Contact, error) {
					return api.Contact{Username: user}, check(req.Fingerprint, "ab01")
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.Trust(ctx, "bob", api.KeyRequest{Fingerprint: "ab01"})
			},
			want: api.Contact{Username: "bob"},
		},
		{
			name: "Rooms",
			setup: func(s *apitest.Service) {
				s.RoomsFunc = func(_ context.Context, query string) (api.Rooms, error) {
					return api.Rooms{Rooms: []api.Room{{Name: "coffee", Topic: "beans & brews", Owner: "alice", Members: 4, Online: 2, Joined: true, Created: t0},
						{Name: "lobby", Members: 9, Lobby: true, Banned: true}}, Truncated: true}, check(query, "co ffee&x")
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Rooms(ctx, "co ffee&x") },
			want: api.Rooms{Rooms: []api.Room{{Name: "coffee", Topic: "beans & brews", Owner: "alice", Members: 4, Online: 2, Joined: true, Created: t0},
				{Name: "lobby", Members: 9, Lobby: true, Banned: true}}, Truncated: true},
		},
		{
			name: "Room",
			setup: func(s *apitest.Service) {
				s.RoomFunc = func(_ context.Context, req api.RoomRequest) (api.Group, error) {
					return api.Group{Name: "coffee", Room: true, Topic: "t"}, check(req, api.RoomRequest{Action: api.RoomBan, Name: "#coffee", User: "mallory"})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) {
				return c.Room(ctx, api.RoomRequest{Action: api.RoomBan, Name: "#coffee", User: "mallory"})
			},
			want: api.Group{Name: "coffee", Room: true, Topic: "t"},
		},
		{
			name: "Online",
			setup: func(s *apitest.Service) {
				s.OnlineFunc = func(_ context.Context, room string, all bool) (api.OnlineList, error) {
					return api.OnlineList{Users: []api.OnlineUser{{Username: "bob", Friend: true, Presence: api.Presence{Status: api.Online}},
						{Username: "carol", Presence: api.Presence{Status: api.Offline, LastSeen: t0}}}}, check([]any{room, all}, []any{"coffee", true})
				}
			},
			call: func(ctx context.Context, c *api.Client) (any, error) { return c.Online(ctx, "coffee", true) },
			want: api.OnlineList{Users: []api.OnlineUser{{Username: "bob", Friend: true, Presence: api.Presence{Status: api.Online}},
				{Username: "carol", Presence: api.Presence{Status: api.Offline, LastSeen: t0}}}},
		},
	}

	svc := &apitest.Service{}
	d := startDaemon(t, svc)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(svc)
			got, err := tt.call(testContext(t), d.client)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s:\n got %s\nwant %s", tt.name, show(got), show(tt.want))
			}
		})
	}
}

func show(v any) string { return fmt.Sprintf("%#v", v) }
