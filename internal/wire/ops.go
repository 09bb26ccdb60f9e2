package wire

import (
	"time"

	"github.com/lanchat/lanchat/internal/keys"
)

// Operation names (requests).
const (
	OpHello         = "hello"
	OpPing          = "ping"
	OpRegister      = "register"
	OpLogin         = "login"
	OpResume        = "resume"
	OpLogout        = "logout"
	OpPasswd        = "passwd"
	OpProfileUpdate = "profile.update"
	OpPrekeyRotate  = "prekey.rotate"
	OpUsersSearch   = "users.search"
	OpKeysGet       = "keys.get"
	OpFriendRequest = "friend.request"
	OpFriendAccept  = "friend.accept"
	OpFriendReject  = "friend.reject"
	OpFriendRemove  = "friend.remove"
	OpFriendsList   = "friends.list"
	OpPresenceSet   = "presence.set"
	OpGroupCreate   = "group.create"
	OpGroupInvite   = "group.invite"
	OpGroupJoin     = "group.join"
	OpGroupLeave    = "group.leave"
	OpGroupKick     = "group.kick"
	OpGroupRename   = "group.rename"
	OpGroupDelete   = "group.delete"
	OpGroupMembers  = "group.members"
	OpGroupsList    = "groups.list"
	OpRelaySend     = "relay.send"
	OpRelayAck      = "relay.ack"
	// OpRelayDroppedAck acknowledges relay.dropped notices.
	OpRelayDroppedAck = "relay.dropped.ack"
	// OpAvatarGet fetches a related user's avatar.
	OpAvatarGet = "avatar.get"
)

// Event names (server-pushed).
const (
	EvSignedOut      = "signed_out"
	EvShutdown       = "shutdown"
	EvFriendRequest  = "friend.request"
	EvFriendAccepted = "friend.accepted"
	EvFriendRemoved  = "friend.removed"
	EvPresence       = "presence"
	EvKeyChanged     = "key.changed"
	EvRelay          = "relay"
	EvGroup          = "group"
	// EvRelayDropped tells a sender the relay dropped envelopes for good.
	EvRelayDropped = "relay.dropped"
	// EvProfile tells contacts that a user's display name or avatar
	// changed.
	EvProfile = "profile"
)

// Reasons carried by a RelayDrop.
const (
	DropExpired = "expired" // not acknowledged within the relay's retention
	DropRefused = "refused" // the recipient's daemon could not open it
)

// Presence states.
const (
	StatusOnline  = "online"
	StatusAway    = "away"
	StatusOffline = "offline"
)

// Group change kinds carried by EvGroup.
const (
	GroupInvited = "invited" // you were invited
	GroupJoined  = "joined"
	GroupLeft    = "left"
	GroupKicked  = "kicked"
	GroupRenamed = "renamed"
	GroupDeleted = "deleted"
	GroupOwner   = "owner" // ownership passed to Username
)

// Reasons carried by EvSignedOut.
const (
	SignedOutElsewhere = "signed_in_elsewhere"
	SignedOutDisabled  = "account_disabled"
)

// HelloRequest opens every connection.
type HelloRequest struct {
	Version int    `json:"version"`
	Client  string `json:"client,omitempty"`
}

// HelloResponse tells the client the server's limits.
type HelloResponse struct {
	Version     int    `json:"version"`
	Server      string `json:"server"`
	MaxFrame    int    `json:"max_frame"`
	HeartbeatMS int64  `json:"heartbeat_ms"` // send something at least this often
	MaxEnvelope int    `json:"max_envelope"`
}

// RegisterRequest creates an account and logs it in. KeyProof is
// keys.SignProof by the identity key for Username on this server: it
// shows the registrant holds the key it claims.
type RegisterRequest struct {
	Username    string            `json:"username"`
	Password    string            `json:"password"`
	DisplayName string            `json:"display_name,omitempty"`
	Email       string            `json:"email,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	IdentityKey []byte            `json:"identity_key"`
	Prekey      keys.SignedPrekey `json:"prekey"`
	KeyProof    []byte            `json:"key_proof"`
}

// LoginRequest logs in with a password. IdentityKey, Prekey and KeyProof,
// when set, replace the account's keys (a login from a new machine); they
// go together.
type LoginRequest struct {
	Username    string             `json:"username"`
	Password    string             `json:"password"`
	IdentityKey []byte             `json:"identity_key,omitempty"`
	Prekey      *keys.SignedPrekey `json:"prekey,omitempty"`
	KeyProof    []byte             `json:"key_proof,omitempty"`
}

// ResumeRequest logs in with a session token.
type ResumeRequest struct {
	Token string `json:"token"`
}

// Session is the reply to register, login and resume.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Profile   Profile   `json:"profile"`
}

// Profile is what the server knows about the logged-in user.
type Profile struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Avatar      string `json:"avatar,omitempty"` // AvatarID of the avatar, "" if none
}

// PasswdRequest changes the password; other sessions are revoked.
type PasswdRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// ProfileUpdateRequest changes the fields that are set; an empty string
// clears a field.
type ProfileUpdateRequest struct {
	DisplayName *string `json:"display_name,omitempty"`
	Email       *string `json:"email,omitempty"`
	Phone       *string `json:"phone,omitempty"`
	// Avatar, when present, replaces the avatar: a square JPEG of at
	// most 256 pixels a side, under 64 KiB (media.CheckAvatar); empty
	// removes it.
	Avatar *[]byte `json:"avatar,omitempty"`
}

// PrekeyRotateRequest publishes a new signed prekey.
type PrekeyRotateRequest struct {
	Prekey keys.SignedPrekey `json:"prekey"`
}

// UsersSearchRequest searches by username or display-name prefix.
type UsersSearchRequest struct {
	Query string `json:"query"`
	Limit int    `json:"limit,omitempty"`
}

// UserSummary is a search hit.
type UserSummary struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
}

// UsersSearchResponse lists search hits, sorted by username.
type UsersSearchResponse struct {
	Users []UserSummary `json:"users"`
}

// UserRequest names one user (keys.get, friend.*).
type UserRequest struct {
	Username string `json:"username"`
}

// KeysResponse is a user's published keys.
type KeysResponse struct {
	Username    string            `json:"username"`
	IdentityKey []byte            `json:"identity_key"`
	Prekey      keys.SignedPrekey `json:"prekey"`
}

// FriendRequestResponse says whether the request is pending or, because
// the other side had already asked, accepted at once.
type FriendRequestResponse struct {
	Status string `json:"status"` // "pending" or "accepted"
}

// Presence is a user's reachability as seen by friends and co-members.
type Presence struct {
	Username  string    `json:"username"`
	Status    string    `json:"status"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Endpoints []string  `json:"endpoints,omitempty"` // reported by the daemon
	Observed  string    `json:"observed,omitempty"`  // source address the server saw
}

// Friend is one entry of friends.list.
type Friend struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Avatar      string   `json:"avatar,omitempty"` // AvatarID, "" if none
	Presence    Presence `json:"presence"`
}

// FriendRequestInfo is a pending friend request.
type FriendRequestInfo struct {
	From        string    `json:"from"`
	To          string    `json:"to"`
	DisplayName string    `json:"display_name,omitempty"` // of the other side
	At          time.Time `json:"at"`
}

// FriendsListResponse lists friends and pending requests both ways.
type FriendsListResponse struct {
	Friends  []Friend            `json:"friends"`
	Incoming []FriendRequestInfo `json:"incoming"`
	Outgoing []FriendRequestInfo `json:"outgoing"`
}

// PresenceSetRequest reports the daemon's status and direct endpoints.
type PresenceSetRequest struct {
	Status    string   `json:"status"`
	Endpoints []string `json:"endpoints,omitempty"`
}

// GroupRequest names a group.
type GroupRequest struct {
	Group string `json:"group"`
}

// GroupUserRequest names a group and a user (invite, kick).
type GroupUserRequest struct {
	Group    string `json:"group"`
	Username string `json:"username"`
}

// GroupRenameRequest renames a group.
type GroupRenameRequest struct {
	Group string `json:"group"`
	Name  string `json:"name"`
}

// Group describes a group.
type Group struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Owner   string    `json:"owner"`
	Members int       `json:"members"`
	Created time.Time `json:"created"`
	// Room is set for a room (see rooms.go): anyone may find and join it.
	Room  bool   `json:"room,omitempty"`
	Topic string `json:"topic,omitempty"`
	// Rate is, for a room in groups.list, how many messages one member
	// may send to it a minute (room.post's budget), which members also
	// hold the copies that reach them directly to.
	Rate int `json:"rate,omitempty"`
}

// GroupInvite is a pending invitation.
type GroupInvite struct {
	Group Group     `json:"group"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

// GroupsListResponse lists my groups and my pending invitations.
type GroupsListResponse struct {
	Groups  []Group       `json:"groups"`
	Invites []GroupInvite `json:"invites"`
	// Rooms are the rooms I am in, by name.
	Rooms []Group `json:"rooms,omitempty"`
}

// Member is one group member with presence.
type Member struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Avatar      string   `json:"avatar,omitempty"` // AvatarID, "" if none
	Owner       bool     `json:"owner,omitempty"`
	Admin       bool     `json:"admin,omitempty"` // a room admin
	Presence    Presence `json:"presence"`
}

// GroupMembersResponse lists a group's members.
type GroupMembersResponse struct {
	Group   Group    `json:"group"`
	Members []Member `json:"members"`
}

// RelaySendRequest stores sealed envelopes, for one recipient or many (a
// group's fan-out is one request): 1 to MaxRelayBatch of them, their bytes
// together at most the server's frame limit. A request outside those
// bounds is malformed and closes the connection; each envelope is then
// checked on its own, and its result says what became of it.
type RelaySendRequest struct {
	Envelopes []RelayEnvelope `json:"envelopes"`
}

// RelayEnvelope is one sealed envelope of a relay.send batch.
type RelayEnvelope struct {
	To       string `json:"to"`
	ID       string `json:"id"` // 128-bit message id, 32 lower-case hex digits
	Envelope []byte `json:"envelope"`
}

// RelaySendResponse answers a relay.send batch once every stored envelope
// is committed: one result per envelope, in the request's order.
type RelaySendResponse struct {
	Results []RelaySendResult `json:"results"`
}

// RelaySendResult is what became of one envelope: Status "queued" (newly
// stored) or "duplicate" (already there: a resend), or Error when it was
// refused (not_friends, quota_exceeded, invalid, not_found…).
type RelaySendResult struct {
	Status string `json:"status,omitempty"`
	Error  *Error `json:"error,omitempty"`
}

// RelayRef names one relayed message: a message's identity is its sender
// and its id together.
type RelayRef struct {
	From string `json:"from"`
	ID   string `json:"id"`
}

// RelayAckRequest takes envelopes out of the relay: Acks the recipient has
// committed (to its history, or parked in its own store), Refused those it
// can never open, whose senders are then told (EvRelayDropped).
type RelayAckRequest struct {
	Acks    []RelayRef `json:"acks,omitempty"`
	Refused []RelayRef `json:"refused,omitempty"`
}

// RelayDrop tells a sender that the relay dropped its message to To for
// good, and why (DropExpired, DropRefused).
type RelayDrop struct {
	To     string    `json:"to"`
	ID     string    `json:"id"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// RelayDroppedEvent carries drop notices to the sender, oldest first.
type RelayDroppedEvent struct {
	Drops []RelayDrop `json:"drops"`
}

// RelayDropRef names one drop notice: the recipient and the message id.
type RelayDropRef struct {
	To string `json:"to"`
	ID string `json:"id"`
}

// RelayDroppedAckRequest acknowledges drop notices the sender recorded.
type RelayDroppedAckRequest struct {
	Drops []RelayDropRef `json:"drops"`
}

// Empty is the body of requests and responses that carry nothing.
type Empty struct{}

// SignedOutEvent tells a connection its session ended.
type SignedOutEvent struct {
	Reason string `json:"reason"`
}

// FriendEvent is the body of friend.request, friend.accepted and
// friend.removed.
type FriendEvent struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name,omitempty"`
	At          time.Time `json:"at"`
}

// KeyChangedEvent tells contacts that a user's published keys changed: a
// new identity key, or a new prekey (at every login and prekey.rotate), so
// that a sender may keep a contact's keys until this event says otherwise.
type KeyChangedEvent struct {
	Username    string             `json:"username"`
	IdentityKey []byte             `json:"identity_key"`
	Prekey      *keys.SignedPrekey `json:"prekey,omitempty"`
}

// RelayEvent is one stored envelope of a relay event.
type RelayEvent struct {
	ID       string    `json:"id"`
	From     string    `json:"from"`
	Envelope []byte    `json:"envelope"`
	At       time.Time `json:"at"`
}

// RelayBatchEvent is the body of a relay event: 1 to MaxRelayBatch stored
// envelopes, oldest first, answered together by one relay.ack.
type RelayBatchEvent struct {
	Envelopes []RelayEvent `json:"envelopes"`
}

// GroupEvent tells members about a change to a group.
type GroupEvent struct {
	Change   string `json:"change"`
	Group    Group  `json:"group"`
	Username string `json:"username,omitempty"` // who joined, left, was kicked, or is the new owner
	By       string `json:"by,omitempty"`
	OldName  string `json:"old_name,omitempty"`
}

// ShutdownEvent announces that the server is stopping.
type ShutdownEvent struct {
	Message string `json:"message"`
}

// AvatarResponse is a user's avatar (avatar.get): a square JPEG, and its
// AvatarID. A user without an avatar is answered with not_found.
type AvatarResponse struct {
	Username string `json:"username"`
	ID       string `json:"id"`
	Avatar   []byte `json:"avatar"`
}

// ProfileEvent tells a contact that a user's profile changed.
type ProfileEvent struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Avatar      string `json:"avatar,omitempty"` // AvatarID, "" if none
}
